"""Generates docs/layers.md from the layer registry (DESIGN §2: the docs read the one declaration).

    python tools/gen_layer_docs.py           rewrite docs/layers.md
    python tools/gen_layer_docs.py --check   exit 1 if docs/layers.md is out of date

Everything here comes from the declarations in graph/layers/; the example line of each type
comes from running its shape rule on a small input with the default parameters.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph.params import Param
from graph.registry import CATEGORIES, LayerType, ShapeError, all_types

OUTPUT = ROOT / "docs" / "layers.md"

# Input shapes tried, in order, for each type's example: the first its rule accepts is shown.
_EXAMPLE_SHAPES = [(8,), (8, 8), (8, 8, 8), (8, 8, 8, 8), (1,), (1, 1), (1, 1, 1), (8, 9)]  # (8, 9): Fold's 3x3 blocks

_DTYPE = {
    "float": "takes and gives float tensors",
    "int": "takes int64 token ids, gives float tensors",
    "same": "passes its input's element type through",
}


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(["N", *map(str, shape)]) + ")"


def _value(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str):
        return f"`{value!r}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def _range(p: Param) -> str:
    if p.kind == "choice":
        return ", ".join(f"`{c!r}`" for c in p.choices)
    if p.kind == "bool":
        return "`true`, `false`" + (", or null" if p.optional else "")
    fmt = (lambda v: str(int(v)) if float(v).is_integer() else f"{v:g}")
    parts = []
    if p.minimum is not None and p.maximum is not None:
        parts.append(f"{fmt(p.minimum)} to {fmt(p.maximum)}")
    elif p.minimum is not None:
        parts.append(f"≥ {fmt(p.minimum)}")
    elif p.maximum is not None:
        parts.append(f"≤ {fmt(p.maximum)}")
    if p.kind == "ints" and (p.min_len or p.max_len is not None):
        parts.append(f"{p.min_len} to {p.max_len} entries" if p.max_len is not None else f"≥ {p.min_len} entries")
    if p.kind == "padding":
        parts.append("or `'same'`, `'valid'`")
    if p.allow_minus_one:
        parts.append("one entry may be -1")
    if p.optional:
        parts.append("or null")
    return "; ".join(parts) or "any"


def _kind(p: Param) -> str:
    if p.kind in ("size", "padding") and p.dims > 1:
        return f"{p.kind} ({p.dims}-D)"
    return p.kind


def _ports(layer: LayerType, which: str) -> str:
    declared = layer.inputs if which == "inputs" else layer.outputs
    if not callable(declared):
        return ", ".join(f"{i}: `{name}`" for i, name in enumerate(declared)) or "none"
    defaults = layer.defaults()
    ports = declared(defaults)
    counter = next((p.name for p in layer.params if p.kind == "int" and isinstance(defaults[p.name], int)
                    and len(declared({**defaults, p.name: defaults[p.name] + 1})) != len(ports)), None)
    listed = ", ".join(f"{i}: `{name}`" for i, name in enumerate(ports))
    return f"one per `{counter}` ({listed}, ...)" if counter else listed


def _example(layer: LayerType) -> str:
    defaults = layer.defaults()
    count = len(layer.input_ports(defaults))
    if count == 0:
        inferred = layer.infer(defaults, [])
        return f"→ {' | '.join(map(_shape, inferred.outputs))} with the defaults"
    for shape in _EXAMPLE_SHAPES:
        try:
            inferred = layer.infer(defaults, [shape] * count)
        except ShapeError:
            continue
        inputs = ", ".join([_shape(shape)] * count)
        outputs = " | ".join(map(_shape, inferred.outputs)) or "nothing (the model returns its input)"
        derived = ", ".join(f"`{k}={v}`" for k, v in inferred.derived.items())
        text = f"{inputs} → {outputs}; {inferred.params:,} parameters, {inferred.macs:,} MACs"
        return text + (f"; {derived}" if derived else "")
    return "no example with the default parameters"


def _derived(layer: LayerType) -> list[str]:
    defaults = layer.defaults()
    count = len(layer.input_ports(defaults))
    for shape in _EXAMPLE_SHAPES:
        try:
            return list(layer.infer(defaults, [shape] * count).derived) if count else []
        except ShapeError:
            continue
    return []


def render_type(layer: LayerType) -> list[str]:
    lines = [f"### {layer.name}", "", layer.doc, ""]
    torch_name = f"`torch.nn.{layer.torch_class}`" if layer.torch_class else "LayerLoom type (written out by codegen)"
    lines.append(f"- **Becomes:** {torch_name}"
                 + (", always with " + ", ".join(f"`{k}={v!r}`" for k, v in layer.fixed_ctor)
                    if layer.fixed_ctor else ""))
    lines.append(f"- **Inputs:** {_ports(layer, 'inputs')}")
    lines.append(f"- **Outputs:** {_ports(layer, 'outputs')}")
    element = "gives its `dtype`" if layer.name == "Input" else _DTYPE[layer.dtype]
    lines.append(f"- **Element type:** {element}")
    derived = _derived(layer)
    if derived:
        lines.append("- **Inferred from the input, never asked:** " + ", ".join(f"`{d}`" for d in derived))
    lines.append(f"- **Example:** {_example(layer)}")
    lines.append("")
    if layer.params:
        lines += ["| parameter | kind | default | range / choices | help |", "|---|---|---|---|---|"]
        for p in layer.params:
            notes = []
            if not p.ctor:
                notes.append("LayerLoom only, not passed to torch")
            if p.advanced:
                notes.append("advanced")
            help_text = p.help.replace("|", "\\|") + (f" *({', '.join(notes)})*" if notes else "")
            lines.append(f"| `{p.name}` | {_kind(p)} | {_value(p.default)} | {_range(p)} | {help_text} |")
        lines.append("")
    else:
        lines += ["No parameters.", ""]
    return lines


def render() -> str:
    types = all_types()
    lines = [
        "# Layer types",
        "",
        "<!-- Generated by tools/gen_layer_docs.py from the registry in graph/layers/. Do not edit by hand:",
        "     run `python tools/gen_layer_docs.py` after changing a declaration. -->",
        "",
        f"LayerLoom knows {len(types)} layer types. Each is declared once in `graph/layers/`; the palette, the",
        "property editor, shape inference, the code generator and this page all read that declaration.",
        "Shapes are written with the batch dimension as `N` (see [shapes.md](shapes.md) for the conventions",
        "and how parameters and MACs are counted).",
        "",
        "Parameter kinds: `int`, `float`, `bool`, `choice` (one of a list), `str`; `ints` (a list of whole",
        "numbers); `size` (a whole number, or a list with one entry per spatial dimension); `padding`",
        "(like `size`, or `'same'` / `'valid'`). A parameter left out of a file has its default.",
        "",
    ]
    for category in CATEGORIES:
        members = [t for t in types if t.category == category]
        if members:
            lines.append(f"- **{category}:** " + ", ".join(f"[{t.name}](#{t.name.lower()})" for t in members))
    lines.append("")
    for category in CATEGORIES:
        members = [t for t in types if t.category == category]
        if not members:
            continue
        lines += [f"## {category}", ""]
        for layer in members:
            lines += render_type(layer)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate docs/layers.md from the layer registry.")
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/layers.md is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run python tools/gen_layer_docs.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print("wrote", OUTPUT.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
