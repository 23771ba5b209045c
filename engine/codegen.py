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

import hashlib
import keyword
import linecache
import re
import sys
import types

from engine.codegen_blocks import BlockClasses
from engine.codegen_body import Body
from engine.codegen_text import (  # noqa: F401 -- REQUIRED, constructor_signature, literal, placeholders: the API
    REQUIRED,
    CodegenError,
    constructor_signature,
    docstring,
    fresh_name,
    literal,
    placeholders,
    plain_text,
)
from graph.analysis import Analysis, NodeInfo, analyse, consumers_through_passthrough
from graph.blocks import BlockType
from graph.identifiers import RESERVED
from graph.model import Graph
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

# Names the generated file defines or imports at module level.
_MODULE_NAMES = frozenset({"torch", "nn", "math", "build_model", "example_inputs", "Module"})


# -- public API ---------------------------------------------------------------------------
def generate_code(project: Project, *, shape_comments: bool = True, analysis: Analysis | None = None,
                  tap: str | None = None) -> str:
    """The Python source of `project`'s model; raises CodegenError for an invalid graph.
    `analysis`: the graph's analysis when the caller has just made it (saves a second one).
    `tap`: a module-level function forward() calls with every node's value (see `Body`); the export
    never sets it."""
    return _Generator(project, analysis or analyse(project.graph), shape_comments, tap).source()


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


# -- the generator ---------------------------------------------------------------------------
class _Generator:
    def __init__(self, project: Project, analysis: Analysis, shape_comments: bool, tap: str | None = None):
        self.project = project
        self.graph: Graph = project.graph
        self.analysis = analysis
        self.comments = shape_comments
        if not analysis.valid:
            errors = analysis.errors
            first = errors[0]
            more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
            raise CodegenError(f"{first}{more}", first.node, analysis.diagnostics)
        self.info: dict[str, NodeInfo] = analysis.nodes
        names = RESERVED | _MODULE_NAMES | set(project.blocks.names())
        self.body = Body(self.graph, self.info, analysis.order, taken=names, comments=shape_comments, tap=tap)
        self.layers: dict[str, LayerType] = self.body.layers
        self.inputs, self.outputs = self.body.inputs, self.body.outputs
        self.blocks = BlockClasses(self.graph, analysis, self.body.live)
        self.taken = {n.id for n in self.graph.nodes} | names | {"_"}
        self.helpers = self._helpers()
        self.name = self._class_name()

    # -- facts about the graph -------------------------------------------------------------
    def _helpers(self) -> dict[str, str]:
        """The helper classes the layers need (PositionalEncoding), in the model's and the blocks' layers."""
        helpers: dict[str, str] = {}
        graphs = [self.graph, *(cls.block.graph for cls in self.blocks.classes.values())]
        for graph in graphs:
            for node in graph.nodes:
                layer = graph.layer_of(node)
                code = layer.code if layer is not None else None
                if code is not None and code.module and code.helper:
                    helpers.setdefault(code.module, code.helper.strip("\n"))
        return helpers

    def _class_name(self) -> str:
        name = class_name(self.project.name)
        if (keyword.iskeyword(name) or name in _MODULE_NAMES or name in self.helpers
                or name in self.blocks.classes):
            name += "Model"
        return name

    def fresh(self, stem: str) -> str:
        """A variable name not used by any node id, module-level name or earlier fresh name."""
        return fresh_name(stem, self.taken)

    # -- the file ---------------------------------------------------------------------------
    def source(self) -> str:
        init = self.body.init_lines(self._constructor)
        forward = self._forward_lines()
        helpers = list(self.helpers.values())
        uses_math = any("math." in h for h in helpers)
        out: list[str] = [self._module_doc(), ""]
        out += ["import math", ""] if uses_math else []
        out += ["import torch", "from torch import nn", "", ""]
        for helper in [*helpers, *self.blocks.sources()]:
            out += [helper, "", ""]
        out.append(f"class {self.name}(nn.Module):")
        out.append(f"    {docstring(self._class_doc())}")
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
        title = self.project.name if plain_text(self.project.name) else self.name
        return docstring(
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

    # -- __init__ and forward --------------------------------------------------------------------
    def _constructor(self, node_id: str, code: Code) -> str | None:
        if isinstance(self.layers[node_id], BlockType):
            return self.blocks.call(self.graph[node_id], self.info[node_id])
        return self.body.constructor(node_id, code)

    def _forward_lines(self) -> list[str]:
        lines, results = self.body.forward_lines()
        comment = f"  # {', '.join(self.outputs)}" if self.comments and results != self.outputs else ""
        return [*lines, "return " + ", ".join(results) + comment]
