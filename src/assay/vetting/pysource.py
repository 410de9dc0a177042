"""Facts about one Python file from a single pass over its AST (never compiled or run).

:func:`read_source` parses with :func:`ast.parse` only, within a size limit, and
turns ``SyntaxError`` (Python 2 code is common in old sdists), ``RecursionError``
and oversized files into a reason instead of an exception.  :class:`_Collector`
walks the tree once and records what the rules need:

* imports with their aliases (``import base64 as b`` binds ``b`` to ``base64``);
* every call with its dotted name resolved through those aliases
  (``b.b64decode`` -> ``base64.b64decode``), through ``__import__('os')`` and
  ``importlib.import_module('os')``, and through ``getattr(os, 'sys' + 'tem')``
  with constant folding of the attribute name (``hidden`` marks such calls);
* what flows into each call's first argument (``origins``): decoded data,
  downloaded data, a local file's content, or only literals, following simple
  assignments (``x = b64decode(...)`` then ``exec(x)``) module-wide;
* string constants with their lines, and whether each call runs at module top
  level (on import, or on install for ``setup.py``) or inside a function;
* code hidden in literals (:mod:`assay.vetting.embedded`): a string handed to
  ``exec``/``eval``/``compile``, or base64/hex/zlib/... layers that unwrap to
  Python source, is parsed too (bounded depth) and its calls, strings and imports
  are recorded at the line of the literal; calls from decoded layers carry the
  ``decoded`` origin, and run at top level only where the carrier does.
"""

from __future__ import annotations

import ast
import warnings

from assay.vetting.embedded import (
    MIN_LITERAL,
    Budget,
    parse_hidden,
    unwrap,
)
from assay.vetting.pyfacts import Call, ModuleFacts, Unparsed
from assay.vetting.pyvalues import (
    CHR_CHAIN,
    COMPUTED,
    DECODED,
    DOWNLOADED,
    LOCAL_FILE,
    call_origin,
    chr_in_a_loop,
    command_text,
    fold_string,
    is_constant,
    literal_source,
    names_chr,
    reverses,
    stringy,
)

__all__ = [
    "CHR_CHAIN",
    "COMPUTED",
    "DECODED",
    "DOWNLOADED",
    "LOCAL_FILE",
    "Call",
    "ModuleFacts",
    "Unparsed",
    "fold_string",
    "read_source",
]

MAX_SOURCE_BYTES = 2 * 1024 * 1024  # larger .py files are reported, not parsed


def read_source(path: str, data: bytes) -> ModuleFacts | Unparsed:
    """The facts of one file, or why it could not be parsed (never raises for content)."""
    if len(data) > MAX_SOURCE_BYTES:
        return Unparsed(f"larger than {MAX_SOURCE_BYTES} bytes: not parsed")
    text = data.decode("utf-8-sig", errors="replace")  # Python itself accepts a BOM
    try:
        with warnings.catch_warnings():  # invalid escapes etc. in the package are not ours
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        python2 = _looks_like_python2(text)
        return Unparsed(f"syntax error: {exc.msg}", exc.lineno or 0, python2)
    except (RecursionError, ValueError, MemoryError) as exc:
        return Unparsed(f"not parseable: {type(exc).__name__}")
    facts = ModuleFacts(path=path, lines=tuple(text.splitlines()))
    try:
        _Collector(facts).run(tree)
    except RecursionError:
        return Unparsed("nested too deeply to analyse")
    return facts


MAX_NESTING = 3  # code hidden in code hidden in code: deeper layers are not parsed
_CODE_SINKS = frozenset({"exec", "eval", "compile", "builtins.exec", "builtins.eval"})
_RUNS_HIDDEN = (*_CODE_SINKS, "marshal.loads", "types.FunctionType")


def _looks_like_python2(text: str) -> bool:
    markers = ("print ", "except Exception, ", "exec ", "ur'", 'ur"', "0777", "<>")
    return any(m in text for m in markers)


