"""The code generator: what the generated module looks like and how it behaves (DESIGN §5, §8)."""
from __future__ import annotations

import ast
import inspect
import traceback

import pytest
import torch

from engine import codegen
from engine.codegen import CodegenError, build_model, class_name, generate_code, load_generated
from graph import registry
from graph.params import Param
from graph.project import Project
from graph.registry import Code, Inferred, LayerType
from tests.engine.designs import DESIGNS, lenet
from tests.engine.designs._build import Builder

torch.set_num_threads(1)


def forward_of(source: str) -> ast.FunctionDef:
    tree = ast.parse(source)
    model = [c for c in tree.body if isinstance(c, ast.ClassDef)][-1]  # block and helper classes come first
    return next(f for f in model.body if isinstance(f, ast.FunctionDef) and f.name == "forward")


def close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)


def run(project: Project, batch_size: int = 2):
    module = load_generated(generate_code(project))
    torch.manual_seed(0)
    model = module.build_model().eval()
    inputs = module.example_inputs(batch_size)
    with torch.no_grad():
        return model, inputs, model(*inputs)


# -- reads as if written by hand -----------------------------------------------------------
def test_lenet_reads_as_written_by_hand():
    source = generate_code(lenet.project())
    lines = [line.strip() for line in source.splitlines()]
    assert "class LeNet5(nn.Module):" in lines
    assert "self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)" in lines
    assert "self.pool1 = nn.MaxPool2d(2)" in lines
    assert "self.fc1 = nn.Linear(400, 120)" in lines
    assert "def forward(self, image):" in lines
    assert "x = self.conv1(image)  # (N, 6, 28, 28)" in lines  # one name along a chain
    assert "x = self.flatten(x)  # (N, 400)" in lines
    assert "return x  # logits" in lines
    assert "def build_model():" in lines and "def example_inputs(batch_size=2):" in lines
    assert "return (torch.randn(batch_size, 1, 28, 28),)" in lines


def test_imports_only_torch_and_the_standard_library():
    for design in DESIGNS.values():
        tree = ast.parse(generate_code(design.project()))
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module.split(".")[0])
                assert all(alias.name != "*" for alias in node.names)
        assert imported <= {"torch", "math"}, imported


