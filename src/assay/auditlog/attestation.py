"""in-toto attestations of promotions, in DSSE envelopes (pure but for the signer).

A promotion entry becomes an in-toto Statement v1 whose subject is the
environment artifact (its name and SHA-256 digest) and whose predicate,
of type :data:`PREDICATE_TYPE`, is the policy decision that allowed it.  The
statement is signed as a DSSE envelope with the audit log's key.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from assay.auditlog.chain import Entry, SignatureCheck, canonical_json
from assay.auditlog.errors import AuditLogError, VerificationError
from assay.auditlog.keys import Signer
from assay.auditlog.records import PROMOTION, check_digest

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://assay.dev/attestation/policy-decision/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding of a payload type and body."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(body), body)


def _sha256(value: object, what: str, seq: int) -> str:
    try:
        return check_digest(value, what).removeprefix("sha256:")
    except ValueError as exc:
        raise AuditLogError(f"log entry seq {seq}: {exc}") from None


def promotion_statement(entry: Entry) -> dict[str, Any]:
    """The in-toto Statement v1 of one promotion entry of the log."""
    if entry.kind != PROMOTION:
        raise AuditLogError(f"log entry seq {entry.seq} is a {entry.kind}, not a promotion")
    record = entry.record
    name = record.get("environment")
    if not isinstance(name, str) or not name:
        raise AuditLogError(f"log entry seq {entry.seq}: the promotion names no environment")
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {
                "name": name,
                "digest": {
                    "sha256": _sha256(
                        record.get("environment_digest"), "environment_digest", entry.seq
                    )
                },
            }
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "fromStage": record.get("from_stage"),
            "toStage": record.get("to_stage"),
            "policy": {
                "digest": {
                    "sha256": _sha256(record.get("policy_digest"), "policy_digest", entry.seq)
                }
            },
            "outcome": record.get("outcome"),
            "waiversUsed": list(record.get("waivers_used") or []),
            "reasons": list(record.get("reasons") or []),
            "promotedBy": record.get("by"),
            "promotedAt": entry.time,
            "auditLog": {"seq": entry.seq, "hash": entry.hash, "keyId": entry.key_id},
        },
    }


def sign_envelope(statement: Mapping[str, Any], signer: Signer) -> dict[str, Any]:
    """A DSSE envelope of ``statement`` (canonical JSON payload) signed by ``signer``."""
    payload = canonical_json(dict(statement))
    signature = signer.sign(pae(PAYLOAD_TYPE, payload))
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {"keyid": signer.key_id, "sig": base64.b64encode(signature).decode("ascii")}
        ],
    }


def _b64(text: object) -> bytes:
    """Standard or URL-safe base64 (DSSE verifiers must accept both)."""
    if not isinstance(text, str):
        raise TypeError("not a string")
    padded = text + "=" * (-len(text) % 4)
    alphabet = padded.translate(str.maketrans("-_", "+/"))
    return base64.b64decode(alphabet, validate=True)


def verify_envelope(envelope: Mapping[str, Any], verifier: SignatureCheck) -> dict[str, Any]:
    """The statement inside ``envelope`` once one signature by ``verifier``'s key checks."""
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        raise VerificationError(f"envelope payloadType is not {PAYLOAD_TYPE!r}")
    try:
        payload = _b64(envelope.get("payload"))
    except (binascii.Error, ValueError, TypeError):
        raise VerificationError("envelope payload is not base64") from None
    message = pae(PAYLOAD_TYPE, payload)
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise VerificationError("envelope has no signatures")
    for item in signatures:
        if not isinstance(item, dict) or item.get("keyid") not in (None, "", verifier.key_id):
            continue
        try:
            signature = _b64(item.get("sig"))
        except (binascii.Error, ValueError, TypeError):
            continue
        if verifier.verify(signature, message):
            break
    else:
        raise VerificationError(f"no valid signature by key {verifier.key_id[:16]} on the envelope")
    try:
        statement = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise VerificationError("envelope payload is not JSON") from None
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise VerificationError(f"envelope payload is not an in-toto Statement ({STATEMENT_TYPE})")
    return statement
