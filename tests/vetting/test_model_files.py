"""The model-file scanner on pickles and weight files the tests build (nothing is unpickled)."""

from __future__ import annotations

import bz2
import collections
import gzip
import json
import pickle
import struct
from pathlib import Path
from typing import Any

import pytest

from assay.advisories.severity import Level
from assay.vetting import blocking, scan_directory, scan_file
from assay.vetting import findings as rules
from assay.vetting.allowlist import is_allowed, severity_of
from assay.vetting.model_files import TooManyFilesError
from assay.vetting.pickles import scan_pickle
from tests.vetting.pickle_builder import (
    Asm,
    gadget,
    joblib_with_array,
    npy,
    safetensors,
    torch_state_dict_pickle,
    torch_zip,
    zip_of,
)

SAFE_STATE = collections.OrderedDict(
    [("layer.weight", [[0.5, -1.25], [2.0, 3.5]]), ("layer.bias", [0.0, 1.0]), ("step", 7)]
)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _subjects(data: bytes) -> dict[str, Level]:
    return {f.subject: f.severity for f in scan_pickle(data, "f").findings}


# -- safe files pass ---------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_safe_state_dict_passes_at_every_protocol(protocol):
    report = scan_pickle(pickle.dumps(SAFE_STATE, protocol=protocol), "state.pkl")
    assert report.findings == []
    assert report.globals == {"collections.OrderedDict"}


def test_hand_built_torch_pickle_is_clean_and_globals_are_listed():
    report = scan_pickle(torch_state_dict_pickle(), "data.pkl")
    assert report.findings == []
    assert report.globals == {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2",
        "torch.FloatStorage",
    }


def test_torch_zip_checkpoint_is_clean(tmp_path):
    path = _write(tmp_path, "model.pt", torch_zip(torch_state_dict_pickle()))
    scan = scan_file(path, "model.pt")
    assert scan.format == "pytorch-zip"
    assert scan.findings == ()
    assert "torch._utils._rebuild_tensor_v2" in scan.globals
    assert scan.scanned


def test_legacy_torch_file_skips_raw_storage(tmp_path):
    magic = Asm(2).raw(b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")).stop()
    parts = [
        magic,
        pickle.dumps(1001, protocol=2),
        pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2),
        torch_state_dict_pickle(),
        pickle.dumps(["0"], protocol=2),
    ]
    raw_storage = struct.pack("<q", 4) + b"\x00\x2e\x93\x52" * 4  # bytes that are not a pickle
    path = _write(tmp_path, "legacy.pth", b"".join(parts) + raw_storage)
    scan = scan_file(path, "legacy.pth")
    assert scan.format == "pickle"
    assert scan.findings == ()


def test_sklearn_estimator_classes_pass_by_prefix_but_not_functions():
    assert is_allowed("sklearn.linear_model._logistic", "LogisticRegression")
    assert is_allowed("sklearn.tree._tree", "Tree")
    assert not is_allowed("sklearn.utils._testing", "assert_run_python_script")
    assert not is_allowed("sklearn.linear_model._base", "make_dataset")
    assert not is_allowed("sklearn.datasets", "fetch_openml")
    cls = Asm(2).glob("copyreg", "_reconstructor").mark()
    cls.glob("sklearn.linear_model._logistic", "LogisticRegression").glob("builtins", "object")
    payload = cls.raw(b"N").tuple().reduce().empty_dict().build().stop()
    assert scan_pickle(payload, "f").findings == []


def test_joblib_stream_with_array_bytes_is_followed(tmp_path):
    values = struct.pack("<3d", 1.0, 2.0, 3.0)
    path = _write(tmp_path, "model.joblib", joblib_with_array(values, (3,)))
    scan = scan_file(path, "model.joblib")
    assert scan.format == "joblib"
    assert scan.findings == ()
    assert "joblib.numpy_pickle.NumpyArrayWrapper" in scan.globals


