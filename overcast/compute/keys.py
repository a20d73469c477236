"""SSH and x509 key pairs: checking public keys, fingerprints, and making new pairs."""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from overcast.common.api.errors import BadRequest


@dataclass(frozen=True)
class NewKeyPair:
    private_key: str
    public_key: str
    fingerprint: str


def _colons(digest: bytes) -> str:
    return ":".join(f"{byte:02x}" for byte in digest)


def fingerprint(public_key: str, key_type: str) -> str:
    """The fingerprint Nova shows: md5 of an SSH key's blob, or sha1 of a certificate's DER.

    :raises BadRequest: when the key cannot be read.
    """
    if key_type == "x509":
        try:
            cert = x509.load_pem_x509_certificate(public_key.encode())
        except ValueError:
            raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
        return _colons(cert.fingerprint(hashes.SHA1()))  # Nova's definition
    try:
        serialization.load_ssh_public_key(public_key.strip().encode())
        blob = base64.b64decode(public_key.split()[1], validate=True)
    except (ValueError, IndexError, binascii.Error, TypeError):
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
    return _colons(hashlib.md5(blob, usedforsecurity=False).digest())


def generate(key_type: str, user_id: str) -> NewKeyPair:
    """A new RSA key pair (2048 bits), its public half as OpenSSH text or a certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    if key_type == "x509":
        public = _certificate(key, user_id)
    else:
        ssh = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        public = ssh.decode() + " Generated-by-Overcast"
    return NewKeyPair(private, public, fingerprint(public, key_type))


def _certificate(key: rsa.RSAPrivateKey, user_id: str) -> str:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id or "overcast")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()
