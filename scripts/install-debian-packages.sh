#!/usr/bin/env bash
# Installs the Debian packages Overcast needs (wrk drives the benchmarks, qemu-img makes test disks), if any are missing. Idempotent and quiet
# when everything is present; needs root (or sudo) only when something must be installed.
set -euo pipefail

PACKAGES=(python3 python3-venv python3-dev gcc make git curl wrk qemu-utils)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# A Python with a working venv module (e.g. pyenv's) makes python3-venv unnecessary.
if python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing=("${missing[@]/python3-venv}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
