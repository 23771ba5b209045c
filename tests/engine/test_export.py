"""Exporters and `python main.py export` (DESIGN §4, §5, §8): the .py runs on its own, ONNX agrees
with onnxruntime, TorchScript reloads, weights go in, and user mistakes get messages, not tracebacks."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import main
from engine.codegen import build_model, generate_code, load_generated
from engine.export import ExportError, apply_weights, export, export_project, format_for, load_weights
from graph.project import save
from tests.conftest import EXAMPLES, ROOT
from tests.engine.designs import DESIGNS
from tests.engine.designs._build import Builder

torch.set_num_threads(1)
RESNET18 = EXAMPLES / "resnet18.loom"


def cli(*args: str, capsys) -> tuple[int, str, str]:
    code = main.main(["export", *args])
    out, err = capsys.readouterr()
    return code, out, err


def import_file(path: Path):
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def outputs_of(model, inputs):
    with torch.no_grad():
        out = model.eval()(*inputs)
    return out if isinstance(out, tuple) else (out,)


def multi_port_project():
    b = Builder("Multi port")
    tokens = b.add("Input", "tokens", shape=[6], dtype="int64")
    x = b.add("Embedding", "embed", tokens, num_embeddings=30, embedding_dim=8)
    attn = b.add("MultiheadAttention", "attn", x, x, x, num_heads=2)
    parts = b.add("Chunk", "parts", (attn, 0), chunks=2, dim=2)
    rnn = b.add("GRU", "rnn", b.add("Concat", "joined", (parts, 1), (parts, 0), dim=2), hidden_size=5,
                bidirectional=True)
    b.add("Output", "last", (rnn, 1))
    b.add("Output", "weights", (attn, 1), loss="none")
    lean = b.add("MultiheadAttention", "lean", x, (attn, 0), (attn, 0), num_heads=4)  # weights unread
    b.add("Output", "mixed", (lean, 0), loss="none")
    return b.project


# -- the ResNet-18 example, end to end ---------------------------------------------------------
def test_resnet18_py_export_runs_standalone(tmp_path):
    """`export` in a fresh process, then the file imported with neither the repo nor
    PYTHONPATH on the path: only torch is needed."""
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", str(RESNET18), "-o",
                             str(tmp_path / "model.py")], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "Traceback" not in result.stderr
    run = subprocess.run([sys.executable, "-E", "-s", "-c",
                          "import model; m = model.build_model(); y = m(*model.example_inputs()); print(tuple(y.shape))"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "(2, 1000)"


@pytest.mark.parametrize("suffix", [".onnx", ".pt"])
def test_resnet18_exports_to_onnx_and_torchscript(tmp_path, capsys, suffix):
    code, out, err = cli(str(RESNET18), "-o", str(tmp_path / f"resnet18{suffix}"), capsys=capsys)
    assert code == 0, err
    assert (tmp_path / f"resnet18{suffix}").stat().st_size > 40_000_000  # 11.7 M float32 weights
    assert "checked with onnxruntime" in out if suffix == ".onnx" else "reloaded and compared" in out


# -- one program ------------------------------------------------------------------------------
def test_exported_code_and_the_in_memory_model_agree_for_the_same_weights(tmp_path):
    project = DESIGNS["transformer"].project()
    trained = build_model(project)
    torch.save(trained.state_dict(), tmp_path / "trained.pt")
    result = export(project, tmp_path / "model.py", weights=tmp_path / "trained.pt")
    assert result.paths == [tmp_path / "model.py", tmp_path / "model.safetensors"]
    assert (tmp_path / "model.py").read_text() == generate_code(project)

    exported = import_file(tmp_path / "model.py")
    model = exported.build_model()
    from safetensors.torch import load_file

    model.load_state_dict(load_file(tmp_path / "model.safetensors"))
    inputs = exported.example_inputs(3)
    for got, want in zip(outputs_of(model, inputs), outputs_of(trained, inputs), strict=True):
        assert torch.equal(got, want)


def test_the_designer_calls_export_project(tmp_path):
    export_project(DESIGNS["lenet5"].project(), tmp_path / "lenet.py")
    assert load_generated((tmp_path / "lenet.py").read_text()).build_model() is not None


# -- ONNX and TorchScript on varied designs ----------------------------------------------------
VARIED = {"lenet5": lambda: DESIGNS["lenet5"].project(), "char_bigru": lambda: DESIGNS["char_bigru"].project(),
          "transformer": lambda: DESIGNS["transformer"].project(), "unet": lambda: DESIGNS["unet"].project(),
          "dcgan": lambda: DESIGNS["dcgan"].project(), "multi_port": multi_port_project}


@pytest.mark.parametrize("name", sorted(VARIED))
def test_onnx_agrees_with_torch_in_onnxruntime(tmp_path, name):
    onnxruntime = pytest.importorskip("onnxruntime")
    project = VARIED[name]()
    module = load_generated(generate_code(project))
    torch.manual_seed(0)
    model = module.build_model()
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    result = export(project, tmp_path / "model.onnx", weights=tmp_path / "weights.pt")
    assert any("checked with onnxruntime" in note for note in result.notes)
    # and independently, with the graph's names, on another batch size than the exporter's
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    inputs = [n.id for n in project.graph.nodes if n.type == "Input"]
    assert [i.name for i in session.get_inputs()] == inputs
    assert [o.name for o in session.get_outputs()] == [n.id for n in project.graph.nodes if n.type == "Output"]
    example = module.example_inputs(5)
    got = session.run(None, {name: t.numpy() for name, t in zip(inputs, example, strict=True)})
    for g, want in zip(got, outputs_of(model, example), strict=True):
        torch.testing.assert_close(torch.from_numpy(g), want, rtol=1e-4, atol=1e-5)


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("name", sorted(VARIED))
def test_torchscript_reloads_and_gives_the_same_outputs(tmp_path, name):
    project = VARIED[name]()
    torch.manual_seed(0)
    weights = build_model(project).state_dict()
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in weights.items()}, tmp_path / "w.safetensors")
    export(project, tmp_path / "model.pt", weights=tmp_path / "w.safetensors")
    reloaded = torch.jit.load(str(tmp_path / "model.pt"))
    module = load_generated(generate_code(project))
    model = module.build_model()
    model.load_state_dict(weights)
    inputs = module.example_inputs(5)
    for got, want in zip(outputs_of(reloaded, inputs), outputs_of(model, inputs), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


# -- torch.export programs (.pt2) -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["lenet5", "transformer", "multi_port"])
def test_pt2_reloads_with_torch_export_load_at_any_batch_size(tmp_path, capsys, name):
    """issue 18 item 4: the command writes a torch.export program with trained weights; reloaded by
    torch.export.load alone, it gives the model's outputs on batch sizes other than the traced one."""
    project = VARIED[name]()
    save(project, tmp_path / "design.loom")
    torch.manual_seed(0)
    module = load_generated(generate_code(project))
    model = module.build_model().eval()
    torch.save(model.state_dict(), tmp_path / "w.pt")
    code, out, err = cli(str(tmp_path / "design.loom"), "-o", str(tmp_path / "model.pt2"), "--weights",
                         str(tmp_path / "w.pt"), capsys=capsys)
    assert code == 0, err
    assert f"wrote {tmp_path / 'model.pt2'}" in out and "reloaded with torch.export.load" in out
    reloaded = torch.export.load(str(tmp_path / "model.pt2")).module()  # in eval mode as exported
    for batch in (1, 5):
        inputs = module.example_inputs(batch)
        results = reloaded(*inputs)
        results = results if isinstance(results, tuple) else (results,)
        for got, want in zip(results, outputs_of(model, inputs), strict=True):
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_onnx_export_carries_the_weights(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    project = DESIGNS["lenet5"].project()
    trained = build_model(project).eval()
    torch.save({"state_dict": trained.state_dict(), "epoch": 3}, tmp_path / "checkpoint.pt")
    export(project, tmp_path / "lenet.onnx", weights=tmp_path / "checkpoint.pt")
    session = onnxruntime.InferenceSession(str(tmp_path / "lenet.onnx"), providers=["CPUExecutionProvider"])
    x = torch.randn(4, 1, 28, 28)
    (got,) = session.run(None, {"image": x.numpy()})
    torch.testing.assert_close(torch.from_numpy(got), outputs_of(trained, (x,))[0], rtol=1e-4, atol=1e-5)


# -- weights ------------------------------------------------------------------------------------
def test_weights_that_do_not_fit_name_the_node(tmp_path):
    other = DESIGNS["lenet5"].project()
    other.graph.set_param("conv2", "out_channels", 8)
    other.graph.set_param("fc1", "out_features", 100)
    torch.save(build_model(other).state_dict(), tmp_path / "other.pt")
    with pytest.raises(ExportError) as caught:
        export(DESIGNS["lenet5"].project(), tmp_path / "m.pt", weights=tmp_path / "other.pt")
    assert caught.value.node == "conv2"
    assert "conv2: 'conv2.weight' is (8, 6, 5, 5) in the weights in other.pt, but the design needs (16, 6, 5, 5)" \
        in str(caught.value)


def test_missing_and_extra_weights_are_reported():
    model = build_model(DESIGNS["lenet5"].project())
    state = dict(model.state_dict())
    state.pop("fc3.bias")
    state["extra.weight"] = torch.zeros(1)
    with pytest.raises(ExportError, match=r"fc3: the weights have no 'fc3.bias'.*extra.weight"):
        apply_weights(model, state, "the weights")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("w.txt", b"x", "expected a .safetensors, .pt or .pth file"),
    ("absent.pt", None, "no such file"),
    ("garbage.pt", b"not a zip", "cannot be read as a state_dict"),
    ("garbage.safetensors", b"\x00\x01", "cannot be read as a state_dict"),
])
def test_unreadable_weights_files(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ExportError, match=message):
        load_weights(path)


