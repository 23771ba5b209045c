"""What needs no PyTorch must not import it (issue 11, items 6 and 7): the code text, a `.py`
export without weights, and the declarations the training panel reads (keys, defaults, data
sets). Each check runs in a fresh interpreter, since this test process has torch loaded already."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import EXAMPLES, ROOT


def torch_free(body: str) -> None:
    """Run `body` in a fresh interpreter at the repo root; it must finish without importing torch."""
    script = textwrap.dedent(body) + textwrap.dedent("""
        import sys
        loaded = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
        print("TORCH:", loaded[:5])
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "TORCH: []" in result.stdout, result.stdout + result.stderr


def test_code_is_generated_from_the_registry_alone():
    torch_free(f"""
        from pathlib import Path
        from engine.codegen import generate_code
        from graph.project import load
        for path in sorted(Path({str(EXAMPLES)!r}).glob("*.loom")):
            assert "class " in generate_code(load(path)), path
    """)


def test_every_layer_type_generates_its_constructor_without_torch():
    torch_free("""
        from engine.codegen import generate_code
        from graph import registry
        from graph.project import Project
        from graph.model import Graph
        # The catalogue of tests/engine/designs imports torch for its hand-written twins, so the
        # one-layer designs are made here: each type behind Inputs of the first shape it accepts.
        shapes = [(6, 8), (8,), (8, 6, 6), (4, 6, 6, 6), (8, 8)]
        written = 0
        for layer in registry.all_types():
            if layer.name in ("Input", "Output"):
                continue
            ports = layer.input_ports(layer.defaults())
            for shape in shapes:
                g = Graph()
                dtype = "int64" if layer.dtype == "int" else "float32"
                for i in range(len(ports)):
                    g.add_node("Input", f"in{i}", {"shape": list(shape[:1] if dtype == "int64" else shape),
                                                  "dtype": dtype})
                g.add_node(layer.name, "layer")
                for i in range(len(ports)):
                    g.connect(f"in{i}", "layer", 0, i)
                g.add_node("Output", "out")
                g.connect("layer", "out")
                try:
                    generate_code(Project(name="one", graph=g))
                except ValueError:
                    continue
                written += 1
                break
        assert written > 40, written
    """)


def test_a_py_export_without_weights_needs_no_torch(tmp_path):
    out = tmp_path / "resnet18.py"
    torch_free(f"""
        import main
        assert main.main(["export", {str(EXAMPLES / "resnet18.loom")!r}, "-o", {str(out)!r}]) == 0
    """)
    assert "class ResNet18(nn.Module):" in out.read_text(encoding="utf-8")


def test_the_declarations_import_without_torch():
    torch_free("""
        from engine.data.registry import AUGMENT_KEYS, COMMON_KEYS, all_datasets, get, parse_section
        from engine.training.settings import (EARLY_STOPPING_KEYS, SCHEDULE_KEYS, SCHEDULES, TELEMETRY_KEYS,
                                              TRAINING_KEYS, parse_training)
        from engine.training.events import TrainingError
        from engine.data import DataError
        assert get("spiral") is not None and len(all_datasets()) > 5
        settings = parse_training({"device": "cpu", "schedule": "cosine"})
        assert settings.device == "cpu" and settings.schedule.type == "cosine"
        dataset, options = parse_section({"dataset": "spiral"})
        assert dataset.name == "spiral"
    """)


def test_the_training_panel_module_imports_without_torch():
    torch_free("""
        import os
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        import app.training.panel
    """)


def test_settings_defaults_come_from_one_table():
    """`parse_training({})` is the defaults; each declared key's default is the setting's value
    where the key is a plain value (object keys are resolved by their own parsers)."""
    from engine.training.settings import TELEMETRY_KEYS, TRAINING_KEYS, Telemetry, parse_training

    settings = parse_training({})
    for p in TRAINING_KEYS:
        if p.default is not None and p.kind != "str":
            assert getattr(settings, p.name) == p.default, p.name
    assert Telemetry() == Telemetry(**{p.name: p.default for p in TELEMETRY_KEYS})
