"""The hash chain: canonical entries, their hashes, and verification (pure).

One entry is one line of canonical JSON (keys sorted, no insignificant
whitespace, UTF-8, no NaN/Infinity)::

    {"hash":..., "key_id":..., "kind":..., "prev":..., "record":{...},
     "seq":1, "signature":..., "time":"2026-11-25T18:57:29.123456Z", "v":1}

``hash`` is the SHA-256 (hex) of the canonical bytes of the entry *without*
``hash`` and ``signature``; ``prev`` is the previous entry's ``hash`` (64 zeros
for the first); ``signature`` is the base64 Ed25519 signature of the 64 ASCII
characters of ``hash``.  Signing lives behind the two callables passed in, so
this module never touches a key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

FORMAT_VERSION = 1
GENESIS = "0" * 64
_FIELDS = ("v", "seq", "time", "kind", "record", "prev", "key_id", "hash", "signature")
_HEX = frozenset("0123456789abcdef")


class SignatureCheck(Protocol):
    """What verification needs of a key (``assay.auditlog.keys.Verifier`` is one)."""

    @property
    def key_id(self) -> str: ...

    def verify(self, signature: bytes, data: bytes) -> bool: ...


def canonical_json(value: object) -> bytes:
    """The one byte form of a JSON value that is hashed, signed and written."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def format_time(moment: datetime) -> str:
    """UTC ISO 8601 with microseconds and a ``Z``; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the audit log clock must return timezone-aware datetimes")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """An entry's time; one without a UTC offset is refused (entries are written in UTC)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment


@dataclass(frozen=True, slots=True)
class Entry:
    """One signed entry of the log."""

    seq: int
    time: str
    kind: str
    record: Mapping[str, Any]
    prev: str
    key_id: str
    hash: str
    signature: str
    v: int = FORMAT_VERSION

    def body(self) -> dict[str, Any]:
        """What is hashed: every field except ``hash`` and ``signature``."""
        return {
            "v": self.v,
            "seq": self.seq,
            "time": self.time,
            "kind": self.kind,
            "record": dict(self.record),
            "prev": self.prev,
            "key_id": self.key_id,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.body(), "hash": self.hash, "signature": self.signature}

    def to_line(self) -> bytes:
        return canonical_json(self.to_dict()) + b"\n"

    @property
    def moment(self) -> datetime:
        return parse_time(self.time)


def entry_hash(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(body)).hexdigest()


def new_entry(
    previous: Entry | None,
    *,
    kind: str,
    record: Mapping[str, object],
    moment: datetime,
    key_id: str,
    sign: Callable[[bytes], bytes],
) -> Entry:
    """The entry that follows ``previous`` (``None``: the first of a log), signed."""
    if not kind or not isinstance(kind, str):
        raise ValueError("an audit log entry needs a non-empty kind")
    plain = json.loads(canonical_json(dict(record)))  # JSON values only, tuples -> lists
    unsigned = Entry(
        seq=1 if previous is None else previous.seq + 1,
        time=format_time(moment),
        kind=kind,
        record=plain,
        prev=GENESIS if previous is None else previous.hash,
        key_id=key_id,
        hash="",
        signature="",
    )
    digest = entry_hash(unsigned.body())
    signature = base64.b64encode(sign(digest.encode("ascii"))).decode("ascii")
    return Entry(**{**unsigned.to_dict(), "hash": digest, "signature": signature})


class MalformedEntryError(ValueError):
    """A line that is not an entry at all (reason in the message)."""


