"""Obfuscation rules: decode-then-exec, high-entropy literals, packers, .pyc-only, hidden calls."""

import base64
import random
import string

from assay.advisories.severity import Level
from assay.vetting.rules.obfuscation import shannon_entropy
from tests.vetting.package_builder import first, rules, vet_sdist, vet_wheel


def _blob(length: int = 600) -> str:
    rng = random.Random(5)
    return base64.b64encode(bytes(rng.randrange(256) for _ in range(length))).decode()


def test_base64_into_exec_is_high_and_critical_at_install():
    code = "import base64 as b\nexec(b.b64decode(DATA))\n"
    report = vet_wheel({"demo/__init__.py": code})
    finding = first(report, "obfuscation-decode-exec")
    assert finding.severity == Level.HIGH
    setup = "import zlib, base64\nsrc = zlib.decompress(base64.b64decode(DATA))\nexec(src)\n"
    report = vet_sdist({"setup.py": setup})
    assert first(report, "obfuscation-decode-exec").severity == (Level.CRITICAL)
    assert report.label == "critical"


def test_base64_for_image_data_is_benign():
    code = "import base64\n\ndef logo():\n    return base64.b64decode(LOGO_PNG)\n"
    report = vet_wheel({"demo/assets.py": code})
    assert "obfuscation-decode-exec" not in rules(report)
    assert report.score == 0


def test_reversed_string_and_chr_chain_feed_eval():
    reverse = "CODE = ')1(tnirp'\neval(CODE[::-1])\n"
    assert "obfuscation-decode-exec" in rules(vet_wheel({"demo/a.py": reverse}))
    arrays = "values = compute()\nassert eval(repr(values[::-1])) == expected\n"
    assert "obfuscation-decode-exec" not in rules(vet_wheel({"demo/check.py": arrays}))
    chained = "x = chr(112) + chr(114) + chr(105) + chr(110) + chr(116)\neval(x + suffix)\n"
    assert "obfuscation-decode-exec" in rules(vet_wheel({"demo/b.py": chained}))
    rot13 = "import codecs\nexec(codecs.decode(TEXT, 'rot13'))\n"
    assert "obfuscation-decode-exec" in rules(vet_wheel({"demo/c.py": rot13}))


def test_long_high_entropy_string():
    code = f"PAYLOAD = '{_blob()}'\n"
    report = vet_wheel({"demo/data.py": code})
    finding = first(report, "obfuscation-high-entropy")
    assert finding.severity == Level.LOW
    prose = "TEXT = '" + " ".join(["the quick brown fox jumps over the lazy dog"] * 20) + "'\n"
    assert "obfuscation-high-entropy" not in rules(vet_wheel({"demo/data.py": prose}))


def test_entropy_measure():
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert round(shannon_entropy("ab" * 10), 3) == 1.0
    assert shannon_entropy(string.ascii_letters) > 5.5


def test_packer_marker():
    code = (
        "from pytransform import pyarmor_runtime\n"
        "pyarmor_runtime()\n"
        "__pyarmor__(__name__, __file__, b'x')\n"
    )
    assert "obfuscation-packer" in rules(vet_wheel({"demo/__init__.py": code}), Level.MEDIUM)
    assert "obfuscation-packer" not in rules(vet_wheel({"demo/__init__.py": "import armor\n"}))


def test_pyc_without_source():
    only: dict[str, str | bytes] = {
        "demo/__pycache__/core.cpython-311.pyc": b"\x00" * 16,
        "demo/__init__.py": "",
    }
    assert "obfuscation-pyc-only" in rules(vet_wheel(only))
    paired: dict[str, str | bytes] = {**only, "demo/core.py": "x = 1\n"}
    assert "obfuscation-pyc-only" not in rules(vet_wheel(paired))


def test_calls_hidden_by_getattr_or_dunder_import():
    folded = "import os\ngetattr(os, 'sys' + 'tem')(cmd)\n"
    report = vet_wheel({"demo/x.py": folded})
    finding = first(report, "obfuscation-hidden-call")
    assert "os.system" in finding.explanation
    dunder = "__import__('subprocess').Popen(cmd)\n"
    assert "obfuscation-hidden-call" in rules(vet_wheel({"demo/y.py": dunder}))
    plain = "import os\nvalue = getattr(os, 'sep')\n"
    assert "obfuscation-hidden-call" not in rules(vet_wheel({"demo/z.py": plain}))


def test_marshal_of_data_is_not_exec_but_exec_of_marshal_is():
    data = "import marshal, zlib\nvalue = marshal.loads(zlib.decompress(blob))\n"
    assert "obfuscation-decode-exec" not in rules(vet_wheel({"demo/cache.py": data}))
    code = "import marshal, zlib\nexec(marshal.loads(zlib.decompress(blob)))\n"
    assert "obfuscation-decode-exec" in rules(vet_wheel({"demo/boot.py": code}))


def test_obfuscator_stamp_and_exec_bound_to_another_name():
    code = (
        "__obfuscator__ = 'SomeTool'\n"
        "Stats, _sq, Prod = exec, str, tuple\n\n"
        "def run(code):\n    return Stats(_sq(code))\n"
    )
    report = vet_wheel({"demo/__init__.py": code})
    found = {f.rule: f for f in report.findings}
    assert found["obfuscation-packer"].severity == Level.MEDIUM
    assert found["obfuscation-aliased-exec"].severity == Level.MEDIUM
    assert report.flagged  # two hiding techniques in a small package


def test_honest_aliases_of_exec_are_not_reported():
    code = "exec_ = exec\n_eval = eval\nrun_code = exec\n\ndef f(s):\n    exec_(s)\n"
    assert "obfuscation-aliased-exec" not in rules(vet_wheel({"demo/compat.py": code}))
    stamp_in_docs = "NOTE = 'set __obfuscator__ to skip'\n"
    assert "obfuscation-packer" not in rules(vet_wheel({"demo/notes.py": stamp_in_docs}))


def test_a_module_own_compile_function_under_another_name_is_not_exec():
    code = "def compile(pattern):\n    return pattern\n\nRegex = compile\n"
    assert "obfuscation-aliased-exec" not in rules(vet_wheel({"demo/_main.py": code}))
