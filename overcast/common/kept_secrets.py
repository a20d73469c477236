"""Secrets a cloud generates on first start and keeps in DATA_DIR/secrets.json (mode 0600)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path


def kept(data_dir: Path, *keys: str) -> dict[str, str]:
    """The values of ``keys``; the missing ones are generated now and kept for later starts."""
    path = data_dir / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [key for key in keys if key not in stored]
    for key in missing:
        stored[key] = secrets.token_urlsafe(18)
    if missing:
        data_dir.mkdir(parents=True, exist_ok=True)
        write_private(path, json.dumps(stored, indent=2) + "\n")
    return {key: stored[key] for key in keys}


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by its owner only."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
