"""The compiler: a Graph becomes one readable, self-contained PyTorch module (DESIGN §5).

    source = generate_code(project)        # the text `export -o model.py` writes
    module = load_generated(source)        # that text compiled in memory
    model = module.build_model()           # == build_model(project)

Everything about a layer type comes from its registry declaration (graph/registry.py):
`torch_class` names the `nn` class, the user parameters with `ctor=True`, the inferred
sizes (`Inferred.derived`) and `fixed_ctor` become constructor arguments, placed and
defaulted as the declared `signature` says, and the optional `Code` spec says how to write a
node whose forward line is not `self.<id>(x)`. Writing the text never imports torch (the
designer fills its Code panel without it; `export -o x.py` needs none). This module lists no
layer types; docs/codegen.md describes the output and the spec.

The generated source is the one program: the trainer runs what `load_generated` compiles,
and the exporter writes the same text, so a trained model and an exported one cannot differ.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import keyword
import linecache
import re
import string
import sys
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graph.analysis import Analysis, Diagnostic, NodeInfo, analyse, consumers_through_passthrough
from graph.identifiers import RESERVED
from graph.model import Edge, Graph, Node
from graph.project import Project
from graph.registry import Code, LayerType
from graph.shape_text import shape_text

__all__ = [
    "CodegenError",
    "build_model",
    "class_name",
    "compile_project",
    "generate_code",
    "graph_inputs",
    "graph_outputs",
    "load_generated",
]

_DEFAULT_CODE = Code()
_PLACEHOLDERS = frozenset({"m", "x", "xs", "y", "i", "out"})
# Names the generated file defines or imports at module level.
_MODULE_NAMES = frozenset({"torch", "nn", "math", "build_model", "example_inputs", "Module"})


class CodegenError(ValueError):
    """The graph cannot become code. `node` is the id at fault (None for the whole graph);
    `diagnostics` holds graph.analysis's problems when the graph is invalid."""

    def __init__(self, message: str, node: str | None = None, diagnostics: list[Diagnostic] | None = None):
        super().__init__(message)
        self.message = message
        self.node = node
        self.diagnostics = list(diagnostics or [])


# -- public API ---------------------------------------------------------------------------
def generate_code(project: Project, *, shape_comments: bool = True, analysis: Analysis | None = None) -> str:
    """The Python source of `project`'s model; raises CodegenError for an invalid graph.
    `analysis`: the graph's analysis when the caller has just made it (saves a second one)."""
    return _Generator(project, analysis or analyse(project.graph), shape_comments).source()


def load_generated(source: str) -> types.ModuleType:
    """Compile generated source into a fresh module (with `build_model`, `example_inputs`).

    The text is registered with linecache under a name like `<layerloom-generated-1a2b3c>`
    so that tracebacks and `inspect.getsource` show the generated lines, and the module is
    entered in sys.modules under `layerloom_generated_1a2b3c` so that its classes pickle.
    """
    digest = hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]
    name, filename = f"layerloom_generated_{digest}", f"<layerloom-generated-{digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    exec(compile(source, filename, "exec"), module.__dict__)  # noqa: S102 -- our own generated text
    sys.modules[name] = module
    return module


def compile_project(project: Project) -> tuple[str, types.ModuleType]:
    """The generated source and the module compiled from it, in one step."""
    source = generate_code(project)
    return source, load_generated(source)


def build_model(project: Project):
    """A fresh `nn.Module` built from exactly the source that `export` writes."""
    return compile_project(project)[1].build_model()


def graph_inputs(graph: Graph) -> list[str]:
    """The ids of the nodes that become forward() arguments, in file order."""
    return [n.id for n in graph.inputs()]


def graph_outputs(graph: Graph) -> list[str]:
    """The ids of the nodes whose values forward() returns, in file order."""
    return [n.id for n in graph.outputs()]


def class_name(project_name: str) -> str:
    """The model class name: the project name's ASCII letters and digits in CamelCase
    ('LeNet-5' -> 'LeNet5', 'spiral classifier' -> 'SpiralClassifier'), 'Model' if none."""
    parts = re.findall(r"[A-Za-z0-9]+", project_name if isinstance(project_name, str) else "")
    name = "".join(p[0].upper() + p[1:] for p in parts) or "Model"
    if name[0].isdigit():
        name = "Model" + name
    return name


# -- rendering values -----------------------------------------------------------------------
class _Raw(str):
    """A code fragment (a name or expression) that goes into a template as it is."""


class _Joined(list):
    """Several code fragments; `{xs}` joins them with ', ', `{xs: + }` with ' + '."""


