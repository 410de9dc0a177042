"""Which pickle globals are safe to import, and how bad every other one is.

The scanner is an allowlist, not a denylist: denylist scanners keep being
bypassed by yet another standard-library function that runs code, so every
global not listed here is a finding.  The deny tables below only decide how
*severe* that finding is.

Two kinds of allowlist entries:

* ``ALLOWED_GLOBALS``: exact ``(module, name)`` pairs that rebuild data
  (containers, tensors, storages, arrays, dtypes) and nothing else.
* ``DATA_CLASS_PREFIXES``: module prefixes whose *classes* hold data only
  (scikit-learn estimators and transformers, NumPy dtype classes).  They match
  only names that look like classes (start with an upper-case letter), never
  functions, so ``sklearn.utils._testing.assert_run_python_script`` or
  ``sklearn.datasets.fetch_openml`` stay findings.  Unpickling such a class runs
  its ``__new__``/``__init__`` and ``__setstate__``, which for these modules
  only store attributes.
"""

from __future__ import annotations

from assay.advisories.severity import Level

_BUILTIN_TYPES = [
    "set",
    "frozenset",
    "dict",
    "list",
    "tuple",
    "int",
    "float",
    "complex",
    "bool",
    "str",
    "bytes",
    "bytearray",
    "slice",
    "range",
    "object",
    "NoneType",
    "Ellipsis",
    "NotImplemented",
]
_TORCH_STORAGES = [
    "Float",
    "Double",
    "Half",
    "BFloat16",
    "Long",
    "Int",
    "Short",
    "Char",
    "Byte",
    "Bool",
    "ComplexFloat",
    "ComplexDouble",
    "QInt8",
    "QUInt8",
    "QInt32",
    "QUInt4x2",
    "QUInt2x4",
    "Untyped",
]
_TORCH_DTYPES = [
    "float16",
    "float32",
    "float64",
    "bfloat16",
    "half",
    "float",
    "double",
    "complex64",
    "complex128",
    "cfloat",
    "cdouble",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "short",
    "int",
    "long",
    "bool",
    "qint8",
    "quint8",
    "qint32",
    "float8_e4m3fn",
    "float8_e5m2",
    "uint16",
    "uint32",
    "uint64",
]
_TORCH_REBUILDERS = [
    "_rebuild_tensor",
    "_rebuild_tensor_v2",
    "_rebuild_tensor_v3",
    "_rebuild_parameter",
    "_rebuild_parameter_with_state",
    "_rebuild_qtensor",
    "_rebuild_sparse_tensor",
    "_rebuild_nested_tensor",
    "_rebuild_device_tensor_from_numpy",
    "_rebuild_meta_tensor_no_storage",
]

ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    {
        ("collections", "OrderedDict"),
        ("collections", "defaultdict"),
        ("collections", "Counter"),
        ("collections", "deque"),
        ("copyreg", "_reconstructor"),
        ("copy_reg", "_reconstructor"),
        ("copyreg", "__newobj__"),
        ("_codecs", "encode"),  # protocol 2 writes bytes as _codecs.encode(text, "latin1")
        ("datetime", "datetime"),
        ("datetime", "date"),
        ("datetime", "timedelta"),
        ("decimal", "Decimal"),
        ("fractions", "Fraction"),
        ("uuid", "UUID"),
        ("pathlib", "PosixPath"),  # a path value; opening files needs a call, which is a finding
        ("pathlib", "WindowsPath"),
        *(("builtins", name) for name in _BUILTIN_TYPES),
        *(("__builtin__", name) for name in _BUILTIN_TYPES),
        # PyTorch: tensors, parameters, storages, dtypes and layouts
        *(("torch._utils", name) for name in _TORCH_REBUILDERS),
        ("torch._tensor", "_rebuild_from_type_v2"),
        ("torch._tensor", "_rebuild_from_type"),
        *(("torch", f"{kind}Storage") for kind in _TORCH_STORAGES),
        ("torch.storage", "UntypedStorage"),
        ("torch.storage", "TypedStorage"),
        ("torch.storage", "_load_from_bytes"),  # torch.load of a nested legacy torch payload
        *(("torch", dtype) for dtype in _TORCH_DTYPES),
        ("torch", "Size"),
        ("torch", "device"),
        ("torch", "Tensor"),
        ("torch", "strided"),
        ("torch", "sparse_coo"),
        ("torch", "per_tensor_affine"),
        ("torch", "per_channel_affine"),
        ("torch.nn.parameter", "Parameter"),
        ("torch.serialization", "_get_layout"),
        # NumPy (1.x and 2.x module names)
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy.ma.core", "_mareconstruct"),
        ("numpy.random._pickle", "__randomstate_ctor"),
        ("numpy.random._pickle", "__generator_ctor"),
        ("numpy.random._pickle", "__bit_generator_ctor"),
        # joblib's wrapper for arrays written after the pickle (not the legacy NDArrayWrapper,
        # which reads a sibling file named inside the pickle)
        ("joblib.numpy_pickle", "NumpyArrayWrapper"),
        # scikit-learn Cython types rebuilt with REDUCE (class calls with plain-data arguments)
        ("sklearn.tree._tree", "Tree"),
        ("sklearn.neighbors._kd_tree", "KDTree"),
        ("sklearn.neighbors._ball_tree", "BallTree"),
        ("sklearn.utils._bunch", "Bunch"),
    }
)

