"""Writing code text: values as literals, Code templates filled in, constructor signatures read
from the registry alone (no torch), docstrings. Shared by the model class (engine/codegen.py), the
per-graph bodies (engine/codegen_body.py) and the block classes (engine/codegen_blocks.py)."""
from __future__ import annotations

import ast
import functools
import keyword
import re
import string
from collections.abc import Iterable
from typing import Any

from graph.analysis import Diagnostic
from graph.registry import Code, LayerType

DEFAULT_CODE = Code()
PLACEHOLDERS = frozenset({"m", "x", "xs", "y", "i", "out", "masks"})


class CodegenError(ValueError):
    """The graph cannot become code. `node` is the id at fault (None for the whole graph);
    `diagnostics` holds graph.analysis's problems when the graph is invalid."""

    def __init__(self, message: str, node: str | None = None, diagnostics: list[Diagnostic] | None = None):
        super().__init__(message)
        self.message = message
        self.node = node
        self.diagnostics = list(diagnostics or [])


# -- rendering values -----------------------------------------------------------------------
class Raw(str):
    """A code fragment (a name or expression) that goes into a template or a literal as it is:
    a block class writes a block parameter (`channels`) where a design writes a number."""


class Joined(list):
    """Several code fragments; `{xs}` joins them with ', ', `{xs: + }` with ' + '."""


def literal(value: Any) -> str:
    """A parameter value as a Python literal; lists become tuples. Strings go through repr."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, (list, tuple)):
        items = [literal(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, (bool, int, float, str)) or value is None:
        return repr(value)
    raise TypeError(f"cannot write {type(value).__name__} value {value!r} as code")


class Formatter(string.Formatter):
    """str.format for Code templates: code fragments go in as they are, values as literals,
    `{name:*}` spreads a list ('0, 2, 1'), `{xs:SEP}` joins inputs by SEP."""

    def __init__(self, where: str):
        super().__init__()
        self.where = where

    def get_value(self, key, args, kwargs):
        if key not in kwargs:
            raise CodegenError(f"{self.where}: the code template uses {{{key}}}, which is not a placeholder "
                               "or parameter of this type (a bug in its declaration)", self.where)
        return kwargs[key]

    def format_field(self, value, format_spec):
        if isinstance(value, Joined):
            return (format_spec or ", ").join(value)
        if isinstance(value, Raw):
            return "*" + value if format_spec == "*" else str(value)
        if format_spec == "*":
            return ", ".join(literal(v) for v in value)
        return literal(value)


def names_in(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def is_atom(expr: str) -> bool:
    """True for a name, attribute, subscript or call: safe to put anywhere an operand goes."""
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return False
    return isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.Call))


# -- constructor signatures -------------------------------------------------------------------
class _Required:
    """The marker for an argument without a default (its repr reads well in test failures)."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()  # in a Signature: torch's constructor has no default for this argument

Signature = tuple[tuple[str, Any], ...]  # (argument name, torch's default or REQUIRED), in order


def constructor_signature(layer: LayerType, derived: Iterable[str] = (), code: Code | None = None) -> Signature:
    """The constructor a node of `layer` calls, read from the registry alone (no torch): the
    declared `signature`, else the `__init__` of the helper class the declaration carries, else
    the derived sizes (`derived`, all required) followed by the params with their defaults."""
    code = code or layer.code or DEFAULT_CODE
    if layer.signature is not None:
        return _parse_signature(layer.signature, layer.name)
    if not layer.torch_class and code.module:
        return _helper_signature(code.helper, code.module, layer.name)
    return (tuple((name, REQUIRED) for name in derived)
            + tuple((p.name, p.default) for p in layer.params if p.ctor))


@functools.cache
def _parse_signature(text: str, where: str) -> Signature:
    try:
        function = ast.parse(f"def _({text}): pass").body[0]
        return _arguments(function.args)
    except (SyntaxError, ValueError) as exc:
        raise CodegenError(f"{where}: the declared signature {text!r} is not a list of arguments with literal "
                           f"defaults ({exc}; a bug in its declaration)", where) from None


@functools.cache
def _helper_signature(helper: str, module: str, where: str) -> Signature:
    """The arguments of the helper class's __init__ after self, read from its source text."""
    classes = [n for n in ast.parse(helper).body if isinstance(n, ast.ClassDef) and n.name == module]
    if not classes:
        raise CodegenError(f"{where}: the helper source does not define class {module}", where)
    inits = [n for n in classes[0].body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
    try:
        return _arguments(inits[0].args)[1:] if inits else ()
    except ValueError as exc:
        raise CodegenError(f"{where}: {module}.__init__ cannot be read ({exc}; a bug in its declaration)",
                           where) from None


def _arguments(args: ast.arguments) -> Signature:
    if args.vararg or args.kwarg or args.kwonlyargs:
        raise ValueError("*args, **kwargs and keyword-only arguments cannot be read")
    names = [a.arg for a in args.posonlyargs + args.args]
    defaults = [REQUIRED] * (len(names) - len(args.defaults)) + [ast.literal_eval(d) for d in args.defaults]
    return tuple(zip(names, defaults, strict=True))


def same_value(value: Any, default: Any) -> bool:
    """Whether `value` equals torch's default (1 == 1.0 and [3, 3] == (3, 3), but True != 1)."""
    if default is REQUIRED or isinstance(value, Raw) or isinstance(value, bool) != isinstance(default, bool):
        return False
    return (tuple(value) if isinstance(value, list) else value) == default


def plain_text(text: str) -> bool:
    return isinstance(text, str) and bool(re.fullmatch(r"[A-Za-z0-9 _.,:;!?()+\-/&]{1,80}", text))


def docstring(text: str) -> str:
    """A triple-quoted docstring for text made here (from ids, shapes and plain names)."""
    if '"""' in text or "\\" in text:
        return literal(text)
    return f'"""{text}"""'


def placeholders() -> frozenset[str]:
    """Template names reserved for codegen; no layer parameter may use one."""
    return PLACEHOLDERS


def fresh_name(stem: str, taken: set[str]) -> str:
    """`stem`, or `stem_2`, `stem_3`, ...: the first that is neither in `taken` nor a keyword;
    it is added to `taken` so the next call gets another."""
    name, number = stem, 2
    while name in taken or keyword.iskeyword(name):
        name, number = f"{stem}_{number}", number + 1
    taken.add(name)
    return name