def test_joblib_gadget_after_the_array_is_caught(tmp_path):
    values = struct.pack("<2d", 1.0, 2.0)
    after = Asm(0).text("hook").glob("os", "system").mark().text("id").tuple().reduce().out
    path = _write(tmp_path, "model.joblib", joblib_with_array(values, (2,), after=bytes(after)))
    scan = scan_file(path, "model.joblib")
    assert [(f.subject, f.severity) for f in scan.findings] == [("os.system", Level.CRITICAL)]


def test_joblib_truncated_array_fails_closed(tmp_path):
    data = joblib_with_array(struct.pack("<3d", 1, 2, 3), (3,))
    path = _write(tmp_path, "model.joblib", data[: len(data) - 12])
    assert [f.rule for f in scan_file(path, "model.joblib").findings] == [rules.MALFORMED]


# -- gadgets are caught ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("os", "system"),
        ("posix", "system"),
        ("nt", "system"),
        ("builtins", "exec"),
        ("builtins", "eval"),
        ("builtins", "compile"),
        ("builtins", "__import__"),
        ("__builtin__", "eval"),
        ("subprocess", "Popen"),
        ("subprocess", "check_output"),
        ("runpy", "_run_code"),
        ("pip._internal", "main"),
        ("pip", "main"),
        ("pkgutil", "resolve_name"),
        ("importlib", "import_module"),
        ("socket", "create_connection"),
        ("shutil", "rmtree"),
        ("webbrowser", "open"),
        ("torch", "load"),
        ("operator", "methodcaller"),
    ],
)
@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_dangerous_globals_are_critical(module, name, protocol):
    report = scan_pickle(gadget(module, name, proto=protocol), "evil.pkl")
    assert [(f.rule, f.subject, f.severity) for f in report.findings] == [
        (rules.DANGEROUS_GLOBAL, f"{module}.{name}", Level.CRITICAL)
    ]
    assert report.findings[0].offset == (2 if protocol >= 2 else 0)


def test_real_reduce_payloads_are_caught():
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    class Payload:
        def __init__(self, func, args):
            self.func, self.args = func, args

        def __reduce__(self):
            return self.func, self.args

    for func in (os.system, exec, eval, subprocess.Popen):
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            found = scan_pickle(pickle.dumps(Payload(func, ("id",)), protocol=protocol), "p")
            assert [f.severity for f in found.findings] == [Level.CRITICAL], (func, protocol)


def test_stack_global_resolves_memoised_strings():
    a = Asm(4).text("os").memoize().text("system").memoize().pop().pop()
    payload = a.binget(0).binget(1).stack_global().mark().text("id").tuple().reduce().stop()
    assert _subjects(payload) == {"os.system": Level.CRITICAL}


def test_stack_global_with_binunicode_and_binput():
    a = Asm(4).binunicode("subprocess").binput(5).binunicode("Popen").binput(6).pop().pop()
    payload = a.binget(5).binget(6).stack_global().mark().text("id").tuple().reduce().stop()
    assert _subjects(payload) == {"subprocess.Popen": Level.CRITICAL}


def test_stack_global_with_computed_operands_is_critical():
    # builtins.str is allowed, but str("os") produces the module name at load time
    a = Asm(4).glob("builtins", "str").mark().text("os").tuple().reduce()
    payload = a.text("system").stack_global().mark().text("id").tuple().reduce().stop()
    found = {f.rule: f.severity for f in scan_pickle(payload, "f").findings}
    assert found[rules.DYNAMIC_GLOBAL] is Level.CRITICAL
    assert found[rules.COMPUTED_CALL] is Level.HIGH


def test_getattr_chain_is_caught_twice():
    # getattr(collections.OrderedDict, "fromkeys")(...) -- the getattr and the computed call
    a = Asm(2).glob("builtins", "getattr").mark().glob("collections", "OrderedDict")
    payload = a.text("fromkeys").tuple().reduce().mark().text("x").tuple().reduce().stop()
    found = {(f.rule, f.subject) for f in scan_pickle(payload, "f").findings}
    assert found == {
        (rules.DANGEROUS_GLOBAL, "builtins.getattr"),
        (rules.COMPUTED_CALL, "REDUCE"),
    }