DATA_CLASS_PREFIXES: tuple[str, ...] = (
    "numpy.dtypes.",
    *(
        f"sklearn.{sub}."
        for sub in [
            "calibration",
            "cluster",
            "compose",
            "covariance",
            "cross_decomposition",
            "decomposition",
            "discriminant_analysis",
            "dummy",
            "ensemble",
            "feature_extraction",
            "feature_selection",
            "gaussian_process",
            "impute",
            "isotonic",
            "kernel_approximation",
            "kernel_ridge",
            "linear_model",
            "manifold",
            "mixture",
            "naive_bayes",
            "neighbors",
            "neural_network",
            "pipeline",
            "preprocessing",
            "semi_supervised",
            "svm",
            "tree",
            "_loss",
            "multiclass",
            "multioutput",
        ]
    ),
)
# "sklearn.pipeline" and friends are modules themselves, not only packages
_DATA_CLASS_MODULES = frozenset(p.rstrip(".") for p in DATA_CLASS_PREFIXES)

# Modules whose import from a pickle means running commands, code, network or file I/O.
CRITICAL_MODULES: frozenset[str] = frozenset(
    [
        "os",
        "posix",
        "nt",
        "subprocess",
        "sys",
        "runpy",
        "pty",
        "socket",
        "shutil",
        "webbrowser",
        "pip",
        "pkgutil",
        "importlib",
        "ctypes",
        "code",
        "codeop",
        "commands",
        "popen2",
        "multiprocessing",
        "marshal",
        "pickle",
        "_pickle",
        "cPickle",
        "dill",
        "cloudpickle",
        "shelve",
        "urllib",
        "urllib2",
        "http",
        "httplib",
        "requests",
        "httpx",
        "ftplib",
        "smtplib",
        "telnetlib",
        "platform",
        "timeit",
        "cProfile",
        "profile",
        "trace",
        "pdb",
        "bdb",
        "asyncio",
        "threading",
        "_thread",
        "signal",
        "tempfile",
        "glob",
        "zipimport",
        "sqlite3",
        "io",
        "_io",
        "builtins",
        "__builtin__",
        "types",
        "operator",
        "functools",
        "inspect",
        "gc",
        "site",
        "sysconfig",
        "distutils",
        "setuptools",
        "ensurepip",
        "venv",
        "xmlrpc",
    ]
)
# Within otherwise allowed modules: names that run code or read/write objects.
CRITICAL_NAMES: frozenset[tuple[str, str]] = frozenset(
    {
        ("torch", "load"),
        ("torch.serialization", "load"),
        ("torch.jit", "load"),
        ("torch.hub", "load"),
        ("numpy", "load"),
        ("numpy.lib.npyio", "load"),
        ("joblib", "load"),
        ("joblib.numpy_pickle", "load"),
    }
)
# Standard-library modules that hold no code-running gadget we know of, but are not data.
_STDLIB_HIGH = frozenset(["copyreg", "copy_reg", "collections", "abc", "typing", "enum", "weakref"])


def is_allowed(module: str, name: str) -> bool:
    """Whether importing ``module.name`` from a pickle is known to be safe."""
    if (module, name) in ALLOWED_GLOBALS:
        return True
    in_data_module = module in _DATA_CLASS_MODULES or module.startswith(DATA_CLASS_PREFIXES)
    return in_data_module and name[:1].isupper() and "." not in name


def severity_of(module: str, name: str) -> Level:
    """How severe importing a non-allowlisted global is."""
    top = module.split(".", 1)[0]
    if (
        top in CRITICAL_MODULES
        or module in CRITICAL_MODULES
        or (module, name) in CRITICAL_NAMES
        or name.startswith("__import__")
        or name in {"exec", "eval", "compile", "execfile", "system", "popen", "spawn"}
    ):
        return Level.CRITICAL
    if top in {"torch", "numpy", "joblib", "sklearn", "tensorflow", "keras"} or top in _STDLIB_HIGH:
        return Level.HIGH
    if "." in name:  # a dotted name walks attributes (protocol 4 qualnames): getattr in disguise
        return Level.HIGH
    return Level.MEDIUM