def test_pickled_objects_are_refused_as_weights(tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pt")  # a whole module: needs unpickling code
    with pytest.raises(ExportError, match="cannot be read as a state_dict"):
        load_weights(tmp_path / "module.pt")
    torch.save([torch.zeros(1)], tmp_path / "list.pt")
    with pytest.raises(ExportError, match="is not a state_dict"):
        load_weights(tmp_path / "list.pt")


# -- formats ------------------------------------------------------------------------------------
def test_format_follows_the_suffix_or_the_option():
    assert format_for("a/model.PY") == "py" and format_for("m.onnx") == "onnx" and format_for("m.pt") == "pt"
    assert format_for("m.pt2") == "pt2" and format_for("m.bin", "pt2") == "pt2"
    assert format_for("model.bin", "pt") == "pt"
    with pytest.raises(ExportError, match="cannot tell the format"):
        format_for("model.txt")


def test_missing_onnx_packages_get_a_clear_message(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else real(name, *a))
    with pytest.raises(ExportError, match=r"ONNX export needs the onnx package: pip install 'layerloom\[onnx\]'"):
        export(DESIGNS["lenet5"].project(), tmp_path / "m.onnx")


def test_without_onnxruntime_the_onnx_file_is_written_unchecked(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    result = export(DESIGNS["lenet5"].project(), tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").exists()
    assert result.notes == ["not checked: onnxruntime is not installed (pip install 'layerloom[onnx]')"]


def test_a_node_onnx_cannot_express_is_named(tmp_path):
    b = Builder("Odd pool")
    x = b.add("Conv2d", "conv", b.add("Input", "image", shape=[1, 9, 9]), out_channels=2)
    b.add("Output", "y", b.add("Flatten", "flat", b.add("AdaptiveAvgPool2d", "pool", x, output_size=4)))
    with pytest.raises(ExportError) as caught:
        export(b.project, tmp_path / "m.onnx")
    assert caught.value.node == "pool"
    assert str(caught.value).startswith("pool: AdaptiveAvgPool2d cannot be exported to ONNX: ")
    assert not (tmp_path / "m.onnx").exists() and not list(tmp_path.iterdir())  # no temporary file left


# -- the command line -------------------------------------------------------------------------
def write_broken(tmp_path: Path) -> Path:
    b = Builder("Broken")
    x = b.add("Input", "x", shape=[4, 4])
    y = b.add("Conv2d", "conv", x, kernel_size=3)
    b.add("Output", "y", b.add("Linear", "fc", y, out_features=-3))
    path = tmp_path / "broken.loom"
    save(b.project, path)
    return path


def test_an_invalid_design_prints_the_problems_check_prints(tmp_path, capsys):
    path = write_broken(tmp_path)
    assert main.main(["check", str(path)]) == 1
    check_errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith(("error: ", "warning: "))]
    code, _, err = cli(str(path), "-o", str(tmp_path / "m.py"), capsys=capsys)
    assert code == 1 and not (tmp_path / "m.py").exists()
    lines = err.splitlines()
    assert lines[:len(check_errors)] == check_errors
    assert any(line.startswith("error: conv: ") for line in lines)
    assert any(line.startswith("error: fc: ") for line in lines)
    assert "Traceback" not in err


@pytest.mark.parametrize(("args", "code", "message"), [
    (["{tmp}/nothing.loom", "-o", "{tmp}/m.py"], 1, "no such file"),  # DESIGN §4: export exits 0 or 1
    (["{lenet}", "-o", "{tmp}/m.txt"], 1, "cannot tell the format from"),
    (["{lenet}", "-o", "{tmp}/m.py", "--weights", "{tmp}/absent.pt"], 1, "no such file"),
    (["{lenet}", "-o", "{tmp}/not_a_dir/m.py"], 1, "cannot write"),
    (["{lenet}", "-o", "{tmp}/m.pt", "--weights", "{tmp}/w.pt"], 1, "error: conv1: 'conv1.weight' is (3, 1, 5, 5)"),
])
def test_user_mistakes_get_one_error_line_and_no_traceback(tmp_path, capsys, args, code, message):
    (tmp_path / "not_a_dir").write_text("a file")
    wrong = DESIGNS["lenet5"].project()
    wrong.graph.set_param("conv1", "out_channels", 3)
    torch.save(build_model(wrong).state_dict(), tmp_path / "w.pt")
    args = [a.format(tmp=tmp_path, lenet=EXAMPLES / "lenet5.loom") for a in args]
    got, _, err = cli(*args, capsys=capsys)
    assert got == code
    assert message in err and err.startswith("error: ") and "Traceback" not in err


def test_format_option_and_weights_from_the_command_line(tmp_path, capsys):
    project = DESIGNS["char_lstm"].project()
    save(project, tmp_path / "chars.loom")
    trained = build_model(project)
    from safetensors.torch import save_file

    save_file(trained.state_dict(), tmp_path / "weights.safetensors")
    code, out, err = cli(str(tmp_path / "chars.loom"), "-o", str(tmp_path / "chars.model"), "--format", "pt",
                         "--weights", str(tmp_path / "weights.safetensors"), capsys=capsys)
    assert code == 0, err
    assert f"wrote {tmp_path / 'chars.model'}" in out
    code, out, err = cli(str(tmp_path / "chars.loom"), "-o", str(tmp_path / "chars.py"), "--weights",
                         str(tmp_path / "weights.safetensors"), capsys=capsys)
    assert code == 0, err
    assert "chars.safetensors" in out and "load_state_dict" in out
    assert json.loads((tmp_path / "chars.loom").read_text())["name"] == "Char LSTM"