def test_inst_and_obj_opcodes_are_checked():
    inst = Asm(0).mark().text("id").inst("os", "system").stop()
    assert _subjects(inst) == {"os.system": Level.CRITICAL}
    obj = Asm(2).mark().glob("subprocess", "Popen").text("id").raw(b"o").stop()
    assert _subjects(obj) == {"subprocess.Popen": Level.CRITICAL}


def test_unknown_globals_are_medium_or_high():
    assert _subjects(gadget("mypkg.models", "Net")) == {"mypkg.models.Net": Level.MEDIUM}
    assert severity_of("torch.nn.modules.linear", "Linear") is Level.HIGH
    assert severity_of("numpy", "save") is Level.HIGH
    assert severity_of("mypkg", "a.b") is Level.HIGH


def test_extension_registry_is_a_finding():
    payload = Asm(2).raw(b"\x82\x01").stop()
    assert [f.rule for f in scan_pickle(payload, "f").findings] == [rules.EXTENSION_CODE]


def test_nested_pickle_in_torch_zip_is_caught(tmp_path):
    archive = torch_zip(
        torch_state_dict_pickle(), {"archive/extra/hook.pkl": gadget("runpy", "_run_code")}
    )
    scan = scan_file(_write(tmp_path, "model.bin", archive), "model.bin")
    assert scan.format == "pytorch-zip"
    (finding,) = scan.findings
    assert (finding.member, finding.subject) == ("archive/extra/hook.pkl", "runpy._run_code")
    assert finding.location == "model.bin!archive/extra/hook.pkl@2"


def test_malicious_data_pkl_in_torch_zip(tmp_path):
    scan = scan_file(_write(tmp_path, "m.pt", torch_zip(gadget("os", "system"))), "m.pt")
    assert [(f.member, f.severity) for f in scan.findings] == [("archive/data.pkl", Level.CRITICAL)]
    assert blocking(list(scan.findings))


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress])
def test_compressed_joblib_is_decompressed_and_scanned(tmp_path, compress):
    path = _write(tmp_path, "model.joblib", compress(gadget("builtins", "exec")))
    scan = scan_file(path, "model.joblib")
    assert scan.format == "joblib-compressed"
    assert [f.subject for f in scan.findings] == ["builtins.exec"]


# -- fail closed -------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [1, 5, 20])
def test_truncated_pickles_fail_closed(tmp_path, cut):
    data = pickle.dumps(SAFE_STATE, protocol=4)
    scan = scan_file(_write(tmp_path, "m.pkl", data[:-cut]), "m.pkl")
    assert [f.rule for f in scan.findings] == [rules.MALFORMED]
    assert scan.findings[0].severity is Level.HIGH


def test_garbage_and_stack_underflow_fail_closed():
    assert [f.rule for f in scan_pickle(b"\x80\x02\xff\xff", "f").findings] == [rules.MALFORMED]
    assert [f.rule for f in scan_pickle(b"\x80\x02R.", "f").findings] == [rules.MALFORMED]
    missing_memo = Asm(2).binget(9).stop()
    assert [f.rule for f in scan_pickle(missing_memo, "f").findings] == [rules.MALFORMED]


def test_gadget_before_truncation_is_still_reported():
    data = gadget("os", "system")[:-2]
    assert {f.rule for f in scan_pickle(data, "f").findings} == {
        rules.DANGEROUS_GLOBAL,
        rules.MALFORMED,
    }


def test_corrupt_zip_fails_closed(tmp_path):
    data = bytearray(torch_zip(torch_state_dict_pickle()))
    start = data.find(b"collections")
    data[start : start + 4] = b"XXXX"  # CRC mismatch on archive/data.pkl
    scan = scan_file(_write(tmp_path, "m.pt", bytes(data)), "m.pt")
    assert [f.rule for f in scan.findings] == [rules.MALFORMED]


def test_trailing_bytes_are_reported():
    data = pickle.dumps([1, 2], protocol=2) + b"hidden"
    assert [f.rule for f in scan_pickle(data, "f").findings] == [rules.TRAILING_DATA]