def literal(value: Any) -> str:
    """A parameter value as a Python literal; lists become tuples. Strings go through repr."""
    if isinstance(value, (list, tuple)):
        items = [literal(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, (bool, int, float, str)) or value is None:
        return repr(value)
    raise TypeError(f"cannot write {type(value).__name__} value {value!r} as code")


class _Formatter(string.Formatter):
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
        if isinstance(value, _Joined):
            return (format_spec or ", ").join(value)
        if isinstance(value, _Raw):
            return str(value)
        if format_spec == "*":
            return ", ".join(literal(v) for v in value)
        return literal(value)


def _names_in(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def _is_atom(expr: str) -> bool:
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
    code = code or layer.code or _DEFAULT_CODE
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


def _same(value: Any, default: Any) -> bool:
    """Whether `value` equals torch's default (1 == 1.0 and [3, 3] == (3, 3), but True != 1)."""
    if default is REQUIRED or isinstance(value, bool) != isinstance(default, bool):
        return False
    return (tuple(value) if isinstance(value, list) else value) == default


# -- the generator ---------------------------------------------------------------------------
@dataclass
class _Emitted:
    """What the forward pass knows about one node: an expression per output port."""

    ports: list[str] = field(default_factory=list)


class _Generator:
    def __init__(self, project: Project, analysis: Analysis, shape_comments: bool):
        self.project = project
        self.graph: Graph = project.graph
        self.analysis = analysis
        self.comments = shape_comments
        if not analysis.valid:
            errors = analysis.errors
            first = errors[0]
            more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
            raise CodegenError(f"{first}{more}", first.node, analysis.diagnostics)
        self.by_id: dict[str, Node] = {n.id: n for n in self.graph.nodes}
        self.layers: dict[str, LayerType] = {n.id: n.layer for n in self.graph.nodes}
        self.info: dict[str, NodeInfo] = analysis.nodes
        self.incoming: dict[str, dict[int, Edge]] = {}
        for e in self.graph.edges:
            self.incoming.setdefault(e.dst, {})[e.dst_port] = e
        self.live = self._live_nodes()
        self.order = [n for n in analysis.order if n in self.live]
        self.inputs = graph_inputs(self.graph)
        self.outputs = graph_outputs(self.graph)
        self.uses = self._count_uses()
        self.taken = set(self.by_id) | RESERVED | _MODULE_NAMES | {"_"}
        self.helpers = self._helpers()
        self.name = self._class_name()

    # -- facts about the graph -------------------------------------------------------------
    def _code(self, node_id: str) -> Code:
        layer = self.layers[node_id]
        return (layer.code or _DEFAULT_CODE).for_values(self.info[node_id].values)

    def _live_nodes(self) -> set[str]:
        """The nodes some Output depends on; everything else is left out of the code."""
        live: set[str] = set()
        stack = [n.id for n in self.graph.nodes if self._code(n.id).role == "output"]
        while stack:
            current = stack.pop()
            if current not in live:
                live.add(current)
                stack.extend(e.src for e in self.incoming.get(current, {}).values())
        return live

    def _count_uses(self) -> dict[tuple[str, int], int]:
        uses: dict[tuple[str, int], int] = {}
        for e in self.graph.edges:
            if e.dst in self.live:
                uses[(e.src, e.src_port)] = uses.get((e.src, e.src_port), 0) + 1
        return uses

    def _helpers(self) -> dict[str, str]:
        helpers: dict[str, str] = {}
        for node_id in self.order:
            code = self._code(node_id)
            if code.module and code.helper:
                helpers.setdefault(code.module, code.helper.strip("\n"))
        return helpers

    def _class_name(self) -> str:
        name = class_name(self.project.name)
        if keyword.iskeyword(name) or name in _MODULE_NAMES or name in self.helpers:
            name += "Model"
        return name

    def fresh(self, stem: str) -> str:
        """A variable name not used by any node id, module-level name or earlier fresh name."""
        name, number = stem, 2
        while name in self.taken or keyword.iskeyword(name):
            name, number = f"{stem}_{number}", number + 1
        self.taken.add(name)
        return name

    # -- the file ---------------------------------------------------------------------------
    def source(self) -> str:
        init = self._init_lines()
        forward = self._forward_lines()
        helpers = list(self.helpers.values())
        uses_math = any("math." in h for h in helpers)
        out: list[str] = [self._module_doc(), ""]
        out += ["import math", ""] if uses_math else []
        out += ["import torch", "from torch import nn", "", ""]
        for helper in helpers:
            out += [helper, "", ""]
        out.append(f"class {self.name}(nn.Module):")
        out.append(f"    {_docstring(self._class_doc())}")
        out.append("")
        out.append("    def __init__(self):")
        out.append("        super().__init__()")
        out += [f"        {line}" for line in init]
        out.append("")
        out.append(f"    def forward({', '.join(['self', *self.inputs])}):")
        out += [f"        {line}" for line in forward]
        out += ["", ""]
        out += self._build_model_lines()
        out += ["", ""]
        out += self._example_inputs_lines()
        out += ["", ""]
        out += self._main_lines()
        return "\n".join(out) + "\n"

    def _module_doc(self) -> str:
        title = self.project.name if _plain_text(self.project.name) else self.name
        return _docstring(
            f"{title}: a PyTorch model generated by LayerLoom; plain PyTorch that needs only torch.\n\n"
            "    model = build_model()\n"
            "    outputs = model(*example_inputs())\n\n"
            "Run as a script, it does just that and prints the shape of each output.\n\n"
            "Weights exported with it (`export --weights`) lie beside this file as <name>.safetensors:\n\n"
            "    model.load_state_dict(safetensors.torch.load_file(\"model.safetensors\"))\n")

    def _class_doc(self) -> str:
        shapes = ", ".join(f"{i} {shape_text(tuple(self.info[i].values['shape']))}" for i in self.inputs)
        outs = ", ".join(f"{o} {shape_text(self.info[o].inputs[0])}" for o in self.outputs)
        return f"Inputs: {shapes}. Outputs: {outs}."

    def _build_model_lines(self) -> list[str]:
        return ["def build_model():", f'    """A fresh {self.name} with newly initialised weights."""',
                f"    return {self.name}()"]

    def _example_inputs_lines(self) -> list[str]:
        lines = ["def example_inputs(batch_size=2):",
                 '    """Random inputs of the right shapes and dtypes, one per forward() argument."""']
        tensors = []
        for node_id in self.inputs:
            values = self.info[node_id].values
            shape = ", ".join(["batch_size", *map(str, values["shape"])])
            if values["dtype"] == "int64":
                tensors.append(f"torch.randint(0, {self._vocabulary(node_id)}, ({shape}))")
            else:
                tensors.append(f"torch.randn({shape})")
        if len(tensors) == 1:
            lines.append(f"    return ({tensors[0]},)")
        else:
            lines.append("    return (")
            lines += [f"        {t}," for t in tensors]
            lines.append("    )")
        return lines

    def _main_lines(self) -> list[str]:
        """`python model.py`: build, run on example inputs, print each output's shape. The
        outputs keep their node ids as names; the model's name is fresh (an Output may be `model`)."""
        model = self.fresh("model")
        return ['if __name__ == "__main__":',
                f"    {model} = build_model().eval()",
                "    with torch.no_grad():",
                f"        {', '.join(self.outputs)} = {model}(*example_inputs())",
                *(f"    print({literal(o + ':')}, tuple({o}.shape))" for o in self.outputs)]

    def _vocabulary(self, input_id: str) -> int:
        """Token ids must be valid for every Embedding the input reaches, through layers that pass
        int64 on (the one query the data side asks too); 2 when it reaches none."""
        sizes = [self.info[n.id].values.get("num_embeddings", 2)
                 for n in consumers_through_passthrough(self.graph, input_id) if self.layers[n.id].dtype == "int"]
        return min(sizes, default=2)

    # -- __init__ ---------------------------------------------------------------------------
    def _init_lines(self) -> list[str]:
        """Submodules in the design file's node order, which is also their state_dict order."""
        lines = []
        for node in self.graph.nodes:
            node_id = node.id
            if node_id not in self.live:
                continue
            code = self._code(node_id)
            if code.role != "layer":
                continue
            ctor = self._constructor(node_id, code)
            if ctor is not None:
                lines.append(f"self.{node_id} = {ctor}")
        return lines

    def _constructor(self, node_id: str, code: Code) -> str | None:
        layer, info = self.layers[node_id], self.info[node_id]
        if layer.torch_class:
            prefix = f"nn.{layer.torch_class}"
        elif code.module:
            prefix = code.module
        else:
            if "m" in _names_in(code.call):
                raise CodegenError(f"{node_id}: type {layer.name} has neither a torch_class nor a Code module, "
                                   "but its call uses {m}", node_id)
            return None
        # name -> (value, always): derived sizes and fixed arguments are always passed.
        given: dict[str, tuple[Any, bool]] = {
            k: (v[0] if isinstance(v, list) and len(v) == 1 else v, True) for k, v in info.derived.items()}
        for p in layer.params:
            if p.ctor:
                value = info.values[p.name]
                if p.kind in ("size", "padding") and isinstance(value, list) and len(set(value)) == 1:
                    value = value[0]
                given[p.name] = (value, False)
        given.update((k, (v, True)) for k, v in layer.fixed_ctor)
        signature = constructor_signature(layer, info.derived, code)
        unknown = sorted(given.keys() - dict(signature).keys())
        if unknown:
            raise CodegenError(f"{node_id}: the {layer.name} declaration passes {', '.join(unknown)}, which its "
                               f"constructor signature does not list (a bug in its declaration)", node_id)
        positional: list[str] = []
        keywords: list[str] = []
        for name, default in signature:
            if name not in given:
                continue  # left at torch's default
            value, always = given[name]
            if default is REQUIRED and len(positional) < 2 and not keywords:
                positional.append(literal(value))
            elif default is REQUIRED or always or not _same(value, default):
                keywords.append(f"{name}={literal(value)}")
        return f"{prefix}({', '.join(positional + keywords)})"

    # -- forward ----------------------------------------------------------------------------
    def _forward_lines(self) -> list[str]:
        emitted: dict[str, _Emitted] = {}
        lines: list[str] = []
        for node_id in self.order:
            code = self._code(node_id)
            if code.role == "input":
                emitted[node_id] = _Emitted([node_id])
            elif code.role == "layer":
                emitted[node_id] = self._node_lines(node_id, code, emitted, lines)
        results = [self._input_exprs(o, emitted)[0] for o in self.outputs]
        comment = f"  # {', '.join(self.outputs)}" if self.comments and results != self.outputs else ""
        lines.append("return " + ", ".join(results) + comment)
        return lines

    def _input_exprs(self, node_id: str, emitted: dict[str, _Emitted]) -> list[str]:
        incoming = self.incoming.get(node_id, {})
        return [emitted[incoming[i].src].ports[incoming[i].src_port] for i in sorted(incoming)]

    def _node_lines(self, node_id: str, code: Code, emitted: dict[str, _Emitted], lines: list[str]) -> _Emitted:
        layer, info = self.layers[node_id], self.info[node_id]
        ports = layer.output_ports(info.values)
        templates = code.outputs
        if len(templates) == 1 and len(ports) != 1:
            templates = templates * len(ports)
        if len(templates) != len(ports):
            raise CodegenError(f"{node_id}: type {layer.name} has {len(ports)} output ports but its Code "
                               f"gives {len(code.outputs)} output expressions", node_id)
        inputs = self._input_exprs(node_id, emitted)
        fields: dict[str, Any] = {p.name: info.values[p.name] for p in layer.params}
        fields.update(m=_Raw(f"self.{node_id}"), xs=_Joined(inputs), out=info.outputs[0] if info.outputs else ())
        fields.update({f"x{i}": _Raw(expr) for i, expr in enumerate(inputs)})
        if inputs:
            fields["x"] = _Raw(inputs[0])
        used_ports = [i for i in range(len(ports)) if self.uses.get((node_id, i))]
        call = code.call
        for port, lean in code.unused:
            if port not in used_ports:
                call = lean
                break
        fmt = _Formatter(node_id)
        call = fmt.format(call, **fields)

        # Which of the unpacked names the used ports need; the rest become `_`.
        needed = {name for i in used_ports for name in _names_in(templates[i])}
        names: dict[str, _Raw] = {}
        for name in _names_in(code.unpack):
            if name not in needed:
                names[name] = _Raw("_")
            elif name == "y":
                names[name] = _Raw(node_id)
            else:
                names[name] = _Raw(self.fresh(f"{node_id}_{name}"))
        target = code.unpack.format(**names)
        comment = ""
        if self.comments and len(ports) == 1:
            comment = f"  # {shape_text(info.outputs[0])}"
        elif self.comments and ports:
            comment = "  # " + ", ".join(f"{port} {shape_text(s)}" for port, s in zip(ports, info.outputs))
        lines.append(f"{target} = {call}{comment}")

        result = _Emitted()
        for i, template in enumerate(templates):
            if i not in used_ports:
                result.ports.append("")
                continue
            expr = fmt.format(template, **{**fields, **names, "i": i})
            is_name = expr.isidentifier()
            if not is_name and (not _is_atom(expr) or (self.uses[(node_id, i)] > 1 and "(" in expr)):
                var = self.fresh(f"{node_id}_{ports[i]}")
                shape = f"  # {shape_text(info.outputs[i])}" if self.comments else ""
                lines.append(f"{var} = {expr}{shape}")
                expr = var
            result.ports.append(expr)
        return result


def _plain_text(text: str) -> bool:
    return isinstance(text, str) and bool(re.fullmatch(r"[A-Za-z0-9 _.,:;!?()+\-/&]{1,80}", text))


def _docstring(text: str) -> str:
    """A triple-quoted docstring for text made here (from ids, shapes and plain names)."""
    if '"""' in text or "\\" in text:
        return literal(text)
    return f'"""{text}"""'


def placeholders() -> frozenset[str]:
    """Template names reserved for codegen; no layer parameter may use one."""
    return _PLACEHOLDERS