def _is_hex64(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def parse_entry(line: bytes) -> Entry:
    """An :class:`Entry` from one line (without its newline), or :class:`MalformedEntryError`."""
    try:
        data = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedEntryError("not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise MalformedEntryError(f"malformed JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise MalformedEntryError("malformed JSON (nested too deeply)") from None
    if not isinstance(data, dict):
        raise MalformedEntryError("not a JSON object")
    missing = [name for name in _FIELDS if name not in data]
    if missing:
        raise MalformedEntryError(f"missing field(s): {', '.join(missing)}")
    extra = sorted(set(data) - set(_FIELDS))
    if extra:
        raise MalformedEntryError(f"unknown field(s): {', '.join(extra)}")
    if data["v"] != FORMAT_VERSION or isinstance(data["v"], bool):
        raise MalformedEntryError(f"unsupported format version {data['v']!r}")
    _check_values(data)
    return Entry(**data)


def _check_values(data: Mapping[str, Any]) -> None:
    seq = data["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise MalformedEntryError("seq is not a positive integer")
    for name in ("time", "kind", "signature"):
        if not isinstance(data[name], str) or not data[name]:
            raise MalformedEntryError(f"{name} is not a non-empty string")
    for name in ("prev", "key_id", "hash"):
        if not _is_hex64(data[name]):
            raise MalformedEntryError(f"{name} is not 64 lowercase hex digits")
    if not isinstance(data["record"], dict):
        raise MalformedEntryError("record is not a JSON object")
    try:
        parse_time(data["time"])
    except ValueError:
        raise MalformedEntryError(
            f"time {data['time']!r} is not an ISO 8601 time with a UTC offset"
        ) from None


@dataclass(frozen=True, slots=True)
class Problem:
    """The first bad line of a log: where, which entry, what is wrong."""

    line: int
    seq: int | None
    code: str  # malformed | truncated | edited | unknown-key | bad-signature | deleted |
    #            reordered | inserted | broken-chain
    reason: str

    def describe(self) -> str:
        where = f"line {self.line}" + (f" (seq {self.seq})" if self.seq is not None else "")
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """How many entries verified, the last good one, and the first problem if any."""

    count: int
    head: Entry | None
    problem: Problem | None
    key_id: str

    @property
    def ok(self) -> bool:
        return self.problem is None


def split_lines(data: bytes) -> tuple[list[bytes], bool]:
    """The lines of a log file and whether its last line lacks a newline (truncated)."""
    if not data:
        return [], False
    parts = data.split(b"\n")
    if parts[-1] == b"":
        return parts[:-1], False
    return parts, True


def signature_ok(entry: Entry, verifier: SignatureCheck) -> bool:
    try:
        signature = base64.b64decode(entry.signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    return verifier.verify(signature, entry.hash.encode("ascii"))


def _order_problem(
    number: int,
    entry: Entry,
    expected_seq: int,
    seen: Mapping[int, tuple[int, str]],
    later: set[int],
) -> Problem:
    if entry.seq > expected_seq:
        if expected_seq in later:
            return Problem(
                number,
                entry.seq,
                "reordered",
                f"reordered: seq {entry.seq} comes before seq {expected_seq}",
            )
        missing = (
            f"seq {expected_seq}"
            if entry.seq == expected_seq + 1
            else f"seq {expected_seq}-{entry.seq - 1}"
        )
        return Problem(
            number, entry.seq, "deleted", f"deleted: {missing} missing before this entry"
        )
    first_line, first_hash = seen.get(entry.seq, (0, ""))
    if first_hash == entry.hash:
        return Problem(
            number,
            entry.seq,
            "inserted",
            f"inserted: a copy of line {first_line} (seq {entry.seq})",
        )
    if first_line:
        return Problem(
            number,
            entry.seq,
            "reordered",
            f"reordered or inserted: seq {entry.seq} already at line {first_line}, "
            f"expected seq {expected_seq}",
        )
    return Problem(number, entry.seq, "inserted", f"inserted: expected seq {expected_seq}")


def _check_line(line: bytes, verifier: SignatureCheck) -> Entry | tuple[str, str, int | None]:
    """The entry of one line when it is intact and signed, else (code, reason, seq)."""
    try:
        entry = parse_entry(line)
    except MalformedEntryError as exc:
        return "malformed", f"malformed entry: {exc}", None
    if entry_hash(entry.body()) != entry.hash:
        return "edited", "edited: the entry does not match its hash", entry.seq
    if entry.to_line()[:-1] != line:
        return "edited", "edited: the line is not in canonical form", entry.seq
    if entry.key_id != verifier.key_id:
        reason = f"signed by unknown key {entry.key_id[:16]}, not {verifier.key_id[:16]}"
        return "unknown-key", reason, entry.seq
    if not signature_ok(entry, verifier):
        return "bad-signature", "bad signature", entry.seq
    return entry


def _seqs(lines: Sequence[bytes]) -> list[int | None]:
    found: list[int | None] = []
    for line in lines:  # cheap pre-pass so order problems can name what happened
        try:
            seq = json.loads(line)["seq"]
            found.append(seq if isinstance(seq, int) else None)
        except (ValueError, TypeError, KeyError, UnicodeDecodeError, RecursionError):
            found.append(None)
    return found


def verify_entries(
    lines: Sequence[bytes], verifier: SignatureCheck, truncated: bool = False
) -> VerifyResult:
    """Check every line; stop at the first bad one and say why.

    ``lines`` are the file's lines without newlines (see :func:`split_lines`);
    ``truncated`` says the last line had no newline (a cut-off write).
    """
    seqs = _seqs(lines)
    seen: dict[int, tuple[int, str]] = {}
    head: Entry | None = None
    problem: Problem | None = None
    for index, line in enumerate(lines):
        number = index + 1
        if truncated and index == len(lines) - 1:
            reason = "truncated: the last line ends without a newline"
            problem = Problem(number, seqs[index], "truncated", reason)
            break
        checked = _check_line(line, verifier)
        if not isinstance(checked, Entry):
            problem = Problem(number, checked[2], checked[0], checked[1])
            break
        entry = checked
        expected_seq = 1 if head is None else head.seq + 1
        if entry.seq != expected_seq:
            later = {s for s in seqs[index + 1 :] if s is not None}
            problem = _order_problem(number, entry, expected_seq, seen, later)
            break
        if entry.prev != (GENESIS if head is None else head.hash):
            previous = "the genesis value" if head is None else f"seq {head.seq}"
            reason = f"broken chain: prev is not the hash of {previous}"
            problem = Problem(number, entry.seq, "broken-chain", reason)
            break
        seen[entry.seq] = (number, entry.hash)
        head = entry
    return VerifyResult(len(seen), head, problem, verifier.key_id)
