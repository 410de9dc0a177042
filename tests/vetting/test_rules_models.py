"""Model files in packages: pickles importing code-running globals (hand-built, never loaded)."""

import io
import zipfile

from assay.advisories.severity import Level
from assay.vetting.rules.models import pickle_magic, scan_model_member
from tests.vetting.package_builder import rules, vet_sdist, vet_wheel

# PROTO 2, GLOBAL os.system, BINUNICODE "true", TUPLE1, REDUCE, STOP: written opcode by opcode
RUNS_COMMAND = b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R."
# PROTO 2, EMPTY_DICT, BINUNICODE "a", BININT1 1, SETITEM, STOP: plain data
PLAIN_DATA = b"\x80\x02}X\x01\x00\x00\x00aK\x01s."
# PROTO 0 GLOBAL without a PROTO header (what a .pkl may hold)
OLD_PROTOCOL = b"cposix\nsystem\n(S'true'\ntR."


def _torch_zip(pickle: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle)
        archive.writestr("archive/version", "3\n")
    return buffer.getvalue()


def test_pickle_magic():
    assert pickle_magic(RUNS_COMMAND)
    assert not pickle_magic(b"import os\n")
    assert scan_model_member("demo/paths.pth", b"import os; os.getcwd()\n") is None


def test_torch_zip_checkpoint_that_runs_a_command_is_critical():
    report = vet_sdist({"demo/model.pt": _torch_zip(RUNS_COMMAND)})
    assert "payload-malicious-pickle" in rules(report, Level.CRITICAL)
    assert report.flagged


def test_legacy_pickle_files_that_run_commands():
    assert "payload-malicious-pickle" in rules(vet_wheel({"demo/w.bin": RUNS_COMMAND}))
    assert "payload-malicious-pickle" in rules(vet_wheel({"demo/m.pkl": OLD_PROTOCOL}))


def test_plain_data_pickles_and_text_pth_files_are_clean():
    report = vet_wheel(
        {
            "demo/model.pt": _torch_zip(PLAIN_DATA),
            "demo/table.pkl": PLAIN_DATA,
            "demo/weights.bin": b"\x00\x01" * 64,
        }
    )
    assert "payload-malicious-pickle" not in rules(report)


def test_fixture_among_tests_is_low():
    report = vet_sdist({"tests/data/evil.pkl": RUNS_COMMAND})
    assert "payload-malicious-pickle" in rules(report, Level.LOW)
    assert "payload-malicious-pickle" not in rules(report, Level.MEDIUM)
