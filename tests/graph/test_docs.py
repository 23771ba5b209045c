"""docs/layers.md is generated from the registry and must not drift from it."""
from __future__ import annotations

import importlib.util

from graph.registry import all_types
from tests.conftest import ROOT


def _generator():
    spec = importlib.util.spec_from_file_location("gen_layer_docs", ROOT / "tools" / "gen_layer_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_layers_md_is_up_to_date():
    generated = _generator().render()
    current = (ROOT / "docs" / "layers.md").read_text(encoding="utf-8")
    assert current == generated, "docs/layers.md is stale: run python tools/gen_layer_docs.py"


def test_every_type_and_parameter_is_documented():
    text = _generator().render()
    for layer in all_types():
        section = text.split(f"\n### {layer.name}\n", 1)[1].split("\n### ", 1)[0]
        assert layer.doc in section
        for p in layer.params:
            assert f"| `{p.name}` |" in section and p.help.replace("|", "\\|") in section, (layer.name, p.name)
        assert "Example:** no example" not in section, layer.name


def test_docs_link_to_each_other():
    for name in ("layers.md", "shapes.md", "project-file.md"):
        assert (ROOT / "docs" / name).exists(), name