SINKS = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "marshal.loads",
        "__import__",
        "importlib.import_module",
        "builtins.exec",
        "builtins.eval",
        "types.FunctionType",
    }
)
_RUNNERS = ("os.system", "os.popen", "subprocess.", "os.exec", "os.spawn", "pty.spawn")
_SENDERS = ("requests.", "httpx.", "urllib.request.", "urllib2.", "socket.create_connection")
_ARGUMENT_ROOTS = frozenset(
    {"subprocess", "os", "pty", "commands", "asyncio", "requests", "socket", "urllib", "open"}
    | SINKS
)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
# nodes with nothing below them that a rule reads (Name's only child is its context)
_LEAVES = frozenset(
    {ast.Name, ast.Load, ast.Store, ast.Del, ast.Pass, ast.Break, ast.Continue, ast.alias}
)


def _main_guard(node: ast.If) -> bool:
    test = node.test
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
    )


class _Collector:
    """The one pass over a module's tree (an explicit stack: no recursion, source order)."""

    def __init__(self, facts: ModuleFacts, depth: int = 0, budget: Budget | None = None) -> None:
        self.facts = facts
        self.depth = depth
        # (hidden source, line, enclosing function, handed to exec directly)
        self.hidden: list[tuple[str, int, str | None, bool]] = []
        # bytes this module's literals (and the code hidden in them) may still decode to
        self.budget = budget if budget is not None else Budget()
        self.assigned: dict[str, list[ast.expr]] = {}
        self.defined: set[str] = set()
        self.named: dict[str, set[str]] = {}  # origins of assigned names, computed once
        self.hidden_aliases: set[str] = set()  # names bound to eval("exec") and the like
        self.returns: dict[str, list[ast.expr]] = {}  # local function -> returned expressions

    def run(self, tree: ast.Module) -> None:
        stack: list[tuple[ast.AST, str | None, str | None]] = [(tree, None, None)]
        while stack:
            node, function, cls = stack.pop()
            kind = type(node)
            if kind in _LEAVES:
                continue
            if kind is ast.Constant:
                self.constant(node, function)  # type: ignore[arg-type]
                continue
            if isinstance(node, ast.Call):
                self.call(node, function, cls)
            elif isinstance(node, ast.Assign | ast.Import | ast.ImportFrom | ast.JoinedStr):
                self.simple(node)
            elif isinstance(node, _FUNCTIONS):
                function = getattr(node, "name", "<lambda>")
                if function != "<lambda>":
                    self.defined.add(function)
            elif isinstance(node, ast.Return) and function and node.value is not None:
                self.returns.setdefault(function, []).append(node.value)
            elif isinstance(node, ast.ClassDef):
                bases = tuple(self.resolve(b)[0] or "" for b in node.bases)
                self.facts.classes[node.name] = bases
                cls = node.name
            elif isinstance(node, ast.If) and function is None and _main_guard(node):
                stack.extend((child, "__main__", cls) for child in reversed(node.body))
                continue
            children = reversed(list(ast.iter_child_nodes(node)))
            stack.extend((child, function, cls) for child in children)
        if self.hidden and self.depth < MAX_NESTING:
            self._embed()
        self.facts.reached = self._reached()

    def _embed(self) -> None:
        """Parse the hidden sources and record their facts at the line of their literal."""
        runs_at_top = any(c.top_level and c.name in _RUNS_HIDDEN for c in self.facts.calls)
        for source, line, function, direct in self.hidden:
            tree = parse_hidden(source) if self.budget.parse(len(source)) else None
            if tree is None:
                continue
            inner = ModuleFacts(path=self.facts.path)
            try:
                _Collector(inner, self.depth + 1, self.budget).run(tree)
            except RecursionError:
                continue  # hidden code nested too deeply: the carrier's own facts stand
            top = function is None and (direct or runs_at_top)
            for c in inner.calls[: self.budget.calls(len(inner.calls))]:
                outer = function if function is not None or top else "<hidden>"
                self.facts.calls.append(
                    Call(
                        c.name,
                        line,
                        top and c.top_level,  # a def in hidden code runs only when called
                        outer if c.top_level else c.function,
                        c.literal_args,
                        c.origins if direct else c.origins | {DECODED},
                        c.hidden,
                        c.first_arg,
                        c.cls,
                        c.arg_names,
                    )
                )
            self.facts.strings.extend((value, line) for value, _ in inner.strings[:10_000])
            self.facts.imports |= inner.imports
            self.facts.env_bulk_reads.extend(line for _ in inner.env_bulk_reads[:1])

    def _reached(self) -> frozenset[str]:
        """Functions of this module that its top-level code calls (transitively)."""
        callees: dict[str | None, set[str]] = {}
        for call in self.facts.calls:
            if call.name in self.defined:
                callees.setdefault(call.function if not call.top_level else None, set()).add(
                    call.name
                )
        self.facts.callees = callees
        reached: set[str] = set()
        todo = list(callees.get(None, ()))
        while todo:
            name = todo.pop()
            if name not in reached:
                reached.add(name)
                todo.extend(callees.get(name, ()))
        return frozenset(reached)

    # --- imports and assignments --------------------------------------------------------
    def import_(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.facts.imports.add(alias.name)
                if alias.asname:
                    self.facts.aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    self.facts.aliases.setdefault(top, top)
            return
        module = ("." * node.level) + (node.module or "")
        for alias in node.names:
            full = f"{module}.{alias.name}" if module else alias.name
            self.facts.imports.add(full)
            self.facts.aliases[alias.asname or alias.name] = full

    def assign(self, node: ast.Assign) -> None:
        pairs: list[tuple[ast.expr, ast.expr]] = []
        for target in node.targets:
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs.extend(zip(target.elts, node.value.elts, strict=False))
            else:
                pairs.append((target, node.value))
        for target, value in pairs:
            if isinstance(target, ast.Name):
                self.bind(target.id, value)

    def bind(self, name: str, value: ast.expr) -> None:
        self.assigned.setdefault(name, []).append(value)
        self.named.pop(name, None)
        if isinstance(value, ast.Lambda):
            self.returns[name] = [value.body]
        elif isinstance(value, ast.Call):
            module = self._import_target(value)
            if module:
                self.facts.aliases[name] = module
                self.hidden_aliases.add(name)
            elif (builtin := self._evaluated_name(value)) is not None:
                self.facts.aliases[name] = builtin  # x = eval("exec"): x is exec
                self.hidden_aliases.add(name)
        elif isinstance(value, ast.Name | ast.Attribute):
            resolved, hidden = self.resolve(value)
            if resolved and resolved != name:
                self.facts.aliases.setdefault(name, resolved)
                if hidden:
                    self.hidden_aliases.add(name)

    def _evaluated_name(self, call: ast.Call) -> str | None:
        """'exec' for eval("exec") (or eval of any literal naming a builtin or module)."""
        if self.resolve(call.func)[0] not in {"eval", "builtins.eval"} or not call.args:
            return None
        text = fold_string(call.args[0])
        if text is None or not text.strip().replace(".", "_").isidentifier():
            return None
        return text.strip()

    def origins(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> set[str]:
        """What an expression's value may come from (empty: only literals)."""
        found: set[str] = set()
        chr_calls = 0
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                found.add(COMPUTED)
                if sub.id in self.assigned and sub.id not in seen and len(seen) < 8:
                    cached = self.named.get(sub.id)
                    if cached is None:
                        cached = set()
                        for value in self.assigned[sub.id][:8]:
                            cached |= self.origins(value, seen | {sub.id})
                        self.named[sub.id] = cached
                    found |= cached
            elif isinstance(sub, ast.Call):
                name = self.resolve(sub.func)[0] or ""
                chr_calls += name == "chr"
                found.add(call_origin(name))
                key = "()" + name
                if name in self.returns and key not in seen and len(seen) < 8:
                    for value in self.returns[name][:4]:
                        found |= self.origins(value, seen | {key})
                if name in {"map", "bytes", "bytearray"} and sub.args:
                    chr_calls += 4 * any(names_chr(a) for a in sub.args[:1])
            elif isinstance(sub, ast.Attribute):
                found.add(COMPUTED)
            elif (
                isinstance(sub, ast.Subscript)
                and isinstance(sub.slice, ast.Slice)
                and reverses(sub.slice)
                and stringy(sub.value, self.assigned)
            ):
                found.add(DECODED)  # a reversed string (arrays are reversed all the time)
        if chr_calls >= 4 or (chr_calls and chr_in_a_loop(node)):
            found.add(CHR_CHAIN)
        return found

    # --- names --------------------------------------------------------------------------
    def _import_target(self, call: ast.Call) -> str | None:
        """'os' for __import__('os') or importlib.import_module('os')."""
        func = self.resolve(call.func)[0]
        if func in {"__import__", "importlib.import_module"} and call.args:
            return fold_string(call.args[0])
        return None

    def resolve(self, node: ast.expr) -> tuple[str | None, bool]:
        """The dotted name an expression refers to, and whether it was hidden."""
        if isinstance(node, ast.Name):
            return self.facts.aliases.get(node.id, node.id), node.id in self.hidden_aliases
        if isinstance(node, ast.Attribute):
            base, hidden = self.resolve(node.value)
            return (f"{base}.{node.attr}" if base else None), hidden
        if isinstance(node, ast.Call):
            module = self._import_target(node)
            if module:
                return module, True
            func = node.func
            if (
                isinstance(func, ast.Name)
                and func.id == "getattr"
                and len(node.args) >= 2
                and (attr := fold_string(node.args[1])) is not None
            ):
                base, _ = self.resolve(node.args[0])
                return (f"{base}.{attr}" if base else None), True
        return None, False

    # --- calls and constants ------------------------------------------------------------
    def call(self, node: ast.Call, function: str | None, cls: str | None) -> None:
        name, hidden = self.resolve(node.func)
        first = node.args[0] if node.args else None
        literal, text, origins = True, None, frozenset[str]()
        read: frozenset[str] = frozenset()
        if name is not None and (name in SINKS or name.split(".")[0] in _ARGUMENT_ROOTS):
            args = [*node.args, *(k.value for k in node.keywords)]
            literal = all(fold_string(a) is not None or is_constant(a) for a in args)
            text = command_text(first) if first is not None else None
            if first is not None and (name in SINKS or name.startswith((*_RUNNERS, *_SENDERS))):
                origins = frozenset(self.origins(first))
            read = frozenset(
                resolved
                for arg in args
                for sub in ast.walk(arg)
                if isinstance(sub, ast.Attribute | ast.Name) and (resolved := self.resolve(sub)[0])
            )
        source = literal_source(first) if name in _CODE_SINKS and first is not None else None
        if source and (len(source) >= MIN_LITERAL or "\n" in source or ";" in source):
            self.hidden.append((source, node.lineno, function, True))
        self.facts.calls.append(
            Call(
                name,
                node.lineno,
                function is None,
                function,
                literal,
                origins,
                hidden,
                text,
                cls,
                read,
            )
        )
        if name in {"dict", "json.dumps", "str", "repr"} and any(
            self.resolve(a)[0] == "os.environ" for a in node.args
        ):
            self.facts.env_bulk_reads.append(node.lineno)
        if name in {"os.environ.items", "os.environ.copy", "os.environ.values"}:
            self.facts.env_bulk_reads.append(node.lineno)

    def simple(self, node: ast.Assign | ast.Import | ast.ImportFrom | ast.JoinedStr) -> None:
        """Nodes recorded without changing the walk: assignments, imports, f-strings."""
        if isinstance(node, ast.Assign):
            self.assign(node)
        elif isinstance(node, ast.JoinedStr):
            self.template(node)
        else:
            self.import_(node)

    def template(self, node: ast.JoinedStr) -> None:
        """An f-string as one text, ``{}`` for each value: a command reads whole."""
        parts = [
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
            for v in node.values
        ]
        if len(parts) > 1:
            self.facts.strings.append(("".join(parts), node.lineno))

    def constant(self, node: ast.Constant, function: str | None) -> None:
        if isinstance(node.value, str | bytes) and len(node.value) >= 4:
            value = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
            self.facts.strings.append((value, node.lineno))
            if len(value) >= MIN_LITERAL and self.depth < MAX_NESTING:
                source = unwrap(node.value, self.budget)
                if source is not None:
                    self.hidden.append((source, node.lineno, function, False))
