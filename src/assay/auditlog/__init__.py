"""The signed, hash-chained audit log of decisions and promotions, and its attestations.

``keys``         Ed25519 signer/verifier (the only module using ``cryptography``)
``chain``        canonical entries, hashes, verification (pure)
``log``          the log file: locked appends, reading, verifying
``records``      record kinds and the promotion record's shape
``attestation``  in-toto Statement v1 + DSSE envelopes of promotions
"""

from __future__ import annotations

from assay.auditlog.chain import Entry, Problem, VerifyResult
from assay.auditlog.errors import AuditLogError, VerificationError
from assay.auditlog.keys import Signer, Verifier, load_or_create_signer
from assay.auditlog.log import AuditLog, open_log
from assay.auditlog.records import DECISION, PROMOTION, decision_record, promotion_record

__all__ = [
    "DECISION",
    "PROMOTION",
    "AuditLog",
    "AuditLogError",
    "Entry",
    "Problem",
    "Signer",
    "VerificationError",
    "Verifier",
    "VerifyResult",
    "decision_record",
    "load_or_create_signer",
    "open_log",
    "promotion_record",
]
