"""The shared AST pass: alias resolution, hidden names, data flow, never executing anything."""

import ast
import base64
import zlib

from assay.vetting.embedded import Budget, unwrap
from assay.vetting.pysource import (
    DECODED,
    LOCAL_FILE,
    MAX_SOURCE_BYTES,
    ModuleFacts,
    Unparsed,
    fold_string,
    read_source,
)


def _facts(code: str) -> ModuleFacts:
    facts = read_source("m.py", code.encode())
    assert isinstance(facts, ModuleFacts)
    return facts


def _names(code: str) -> list[str | None]:
    return [c.name for c in _facts(code).calls]


def test_aliases_resolve_to_dotted_names():
    assert "base64.b64decode" in _names("import base64 as b\nb.b64decode(x)\n")
    assert "os.system" in _names("from os import system as s\ns(x)\n")
    assert "os.path.join" in _names("import os.path\nos.path.join(a, b)\n")
    assert "subprocess.Popen" in _names("sp = __import__('subprocess')\nsp.Popen(x)\n")


def test_hidden_names():
    calls = _facts("import os\ngetattr(os, 'sys' + 'tem')(x)\n__import__('os').popen(y)\n").calls
    hidden = {c.name for c in calls if c.hidden}
    assert {"os.system", "os.popen"} <= hidden


def test_fold_string():
    def fold(src):
        return fold_string(ast.parse(src, mode="eval").body)

    assert fold("'a' + 'b'") == "ab"
    assert fold("''.join(['e', 'v', 'a', 'l'])") == "eval"
    assert fold("'lave'[::-1]") == "eval"
    assert fold("chr(101)") == "e"
    assert fold("name + 'x'") is None


def test_origins_follow_assignments():
    facts = _facts("import base64\nx = base64.b64decode(d)\ny = x\nexec(y)\n")
    sink = next(c for c in facts.calls if c.name == "exec")
    assert DECODED in sink.origins
    version = _facts("exec(open('v.py').read())\n")
    assert LOCAL_FILE in next(c for c in version.calls if c.name == "exec").origins


def test_top_level_and_function_context():
    facts = _facts("import os\nos.system(a)\ndef f():\n    os.system(b)\nf()\n")
    top, inner = (c for c in facts.calls if c.name == "os.system")
    assert top.top_level
    assert not inner.top_level
    assert inner.function == "f"
    assert facts.reached == frozenset({"f"})


def test_unparseable_and_oversized_sources():
    assert isinstance(read_source("m.py", b"def (:"), Unparsed)
    big = read_source("m.py", b"#" * (MAX_SOURCE_BYTES + 1))
    assert isinstance(big, Unparsed)
    assert "larger" in big.reason


def test_source_is_never_executed(tmp_path):
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('x')\nexec('raise SystemExit')\n"
    _facts(code)
    assert not marker.exists()


def test_code_handed_to_exec_as_a_literal_is_analysed():
    code = 'exec("""\nimport os\nos.system(cmd)\n""")\n'
    facts = _facts(code)
    hidden = [c for c in facts.calls if c.name == "os.system"]
    assert hidden
    assert (hidden[0].line, hidden[0].top_level) == (1, True)
    assert "os" in facts.imports
    inside = _facts('def f():\n    exec("import os\\nos.system(cmd)")\n')
    assert [c.function for c in inside.calls if c.name == "os.system"] == ["f"]


def test_code_behind_base64_and_zlib_layers_is_analysed():
    payload = "import subprocess\nsubprocess.Popen(cmd, shell=True)\nURL = 'https://x.invalid'\n"
    layered = base64.b64encode(zlib.compress(payload.encode())).decode()
    facts = _facts(
        f"import base64, zlib\nBLOB = {layered!r}\nexec(zlib.decompress(base64.b64decode(BLOB)))\n"
    )
    hidden = [c for c in facts.calls if c.name == "subprocess.Popen"]
    assert hidden
    assert DECODED in hidden[0].origins
    assert hidden[0].top_level
    assert any(value == "https://x.invalid" for value, _ in facts.strings)
    blob = repr(zlib.compress(payload.encode()))
    compressed = _facts(f"DATA = {blob}\n\ndef later():\n    pass\n")
    assert any(c.name == "subprocess.Popen" and not c.top_level for c in compressed.calls)


def test_encoded_data_that_is_not_code_adds_nothing():
    image = base64.b64encode(bytes(range(256)) * 4).decode()
    facts = _facts(f"LOGO = {image!r}\n")
    assert facts.calls == []
    words = base64.b64encode(b"just some words, nothing to run " * 4).decode()
    assert _facts(f"TEXT = {words!r}\n").calls == []


def test_a_module_full_of_compressed_bombs_is_decoded_within_its_budget():
    source = ("import os\n" + "".join(f"os.system(cmd{i})\n" for i in range(30))).encode()
    payload = zlib.compress(source)
    assert len(payload) >= 48
    alone = _facts(f"LAST = {payload!r}\n")
    assert any(c.name == "os.system" for c in alone.calls)  # found when the budget allows
    bomb = zlib.compress(b"\0" * (4 * 1024 * 1024), 9)  # 4 MiB of zeros in a few KiB
    literals = "\n".join(f"B{i} = {bomb!r}" for i in range(80))
    facts = _facts(f"{literals}\nLAST = {payload!r}\n")
    assert not any(c.name == "os.system" for c in facts.calls)  # the budget ran out first
    budget = Budget(total=64)
    assert unwrap(payload, budget) is None
    assert budget.left < 0
    assert unwrap(payload, budget) is None  # spent: nothing more is decoded
    fresh = unwrap(payload)
    assert fresh is not None
    assert fresh.startswith("import os")


def test_hidden_code_too_deep_to_walk_leaves_the_carrier_analysed():
    deep = "y = " + "a." * 3000 + "b()\n"
    blob = base64.b64encode(zlib.compress(deep.encode())).decode()
    facts = _facts(f"import subprocess\nDATA = {blob!r}\nsubprocess.call(cmd)\n")
    assert any(c.name == "subprocess.call" for c in facts.calls)


def test_a_function_defined_in_exec_code_runs_only_when_called():
    facts = _facts('exec("def helper(cmd):\\n    import os\\n    os.system(cmd)\\n")\n')
    [call] = [c for c in facts.calls if c.name == "os.system"]
    assert (call.top_level, call.function) == (False, "helper")
