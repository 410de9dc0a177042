"""Ed25519 keys: the only module of assay that touches ``cryptography``.

The private key is a PEM (PKCS#8, unencrypted) file created on first use with
mode 0600 in a 0700 directory.  A key is named by its *key id*: the SHA-256 of
the 32 raw public-key bytes, in lowercase hex.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from assay.auditlog.errors import AuditLogError

_MAX_KEY_FILE = 64 * 1024


def _key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True, slots=True)
class Verifier:
    """Checks Ed25519 signatures made by one key."""

    public_key: Ed25519PublicKey = field(repr=False)
    key_id: str

    @classmethod
    def from_pem(cls, data: bytes, source: str = "public key") -> Verifier:
        """A verifier from a PEM public key (SubjectPublicKeyInfo) or a PEM private key."""
        try:
            if b"PRIVATE KEY" in data:
                private = serialization.load_pem_private_key(data, password=None)
                loaded: object = private.public_key()
            else:
                loaded = serialization.load_pem_public_key(data)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise AuditLogError(f"{source}: not a PEM Ed25519 key ({_reason(exc)})") from None
        if not isinstance(loaded, Ed25519PublicKey):
            raise AuditLogError(f"{source}: not an Ed25519 key ({type(loaded).__name__})")
        return cls(loaded, _key_id(loaded))

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` is this key's signature of ``data``."""
        try:
            self.public_key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def public_key_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")


@dataclass(frozen=True, slots=True)
class Signer:
    """Signs with one Ed25519 private key."""

    private_key: Ed25519PrivateKey = field(repr=False)
    key_id: str

    @classmethod
    def generate(cls) -> Signer:
        key = Ed25519PrivateKey.generate()
        return cls(key, _key_id(key.public_key()))

    @classmethod
    def from_pem(cls, data: bytes, source: str = "private key") -> Signer:
        try:
            loaded = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise AuditLogError(
                f"{source}: not an unencrypted PEM Ed25519 private key ({_reason(exc)})"
            ) from None
        if not isinstance(loaded, Ed25519PrivateKey):
            raise AuditLogError(f"{source}: not an Ed25519 private key ({type(loaded).__name__})")
        return cls(loaded, _key_id(loaded.public_key()))

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)

    def verifier(self) -> Verifier:
        public = self.private_key.public_key()
        return Verifier(public, _key_id(public))

    def public_key_pem(self) -> str:
        return self.verifier().public_key_pem()

    def private_key_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.rstrip(".")


def _read_key_file(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise AuditLogError(f"{path}: cannot read key file: {exc.strerror or exc}") from None
    if len(data) > _MAX_KEY_FILE:
        raise AuditLogError(f"{path}: not a key file (larger than {_MAX_KEY_FILE} bytes)")
    return data


def _warn_if_exposed(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        sys.stderr.write(
            f"assay: warning: {path}: private key is readable by others "
            f"(mode {stat.S_IMODE(mode):04o}); run 'chmod 600 {path}'\n"
        )


def load_signer(path: Path) -> Signer:
    """The private key at ``path``; an :class:`AuditLogError` if it is missing or not one."""
    if not path.exists():
        raise AuditLogError(f"{path}: no signing key (it is created by the first logged decision)")
    signer = Signer.from_pem(_read_key_file(path), str(path))
    _warn_if_exposed(path)
    return signer


def load_verifier(path: Path) -> Verifier:
    """The public key in the PEM file at ``path`` (a private key PEM is accepted too)."""
    if not path.exists():
        raise AuditLogError(f"{path}: no such public key file")
    return Verifier.from_pem(_read_key_file(path), str(path))


def load_or_create_signer(path: Path) -> Signer:
    """The private key at ``path``, generated and written (0600, atomically) on first use."""
    if path.exists():
        return load_signer(path)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise AuditLogError(f"{path}: cannot create key directory: {exc.strerror or exc}") from None
    signer = Signer.generate()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(signer.private_key_pem())
            handle.flush()
            os.fsync(handle.fileno())
        # link() fails if another process created the key meanwhile: then use theirs
        os.link(tmp, path)
    except FileExistsError:
        return load_signer(path)
    except OSError as exc:
        raise AuditLogError(f"{path}: cannot write key file: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return signer
