"""DSSE PAE (the spec's test vector), in-toto statements of promotions, signed envelopes."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from assay.auditlog.attestation import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    pae,
    promotion_statement,
    sign_envelope,
    verify_envelope,
)
from assay.auditlog.errors import AuditLogError, VerificationError
from assay.auditlog.keys import Signer
from tests.auditlog.support import AUDITLOG_ASSETS, build_log, test_signer

# The DSSE protocol's test vector (protocol.md, "Test Vectors"): ECDSA P-256, SHA-256,
# signature as raw r || s.
SPEC_TYPE = "http://example.com/HelloWorld"
SPEC_BODY = b"hello world"
SPEC_PAE = b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
SPEC_X = 46950820868899156662930047687818585632848591499744589407958293238635476079160
SPEC_Y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
SPEC_SIG = (
    "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="
)


def test_pae_matches_the_spec_example() -> None:
    assert pae(SPEC_TYPE, SPEC_BODY) == SPEC_PAE


def test_the_spec_signature_verifies_over_our_pae() -> None:
    public = ec.EllipticCurvePublicNumbers(SPEC_X, SPEC_Y, ec.SECP256R1()).public_key()
    raw = base64.b64decode(SPEC_SIG)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, pae(SPEC_TYPE, SPEC_BODY), ec.ECDSA(hashes.SHA256()))  # raises if not


def test_pae_counts_bytes_not_characters() -> None:
    assert pae("tÿpe", "é".encode()) == "DSSEv1 5 tÿpe 2 é".encode()
    assert pae("", b"") == b"DSSEv1 0  0 "


def _promotion_entry(tmp_path: Path) -> Any:
    log = build_log(tmp_path, entries=3)
    return list(log.entries())[1]


def _golden(name: str, document: dict[str, Any]) -> None:
    path = AUDITLOG_ASSETS / name
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("ASSAY_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_promotion_statement_golden(tmp_path: Path) -> None:
    entry = _promotion_entry(tmp_path)
    statement = promotion_statement(entry)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == PREDICATE_TYPE
    assert statement["subject"] == [{"name": "uv.lock", "digest": {"sha256": "3f" * 32}}]
    assert statement["predicate"]["auditLog"] == {
        "seq": 2,
        "hash": entry.hash,
        "keyId": entry.key_id,
    }
    _golden("promotion-statement.json", statement)


def test_promotion_envelope_golden(tmp_path: Path) -> None:
    envelope = sign_envelope(promotion_statement(_promotion_entry(tmp_path)), test_signer())
    assert envelope["payloadType"] == PAYLOAD_TYPE
    _golden("promotion-envelope.json", envelope)  # Ed25519 signatures are deterministic


def test_envelope_verifies_and_returns_the_statement(tmp_path: Path) -> None:
    statement = promotion_statement(_promotion_entry(tmp_path))
    envelope = sign_envelope(statement, test_signer())
    assert verify_envelope(envelope, test_signer().verifier()) == statement
    signature = base64.b64decode(envelope["signatures"][0]["sig"])
    payload = base64.b64decode(envelope["payload"])
    assert test_signer().verifier().verify(signature, pae(PAYLOAD_TYPE, payload))


def _urlsafe(envelope: dict[str, Any]) -> dict[str, Any]:
    def convert(text: str) -> str:
        return base64.urlsafe_b64encode(base64.b64decode(text)).decode().rstrip("=")

    sig = envelope["signatures"][0]
    return {
        **envelope,
        "payload": convert(envelope["payload"]),
        "signatures": [{**sig, "sig": convert(sig["sig"])}],
    }


def test_url_safe_base64_is_accepted(tmp_path: Path) -> None:
    envelope = sign_envelope(promotion_statement(_promotion_entry(tmp_path)), test_signer())
    assert verify_envelope(_urlsafe(envelope), test_signer().verifier())["_type"]


def _tampered_payload(envelope: dict[str, Any]) -> dict[str, Any]:
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["promotedBy"] = "mallory"
    payload = base64.b64encode(json.dumps(statement).encode()).decode()
    return {**envelope, "payload": payload}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_tampered_payload, "no valid signature"),
        (lambda e: {**e, "payloadType": "application/json"}, "payloadType"),
        (lambda e: {**e, "signatures": []}, "no signatures"),
        (lambda e: {**e, "payload": "%%%"}, "not base64"),
        (
            lambda e: {**e, "signatures": [{**e["signatures"][0], "keyid": "someone-else"}]},
            "no valid signature",
        ),
    ],
    ids=["payload", "payload-type", "no-signatures", "bad-base64", "other-keyid"],
)
def test_tampered_envelopes_are_refused(tmp_path: Path, change, message: str) -> None:
    envelope = sign_envelope(promotion_statement(_promotion_entry(tmp_path)), test_signer())
    with pytest.raises(VerificationError, match=message) as caught:
        verify_envelope(change(envelope), test_signer().verifier())
    assert caught.value.exit_code == 1


def test_another_key_does_not_verify(tmp_path: Path) -> None:
    envelope = sign_envelope(promotion_statement(_promotion_entry(tmp_path)), Signer.generate())
    with pytest.raises(VerificationError):
        verify_envelope(envelope, test_signer().verifier())


def test_only_promotions_are_attested(tmp_path: Path) -> None:
    decision = next(iter(build_log(tmp_path, entries=1).entries()))
    with pytest.raises(AuditLogError, match="seq 1 is a decision, not a promotion"):
        promotion_statement(decision)