def test_second_pickle_in_a_stream_is_scanned():
    data = pickle.dumps([1], protocol=2) + gadget("os", "system")
    assert _subjects(data) == {"os.system": Level.CRITICAL}


# -- NumPy ------------------------------------------------------------------------------------


def test_npy_plain_array_is_clean(tmp_path):
    scan = scan_file(_write(tmp_path, "a.npy", npy("<f8", (2,), struct.pack("<2d", 1, 2))), "a.npy")
    assert scan.format == "numpy"
    assert scan.findings == ()
    assert ("dtype", "<f8") in scan.details


def test_npy_truncated_data_fails_closed(tmp_path):
    scan = scan_file(_write(tmp_path, "a.npy", npy("<f8", (4,), b"\0" * 8)), "a.npy")
    assert [f.rule for f in scan.findings] == [rules.MALFORMED]


def test_npy_object_array_is_flagged_and_its_pickle_scanned(tmp_path):
    safe = scan_file(_write(tmp_path, "o.npy", npy("|O", (2,), pickle.dumps([1, 2]))), "o.npy")
    assert [(f.rule, f.severity) for f in safe.findings] == [(rules.NPY_OBJECT, Level.MEDIUM)]
    evil = npy("|O", (1,), gadget("os", "system", proto=3))
    scan = scan_file(_write(tmp_path, "e.npy", evil), "e.npy")
    assert {f.rule for f in scan.findings} == {rules.NPY_OBJECT, rules.DANGEROUS_GLOBAL}


def test_npz_members_are_scanned(tmp_path):
    archive = zip_of(
        {
            "w.npy": npy("<f4", (1,), b"\0" * 4),
            "meta.npy": npy("|O", (1,), gadget("pkgutil", "resolve_name", proto=3)),
        }
    )
    scan = scan_file(_write(tmp_path, "arrays.npz", archive), "arrays.npz")
    assert scan.format == "numpy-zip"
    critical = [f for f in scan.findings if f.severity is Level.CRITICAL]
    assert [(f.member, f.subject) for f in critical] == [("meta.npy", "pkgutil.resolve_name")]


# -- safetensors ------------------------------------------------------------------------------

_TENSORS = {
    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
    "b": {"dtype": "I64", "shape": [1], "data_offsets": [8, 16]},
}


def test_valid_safetensors_reports_metadata(tmp_path):
    header = {**_TENSORS, "__metadata__": {"format": "pt"}}
    scan = scan_file(_write(tmp_path, "m.safetensors", safetensors(header, b"\0" * 16)), "m")
    assert scan.findings == ()
    assert dict(scan.details) == {
        "metadata.format": "pt",
        "tensors": "2",
        "parameters": "3",
        "dtypes": "F32, I64",
    }