def test_forward_is_straight_line_code_one_statement_per_node():
    project = DESIGNS["resnet18"].project()
    source = generate_code(project)
    forward = forward_of(source)
    assert all(isinstance(s, (ast.Assign, ast.Return)) for s in forward.body)
    assert "getattr" not in source and "for " not in ast.unparse(forward)
    computing = [n for n in project.graph.nodes if n.type not in ("Input", "Output")]
    assert len(forward.body) == len(computing) + 1
    called = [node.attr for s in forward.body[:-1] for node in ast.walk(s.value)
              if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"]
    order = codegen.analyse(project.graph).order
    assert called == sorted(called, key=order.index)  # in flow order, one statement each
    assert set(called) == {n.id for n in computing if n.type != "Add"}  # an Add is `y + x`, no module


def test_shape_comments_are_optional():
    project = lenet.project()
    assert "# (N, " in generate_code(project)
    plain = generate_code(project, shape_comments=False)
    assert "# (N, " not in plain and "#" not in ast.unparse(forward_of(plain))
    compile(plain, "<plain>", "exec")


def test_generation_is_deterministic():
    project = DESIGNS["unet"].project()
    assert generate_code(project) == generate_code(DESIGNS["unet"].project())


def test_constructor_passes_only_values_that_differ_from_torch_defaults():
    b = Builder("Defaults")
    x = b.add("Input", "x", shape=[4, 8])
    x = b.add("Softmax", "soft", x)  # LayerLoom's default dim=-1 differs from torch's None
    x = b.add("TransformerEncoderLayer", "enc", x, nhead=2, activation="relu", dropout=0.1)
    x = b.add("Upsample", "up", b.add("Reshape", "img", x, shape=[1, 4, 8]), mode="nearest")
    b.add("Output", "y", x)
    source = generate_code(b.project)
    assert "self.soft = nn.Softmax(dim=-1)" in source
    assert "self.enc = nn.TransformerEncoderLayer(8, 2, batch_first=True)" in source
    assert "self.up = nn.Upsample(scale_factor=2.0)" in source


# -- names and user text ---------------------------------------------------------------------
@pytest.mark.parametrize(("name", "expected"), [
    ("LeNet-5", "LeNet5"), ("spiral classifier", "SpiralClassifier"), ("ResNet-18", "ResNet18"),
    ("3d net", "Model3dNet"), ("", "Model"), ("?!", "Model"), ("Réseau à 2 couches", "RSeau2Couches"),
])
def test_class_name_is_made_from_the_project_name(name, expected):
    assert class_name(name) == expected


@pytest.mark.parametrize("name", [
    'evil"""\nimport os\nos.system("echo pwned")\n"""', "a\\b'c\"d", "None", "PositionalEncoding", "nn", "\u2028x",
])
def test_project_names_never_reach_the_code_raw(name):
    project = DESIGNS["transformer"].project()
    project.name = name
    source = generate_code(project)
    tree = ast.parse(source)
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    assert len(classes) == len(set(classes))
    assert "os.system" not in source and "import os" not in source
    assert isinstance(load_generated(source).build_model(), torch.nn.Module)


def test_variables_never_take_the_name_of_an_argument():
    b = Builder("Clash")
    x = b.add("Input", "x", shape=[5, 8])
    y = b.add("Input", "y", shape=[8])  # the names codegen would pick for values
    lstm = b.add("LSTM", "lstm", x, hidden_size=4, bidirectional=True)
    other = b.add("Linear", "lstm_h_n", (lstm, 1), out_features=8)
    again = b.add("Linear", "lstm_last_hidden", (lstm, 1), out_features=8)
    b.add("Output", "out", b.add("Add", "total", other, again, y, num_inputs=3))
    source = generate_code(b.project)
    assert "_, (lstm_h_n, _) = self.lstm(x)" in source
    assert "lstm_last_hidden = torch.cat((lstm_h_n[-2], lstm_h_n[-1]), dim=1)" in source
    assert "z = self.lstm_h_n(lstm_last_hidden)" in source and "z = z + x1 + y" in source
    run(b.project)


# -- multi-port nodes ------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_port_1_is_the_top_layers_last_hidden_state(cell, bidirectional):
    b = Builder("Recurrent")
    x = b.add("Input", "x", shape=[7, 5])
    rnn = b.add(cell, "rnn", x, hidden_size=6, num_layers=2, bidirectional=bidirectional)
    b.add("Output", "seq", (rnn, 0))
    b.add("Output", "last", (rnn, 1))
    model, (x,), (seq, last) = run(b.project)
    with torch.no_grad():
        ref_seq, h_n = model.rnn(x)
    h_n = h_n[0] if cell == "LSTM" else h_n
    ref_last = torch.cat((h_n[-2], h_n[-1]), dim=1) if bidirectional else h_n[-1]
    close(seq, ref_seq)
    close(last, ref_last)
    if not bidirectional:  # the last hidden state is the sequence's last step
        close(last, seq[:, -1])


def test_unused_ports_are_unpacked_to_underscore():
    b = Builder("Ports")
    x = b.add("Input", "x", shape=[7, 8])
    attn = b.add("MultiheadAttention", "attn", x, x, x, num_heads=2)
    b.add("Output", "weights", (attn, 1))
    lstm = b.add("LSTM", "lstm", x, hidden_size=4)
    b.add("Output", "last", (lstm, 1))
    source = generate_code(b.project)
    assert "_, attn_weights = self.attn(x, x, x)" in source
    assert "_, (lstm_h_n, _) = self.lstm(x)" in source
    assert "return attn_weights, lstm_h_n[-1]" in source
    model, (x,), (weights, _) = run(b.project)
    with torch.no_grad():
        close(weights, model.attn(x, x, x)[1])


def test_multihead_attention_ports_query_key_value():
    b = Builder("Cross attention")
    q = b.add("Input", "q", shape=[3, 8])
    kv = b.add("Input", "kv", shape=[5, 8])
    attn = b.add("MultiheadAttention", "attn", q, kv, b.add("Tanh", "v", kv), num_heads=4)
    b.add("Output", "out", (attn, 0))
    b.add("Output", "w", (attn, 1))
    model, (q, kv), (out, w) = run(b.project)
    with torch.no_grad():
        ref_out, ref_w = model.attn(q, kv, torch.tanh(kv))
    close(out, ref_out)
    close(w, ref_w)
    assert out.shape == (2, 3, 8) and w.shape == (2, 3, 5)


def test_attention_whose_weights_nobody_reads_skips_computing_them():
    b = Builder("Self attention")
    x = b.add("Input", "x", shape=[5, 8])
    attn = b.add("MultiheadAttention", "attn", x, x, x, num_heads=2)
    b.add("Output", "y", (attn, 0))
    source = generate_code(b.project)
    assert "y, _ = self.attn(x, x, x, need_weights=False)  # output (N, 5, 8), weights (N, 5, 5)" in source
    model, (x,), y = run(b.project)
    with torch.no_grad():
        close(y, model.attn(x, x, x)[0])


def test_chunk_ports_and_skip_connections():
    b = Builder("Gated")
    x = b.add("Input", "x", shape=[8])
    h = b.add("Linear", "h", x, out_features=16)
    parts = b.add("Chunk", "parts", h, chunks=2)
    gate = b.add("Sigmoid", "gate", (parts, 1))
    gated = b.add("Multiply", "gated", (parts, 0), gate)
    b.add("Output", "y", b.add("Add", "skip", gated, x))
    source = generate_code(b.project)
    assert "y = y.chunk(2, dim=1)  # chunk0 (N, 8), chunk1 (N, 8)" in source
    assert "z = self.gate(y[1])" in source and "z = y[0] * z" in source  # y[0] is still needed
    model, (x,), y = run(b.project)
    with torch.no_grad():
        a, g = model.h(x).chunk(2, dim=1)
    close(y, a * torch.sigmoid(g) + x)


def test_inputs_and_outputs_follow_file_order():
    b = Builder("Two heads")
    b.add("Input", "second", shape=[4])
    b.add("Input", "first", shape=[4])
    b.add("Output", "b_out", b.add("Linear", "fb", "first", out_features=2))
    b.add("Output", "a_out", b.add("Linear", "fa", "second", out_features=3))
    b.add("Output", "raw", "first")
    source = generate_code(b.project)
    assert "def forward(self, second, first):" in source
    assert "return y, x, first  # b_out, a_out, raw" in source
    _, (_, first), (b_out, a_out, raw) = run(b.project)
    assert b_out.shape == (2, 2) and a_out.shape == (2, 3) and torch.equal(raw, first)


def test_nodes_that_lead_to_no_output_are_left_out():
    b = Builder("Dead branch")
    x = b.add("Input", "x", shape=[4])
    b.add("Input", "unused", shape=[3])
    y = b.add("Linear", "fc", x, out_features=2)
    b.add("ReLU", "dangling", b.add("Linear", "side", x, out_features=5))
    b.add("Output", "y", y)
    source = generate_code(b.project)
    assert "self.side" not in source and "dangling" not in source
    assert "def forward(self, x, unused):" in source  # one argument per Input, used or not
    _, inputs, y = run(b.project)
    assert len(inputs) == 2 and y.shape == (2, 2)


def test_an_input_straight_to_an_output():
    b = Builder("Identity")
    b.add("Output", "y", b.add("Input", "x", shape=[2, 3]))
    _, (x,), y = run(b.project)
    assert torch.equal(x, y)


# -- example inputs --------------------------------------------------------------------------
def test_token_inputs_are_int64_inside_every_embeddings_vocabulary():
    b = Builder("Tokens")
    tokens = b.add("Input", "tokens", shape=[12], dtype="int64")
    wide = b.add("Embedding", "wide", tokens, num_embeddings=50, embedding_dim=4)
    narrow = b.add("Embedding", "narrow", b.add("Identity", "same", tokens), num_embeddings=7, embedding_dim=4)
    b.add("Output", "y", b.add("Add", "both", wide, narrow))
    module = load_generated(generate_code(b.project))
    (x,) = module.example_inputs(64)
    assert x.dtype == torch.int64 and x.shape == (64, 12)
    assert int(x.min()) >= 0 and int(x.max()) < 7
    module.build_model()(x)


# -- one program, linecache -------------------------------------------------------------------
def test_build_model_runs_the_exact_generated_source():
    project = DESIGNS["char_lstm"].project()
    model = build_model(project)
    source = generate_code(project)
    assert inspect.getsource(type(model)) in source
    module = inspect.getmodule(type(model))
    assert module.build_model is not None and module.example_inputs is not None


def test_tracebacks_point_into_the_generated_source():
    project = lenet.project()
    model = build_model(project)
    with pytest.raises(RuntimeError) as caught:
        model(torch.randn(2, 3, 28, 28))  # three channels where the design has one
    text = "".join(traceback.format_exception(caught.value))
    assert "<layerloom-generated-" in text
    assert "x = self.conv1(image)  # (N, 6, 28, 28)" in text


# -- errors --------------------------------------------------------------------------------
def test_an_invalid_graph_raises_codegen_error_naming_the_node():
    b = Builder("Broken")
    x = b.add("Input", "x", shape=[4, 4])
    b.add("Output", "y", b.add("Conv2d", "conv", x, kernel_size=3))
    with pytest.raises(CodegenError) as caught:
        generate_code(b.project)
    assert caught.value.node == "conv"
    assert str(caught.value).startswith("conv: expects feature maps")
    assert caught.value.diagnostics and caught.value.diagnostics[0].node == "conv"


def test_a_graph_without_output_is_refused():
    b = Builder("No output")
    b.add("Linear", "fc", b.add("Input", "x", shape=[4]))
    with pytest.raises(CodegenError, match="no Output"):
        generate_code(b.project)


# -- a new type is one declaration ------------------------------------------------------------
def _scale_infer(p, inputs):
    return Inferred((inputs[0],))


SCALE = LayerType(
    name="Scale", category="Core", doc="Multiplies by a constant.", infer=_scale_infer, dtype="same",
    params=(Param("factor", "float", 2.0, "the multiplier"),
            Param("note", "str", "", "free text", ctor=False)),
    code=Code(call="{x} * {factor}  # {note}"),
)


def test_a_new_type_needs_only_its_declaration(monkeypatch):
    monkeypatch.setitem(registry._REGISTRY, "Scale", SCALE)
    b = Builder("Scaled")
    x = b.add("Input", "x", shape=[3])
    b.add("Output", "y", b.add("Scale", "doubled", x, factor=2.5, note="a\nb'\"\"\" import os"))
    source = generate_code(b.project)
    assert "y = x * 2.5  # 'a\\nb\\'\"\"\" import os'" in source
    _, (x,), y = run(b.project)
    assert torch.equal(y, x * 2.5)


def test_a_template_with_an_unknown_name_is_a_clear_error(monkeypatch):
    broken = LayerType(name="Scale", category="Core", doc="", infer=_scale_infer, code=Code(call="{x} * {k}"))
    monkeypatch.setitem(registry._REGISTRY, "Scale", broken)
    b = Builder("Scaled")
    b.add("Output", "y", b.add("Scale", "s", b.add("Input", "x", shape=[3])))
    with pytest.raises(CodegenError, match=r"s: the code template uses \{k\}"):
        generate_code(b.project)


def test_no_parameter_name_shadows_a_template_placeholder():
    for layer in registry.all_types():
        assert not {p.name for p in layer.params} & codegen.placeholders(), layer.name
