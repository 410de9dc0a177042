"""The error family of the audit log: keys, log files and attestations."""

from __future__ import annotations

from assay.errors import AssayError


class AuditLogError(AssayError):
    """A key file or log file that is missing, unreadable, corrupt or of the wrong kind."""

    exit_code = 3


class VerificationError(AuditLogError):
    """A signature or envelope that does not verify (the check failed: exit 1)."""

    exit_code = 1
