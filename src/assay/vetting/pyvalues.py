"""Constant folding and value origins for the AST pass (:mod:`assay.vetting.pysource`).

:func:`fold_string` evaluates the string expressions obfuscators build names and
payloads from (``'sys' + 'tem'``, ``''.join([...])``, ``s[::-1]``, ``chr(n)``)
without evaluating anything else; :func:`call_origin` says what a call's result
is (decoded, downloaded, a local file's content, or computed).
"""

from __future__ import annotations

import ast

# What a call's result is, by resolved name (prefix match on the dotted name).
DECODERS = (
    "base64.",
    "zlib.decompress",
    "bz2.decompress",
    "lzma.decompress",
    "gzip.decompress",
    "codecs.decode",
    "binascii.",
    "bytes.fromhex",
    "marshal.loads",
    "bytearray.fromhex",
)
DOWNLOADERS = (
    "wget.download",
    "urllib.request.urlopen",
    "urllib.request.urlretrieve",
    "urllib.urlopen",
    "urllib2.urlopen",
    "requests.get",
    "requests.post",
    "requests.request",
    "requests.Session",
    "httpx.get",
    "httpx.post",
    "httpx.Client",
    "urllib3.PoolManager",
    "http.client.HTTPConnection",
    "http.client.HTTPSConnection",
    "socket.socket",
    "socket.create_connection",
)
FILE_READERS = ("open", "io.open", "pathlib.Path", "codecs.open", "os.path.join", "Path")

DECODED = "decoded"
DOWNLOADED = "downloaded"
LOCAL_FILE = "local-file"
CHR_CHAIN = "chr-chain"
COMPUTED = "computed"  # neither a literal nor one of the origins above


def fold_string(node: ast.expr, depth: int = 0) -> str | None:
    """The value of a constant string expression ('a' + 'b', ''.join([...]), s[::-1], chr(n))."""
    if depth > 20:
        return None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = fold_string(node.left, depth + 1), fold_string(node.right, depth + 1)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.JoinedStr):
        parts = [fold_string(v, depth + 1) for v in node.values]
        return "".join(p for p in parts if p is not None) if None not in parts else None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        inner = fold_string(node.value, depth + 1)
        if inner is not None and reverses(node.slice):
            return inner[::-1]
        return None
    if isinstance(node, ast.Call) and not node.keywords and len(node.args) == 1:
        func, arg = node.func, node.args[0]
        if isinstance(func, ast.Name) and func.id == "chr" and isinstance(arg, ast.Constant):
            value = arg.value
            return chr(value) if isinstance(value, int) and 0 <= value < 0x110000 else None
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "join"
            and isinstance(func.value, ast.Constant)
            and isinstance(func.value.value, str)
            and isinstance(arg, ast.List | ast.Tuple)
        ):
            parts = [fold_string(e, depth + 1) for e in arg.elts]
            return func.value.value.join(p for p in parts if p is not None)
    return None


def reverses(part: ast.Slice) -> bool:
    """``[::-1]`` (the step parses as a unary minus applied to 1)."""
    step = part.step
    return (
        isinstance(step, ast.UnaryOp)
        and isinstance(step.op, ast.USub)
        and isinstance(step.operand, ast.Constant)
        and step.operand.value == 1
    ) or (isinstance(step, ast.Constant) and step.value == -1)


def call_origin(name: str) -> str:
    """What the result of calling ``name`` is (decoded, downloaded, a file, or computed)."""
    if name.startswith(("base64.", "binascii.")):  # their encoders hide nothing
        hides = any(part in name for part in ("decode", "a2b", "unhexlify"))
        return DECODED if hides else COMPUTED
    if name.startswith(DECODERS) or name.endswith((".b64decode", ".decompress")):
        return DECODED
    if name.startswith(DOWNLOADERS) or name.endswith(".urlopen"):
        return DOWNLOADED
    if name in FILE_READERS or name.endswith((".read_text", ".read_bytes")):
        return LOCAL_FILE
    return COMPUTED


def command_text(node: ast.expr) -> str | None:
    """A constant string argument, or the constant words of a list/tuple argument joined."""
    if isinstance(node, ast.List | ast.Tuple):
        words = [fold_string(e) for e in node.elts]
        known = [w for w in words if w is not None]
        return " ".join(known) if known else None
    return fold_string(node)


def is_constant(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return all(is_constant(e) for e in node.elts)
    return False


def names_chr(node: ast.expr) -> bool:
    """``chr`` passed on (map(chr, ...)) or a list of ints (bytes([...]))."""
    if isinstance(node, ast.Name):
        return node.id == "chr"
    return (
        isinstance(node, ast.List | ast.Tuple)
        and len(node.elts) >= 16
        and all(isinstance(e, ast.Constant) and isinstance(e.value, int) for e in node.elts[:16])
    )


def literal_source(node: ast.expr) -> str | None:
    """The source text a constant argument of exec/eval/compile holds (str or bytes)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
        return node.value.decode("utf-8", errors="replace")
    return fold_string(node)


def chr_in_a_loop(node: ast.expr) -> bool:
    """``"".join(chr(x >> 5) for x in data)``: one chr call that builds a whole string."""
    return any(
        isinstance(sub, ast.GeneratorExp | ast.ListComp)
        and any(
            isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == "chr"
            for c in ast.walk(sub.elt)
        )
        for sub in ast.walk(node)
    )


def stringy(node: ast.expr, assigned: dict[str, list[ast.expr]]) -> bool:
    """A string constant, or a name only ever assigned string constants."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str | bytes)
    if isinstance(node, ast.Name) and node.id in assigned:
        return all(
            isinstance(v, ast.Constant) and isinstance(v.value, str | bytes)
            for v in assigned[node.id]
        )
    return False