@pytest.mark.parametrize(
    ("header", "data", "message"),
    [
        (
            {**_TENSORS, "b": {"dtype": "I64", "shape": [1], "data_offsets": [4, 12]}},
            b"\0" * 12,
            "overlaps",
        ),
        (_TENSORS, b"\0" * 24, "data section holds 24"),
        ({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, "need 12"),
        ({"a": {"dtype": "PY", "shape": [1], "data_offsets": [0, 1]}}, b"\0", "unknown dtype"),
        ({"a": {**_TENSORS["a"], "code": "x"}}, b"\0" * 8, "unexpected keys"),
    ],
)
def test_invalid_safetensors_headers(tmp_path, header, data, message):
    scan = scan_file(_write(tmp_path, "m.safetensors", safetensors(header, data)), "m")
    assert scan.findings
    assert all(f.rule == rules.SAFETENSORS_HEADER for f in scan.findings)
    assert any(message in f.message for f in scan.findings)


def test_oversized_and_truncated_safetensors_headers(tmp_path):
    huge = struct.pack("<Q", 10**12) + b"{}"
    scan = scan_file(_write(tmp_path, "h.safetensors", huge), "h")
    assert "exceeds" in scan.findings[0].message
    short = struct.pack("<Q", 500) + b'{"a": 1}'
    scan = scan_file(_write(tmp_path, "s.safetensors", short), "s")
    assert "past the end" in scan.findings[0].message
    scan = scan_file(_write(tmp_path, "t.safetensors", b"\x01"), "t")
    assert scan.findings[0].severity is Level.HIGH


# -- Keras ------------------------------------------------------------------------------------


def _keras_config(*layers: Any) -> bytes:
    return json.dumps(
        {"class_name": "Sequential", "config": {"name": "seq", "layers": list(layers)}}
    ).encode()


def test_keras_lambda_layer_is_flagged(tmp_path):
    dense = {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d"}}
    lam = {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "boom"}}
    clean = zip_of({"config.json": _keras_config(dense), "metadata.json": b"{}"})
    assert scan_file(_write(tmp_path, "ok.keras", clean), "ok.keras").findings == ()
    evil = zip_of({"config.json": _keras_config(dense, lam), "metadata.json": b"{}"})
    scan = scan_file(_write(tmp_path, "m.keras", evil), "m.keras")
    assert [(f.rule, f.subject, f.member) for f in scan.findings] == [
        (rules.KERAS_LAMBDA, "Lambda boom", "config.json")
    ]


def test_keras_custom_module_is_flagged(tmp_path):
    custom = {"module": "mycorp.layers", "class_name": "Fancy", "config": {}}
    scan = scan_file(
        _write(tmp_path, "m.keras", zip_of({"config.json": _keras_config(custom)})), "m"
    )
    assert [(f.subject, f.severity) for f in scan.findings] == [
        ("mycorp.layers.Fancy", Level.MEDIUM)
    ]


def test_h5_lambda_is_found_by_byte_search(tmp_path):
    config = json.dumps({"class_name": "Lambda", "config": {"name": "l"}}).encode()
    data = b"\x89HDF\r\n\x1a\n" + b"\0" * 100 + config + b"\0" * 10
    scan = scan_file(_write(tmp_path, "m.h5", data), "m.h5")
    assert [(f.rule, f.offset) for f in scan.findings] == [(rules.H5_LAMBDA, 109)]
    plain = scan_file(_write(tmp_path, "w.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 64), "w.h5")
    assert plain.findings == ()


# -- directories ------------------------------------------------------------------------------


def test_scan_directory_hashes_everything_including_hidden_files(tmp_path):
    _write(tmp_path, "config.json", b"{}")
    _write(tmp_path, "model.pkl", pickle.dumps(SAFE_STATE))
    (tmp_path / ".cache").mkdir()
    _write(tmp_path / ".cache", "x.pkl", gadget("os", "system"))
    (tmp_path / ".git").mkdir()
    _write(tmp_path / ".git", "HEAD", b"ref: refs/heads/main\n")
    scans = scan_directory(tmp_path)
    assert [(s.path, s.format, s.scanned) for s in scans] == [
        (".cache/x.pkl", "pickle", True),
        ("config.json", "json", False),
        ("model.pkl", "pickle", True),
    ]
    assert [f.subject for f in scans[0].findings] == ["os.system"]
    assert all(len(s.sha256) == 64 for s in scans)


def test_scan_directory_refuses_huge_trees(tmp_path):
    for index in range(3):
        _write(tmp_path, f"{index}.json", b"{}")
    with pytest.raises(TooManyFilesError):
        scan_directory(tmp_path, max_files=2)


def test_joblib_array_bytes_that_plain_pickle_would_run_are_caught(tmp_path):
    # the "array data" is itself a pickle gadget: joblib skips it, pickle.load would run it
    hidden = gadget("os", "system")[2:]  # without PROTO: opcodes continuing the stream
    values = hidden + b"\0" * (-len(hidden) % 8)
    data = joblib_with_array(values, (len(values) // 8,), aligned=False)
    assert (
        scan_file(
            _write(tmp_path, "ok.pkl", joblib_with_array(b"\0" * 8, (1,), aligned=False)), "ok"
        ).findings
        == ()
    )
    scan = scan_file(_write(tmp_path, "m.pkl", data), "m.pkl")
    assert any(f.subject == "os.system" and "plain pickle" in f.message for f in scan.findings), (
        scan.findings
    )
