"""Ed25519 keys: created on first use with safe modes, refused when corrupt or of another type."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from assay.auditlog.errors import AuditLogError
from assay.auditlog.keys import (
    Signer,
    Verifier,
    load_or_create_signer,
    load_signer,
    load_verifier,
)
from tests.auditlog.support import TEST_KEY, TEST_PUBLIC_KEY, test_signer


def test_missing_key_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "nested" / "signing.pem"
    signer = load_or_create_signer(path)
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_or_create_signer(path).key_id == signer.key_id
    assert [p.name for p in path.parent.iterdir()] == ["signing.pem"]  # no temporary left


def test_key_id_is_the_sha256_of_the_raw_public_key() -> None:
    signer = test_signer()
    raw = signer.private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert signer.key_id == hashlib.sha256(raw).hexdigest()
    assert Verifier.from_pem(TEST_PUBLIC_KEY.read_bytes()).key_id == signer.key_id


def test_sign_and_verify() -> None:
    signer = test_signer()
    verifier = load_verifier(TEST_PUBLIC_KEY)
    signature = signer.sign(b"payload")
    assert verifier.verify(signature, b"payload")
    assert not verifier.verify(signature, b"payloae")
    assert not Signer.generate().verifier().verify(signature, b"payload")


def test_public_key_pem_round_trips() -> None:
    signer = test_signer()
    assert signer.public_key_pem() == TEST_PUBLIC_KEY.read_text()
    assert load_verifier(TEST_KEY).key_id == signer.key_id  # a private PEM works too


@pytest.mark.parametrize(
    "content",
    [
        b"garbage\n",
        b"",
        b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n",
        TEST_PUBLIC_KEY.read_bytes(),
    ],
    ids=["garbage", "empty", "truncated-pem", "public-key-only"],
)
def test_corrupt_key_file_is_one_line_naming_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(AuditLogError) as caught:
        load_or_create_signer(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 3
    assert path.read_bytes() == content  # never replaced


def test_key_of_another_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ec.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(AuditLogError, match="not an Ed25519 private key"):
        load_signer(path)
    with pytest.raises(AuditLogError, match="not an Ed25519 key"):
        load_verifier(path)


def test_encrypted_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "enc.pem"
    path.write_bytes(
        test_signer().private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(AuditLogError, match=f"^{path}: not an unencrypted PEM"):
        load_signer(path)


def test_unreadable_key_path(tmp_path: Path) -> None:
    with pytest.raises(AuditLogError, match="cannot read key file"):
        load_or_create_signer(tmp_path)  # a directory
    with pytest.raises(AuditLogError, match="no signing key"):
        load_signer(tmp_path / "absent.pem")
    with pytest.raises(AuditLogError, match="no such public key file"):
        load_verifier(tmp_path / "absent.pub")


def test_key_readable_by_others_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(TEST_KEY.read_bytes())
    path.chmod(0o644)
    assert load_signer(path).key_id == test_signer().key_id
    assert "readable by others (mode 0644)" in capsys.readouterr().err
    path.chmod(0o600)
    load_signer(path)
    assert capsys.readouterr().err == ""
