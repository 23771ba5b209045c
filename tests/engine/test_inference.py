"""engine.inference: predictions, MC-dropout spread, traces and attention weights (issue 15)."""
import json
import math

import pytest
import torch

from engine.inference import PredictError, Predictor, spread
from engine.inference.walk import placed_nodes
from graph.project import from_dict, load
from tests.conftest import EXAMPLES


def design(nodes, edges, name="Toy"):
    """A project from (id, type, params) nodes and (from, to[, from_port[, to_port]]) edges."""
    doc = {"format": "layerloom", "version": 1, "name": name,
           "graph": {"nodes": [{"id": i, "type": t, "params": p} for i, t, p in nodes],
                     "edges": [dict(zip(("from", "to", "from_port", "to_port"), e)) for e in edges]},
           "data": {"dataset": "spiral", "samples": 100}, "training": {}}
    return from_dict(json.loads(json.dumps(doc)))


def toy_dropout():
    """x (1) -> Dropout(0.5) -> Linear(1->2, weight [1, -1], no bias): a kept input of 1 becomes 2 and
    gives logits (2, -2); a dropped one gives (0, 0), i.e. probabilities (1/2, 1/2)."""
    p = design([("x", "Input", {"shape": [1]}), ("drop", "Dropout", {"p": 0.5}),
                ("fc", "Linear", {"out_features": 2, "bias": False}), ("y", "Output", {})],
               [("x", "drop"), ("drop", "fc"), ("fc", "y")])
    return Predictor(p, {"fc.weight": torch.tensor([[1.0], [-1.0]])})


def h(p):
    return -sum(q * math.log(q) for q in p if q > 0)


def test_spread_of_two_confident_passes_that_disagree():
    passes = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])  # (T=2, N=1, C=2)
    s = spread(passes, classes=True)
    assert s.mean[0].tolist() == [0.5, 0.5]
    assert s.std[0].tolist() == [0.5, 0.5]
    assert float(s.entropy[0]) == pytest.approx(math.log(2))
    assert float(s.mutual_information[0]) == pytest.approx(math.log(2))  # all of it epistemic


def test_spread_of_agreeing_unsure_passes_is_all_aleatoric():
    passes = torch.tensor([[[0.5, 0.5]]] * 4)
    s = spread(passes, classes=True)
    assert float(s.entropy[0]) == pytest.approx(math.log(2))
    assert float(s.mutual_information[0]) == pytest.approx(0.0, abs=1e-7)
    assert s.std.abs().max() == 0


def test_mc_dropout_on_a_hand_checkable_toy():
    predictor = toy_dropout()
    x = [torch.ones(1, 1)]
    kept = torch.softmax(torch.tensor([2.0, -2.0]), 0)
    eval_pass = predictor.predict(x)["y"].probabilities[0]
    assert torch.allclose(eval_pass, torch.softmax(torch.tensor([1.0, -1.0]), 0))  # eval: no dropout, no scaling
    mc = predictor.monte_carlo(x, passes=200, seed=1)
    assert mc.note is None and mc.stochastic == ["drop"]
    s = mc.spreads["y"]
    each = s.passes[:, 0]
    is_kept = torch.isclose(each, kept).all(1)
    is_dropped = torch.isclose(each, torch.tensor([0.5, 0.5])).all(1)
    assert bool((is_kept | is_dropped).all()) and 0 < int(is_kept.sum()) < 200
    f = float(is_kept.float().mean())
    mean = [f * float(kept[0]) + (1 - f) * 0.5, f * float(kept[1]) + (1 - f) * 0.5]
    assert s.mean[0].tolist() == pytest.approx(mean, abs=1e-6)
    assert float(s.std[0, 0]) == pytest.approx(abs(float(kept[0]) - 0.5) * math.sqrt(f * (1 - f)), abs=1e-6)
    assert float(s.entropy[0]) == pytest.approx(h(mean), abs=1e-6)
    expected = f * h(kept.tolist()) + (1 - f) * math.log(2)
    assert float(s.mutual_information[0]) == pytest.approx(h(mean) - expected, abs=1e-6)
    assert float(s.mutual_information[0]) > 0.05
    assert not predictor.model.drop.training  # back in eval mode afterwards


def test_mc_passes_are_reproducible_with_a_seed():
    predictor = toy_dropout()
    x = [torch.ones(3, 1)]
    a = predictor.monte_carlo(x, passes=20, seed=5).spreads["y"].passes
    b = predictor.monte_carlo(x, passes=20, seed=5).spreads["y"].passes
    assert torch.equal(a, b)


def test_without_dropout_the_spread_is_zero_and_a_note_says_why():
    predictor = Predictor(load(EXAMPLES / "spiral_mlp.loom"))
    assert any("random weights" in n for n in predictor.notes)
    x = [torch.randn(4, 2)]
    mc = predictor.monte_carlo(x, passes=8)
    s = mc.spreads["y"]
    assert "no dropout" in mc.note and mc.stochastic == []
    assert s.std.abs().max() == 0 and s.mutual_information.abs().max() == 0
    assert torch.allclose(s.mean, predictor.predict(x)["y"].probabilities)
    assert s.passes.shape == (8, 4, 3)


def test_a_dropout_of_zero_is_not_stochastic():
    p = design([("x", "Input", {"shape": [2]}), ("drop", "Dropout", {"p": 0.0}),
                ("fc", "Linear", {"out_features": 2}), ("y", "Output", {})],
               [("x", "drop"), ("drop", "fc"), ("fc", "y")])
    assert Predictor(p).monte_carlo([torch.randn(1, 2)], passes=3).note is not None


def test_batchnorm_keeps_its_running_statistics_during_mc():
    p = design([("x", "Input", {"shape": [3]}), ("fc1", "Linear", {"out_features": 4}), ("bn", "BatchNorm1d", {}),
                ("drop", "Dropout", {"p": 0.5}), ("fc2", "Linear", {"out_features": 2}), ("y", "Output", {})],
               [("x", "fc1"), ("fc1", "bn"), ("bn", "drop"), ("drop", "fc2"), ("fc2", "y")])
    predictor = Predictor(p)
    bn = predictor.model.bn
    bn.running_mean.fill_(3.0)
    bn.running_var.fill_(4.0)
    modes = []
    bn.register_forward_hook(lambda m, args, out: modes.append((m.training, predictor.model.drop.training)))
    # a batch of one: BatchNorm in training mode would refuse it ("Expected more than 1 value per channel")
    mc = predictor.monte_carlo([torch.randn(1, 3)], passes=10)
    assert modes == [(False, True)] * 10
    assert bn.running_mean.eq(3.0).all() and bn.running_var.eq(4.0).all()
    assert int(bn.num_batches_tracked) == 0
    assert mc.spreads["y"].std.abs().max() > 0


def test_a_mismatched_state_dict_is_refused_by_name():
    p = load(EXAMPLES / "spiral_mlp.loom")
    good = Predictor(p).model.state_dict()
    bad = dict(good, **{"fc3.weight": torch.zeros(4, 64)})
    with pytest.raises(PredictError, match=r"fc3\.weight is \(4, 64\) in the weights but \(3, 64\)"):
        Predictor(p, bad)
    with pytest.raises(PredictError, match="lack 'fc1.bias'"):
        Predictor(p, {k: v for k, v in good.items() if k != "fc1.bias"})


def _inputs(predictor, batch=1):
    return [torch.randint(0, predictor.vocabulary(i) or 2, (batch, *shape)) if dtype == "int64"
            else torch.randn(batch, *shape) for i, shape, dtype in predictor.input_specs()]


@pytest.mark.parametrize("example", sorted(p.stem for p in EXAMPLES.glob("*.loom")))
def test_trace_shapes_are_the_inferred_shapes(example):
    """Every traced value (the design's nodes by id, layers inside blocks by path) has the shape that
    shape inference gave that node's port; every node of the design is traced."""
    project = load(EXAMPLES / f"{example}.loom")
    predictor = Predictor(project)
    x = _inputs(predictor, batch=2)
    traced = predictor.trace(x)
    places = {p.path: p for p in predictor.placed}
    for path, ports in traced.values.items():
        info = places[path].info
        for port, value in ports.items():
            role = places[path].layer.role
            expected = info.inputs[0] if role == "output" else info.outputs[port]
            assert tuple(value.shape[1:]) == tuple(expected), (path, port)
    assert {p.path for p in predictor.placed if p.depth == 0} <= set(traced.values)
    assert next(iter(traced.values)) == predictor.input_ids[0]
    plain = predictor.predict(x)  # the trace sees the same prediction as a plain pass
    for node, result in traced.outputs.items():
        assert torch.allclose(result.raw, plain[node].raw, atol=1e-6)


def test_trace_reads_functional_nodes_and_does_not_change_the_prediction():
    p = design([("x", "Input", {"shape": [4]}), ("fc1", "Linear", {"out_features": 6}),
                ("fc2", "Linear", {"out_features": 6}), ("add", "Add", {}), ("grid", "Reshape", {"shape": [2, 3]}),
                ("y", "Output", {"loss": "mse"})],
               [("x", "fc1"), ("x", "fc2"), ("fc1", "add", 0, 0), ("fc2", "add", 0, 1), ("add", "grid"),
                ("grid", "y")])
    predictor = Predictor(p)
    x = [torch.randn(1, 4)]
    plain = predictor.predict(x)
    traced = predictor.trace(x)
    assert list(traced.values) == ["x", "fc1", "fc2", "add", "grid", "y"]
    v = traced.values
    assert torch.allclose(v["add"][0], v["fc1"][0] + v["fc2"][0])
    assert torch.equal(v["grid"][0], v["add"][0].reshape(1, 2, 3))
    assert torch.equal(plain["y"].raw, traced.outputs["y"].raw) and torch.equal(plain["y"].value, v["y"][0])


def test_attention_weights_per_head_sum_to_one():
    project = load(EXAMPLES / "transformer_tokens.loom")
    predictor = Predictor(project)
    x = _inputs(predictor)
    traced = predictor.trace(x)
    attention = [p for p in predictor.placed if p.layer.attention]
    assert attention and len(traced.attention) == len(attention)
    for path, weights in traced.attention.items():
        module = predictor.model.get_submodule(path)
        length = x[0].shape[1]
        assert weights.shape == (1, module.num_heads, length, length)
        assert torch.allclose(weights.sum(-1), torch.ones(1, module.num_heads, length), atol=1e-5)
    assert torch.equal(predictor.predict(x)["reversed"].raw, traced.outputs["reversed"].raw)


def test_a_wired_weights_port_still_gets_the_head_average():
    p = design([("q", "Input", {"shape": [5, 8]}), ("kv", "Input", {"shape": [7, 8]}),
                ("attn", "MultiheadAttention", {"num_heads": 2}), ("out", "Output", {"loss": "mse"}),
                ("w", "Output", {"loss": "none"})],
               [("q", "attn", 0, 0), ("kv", "attn", 0, 1), ("kv", "attn", 0, 2), ("attn", "out", 0, 0),
                ("attn", "w", 1, 0)])
    predictor = Predictor(p)
    x = [torch.randn(1, 5, 8), torch.randn(1, 7, 8)]
    traced = predictor.trace(x)
    heads = traced.attention["attn"]
    assert heads.shape == (1, 2, 5, 7)
    assert torch.allclose(traced.outputs["w"].raw, heads.mean(1), atol=1e-6)
    assert torch.allclose(traced.outputs["w"].raw, predictor.predict(x)["w"].raw, atol=1e-6)
    assert traced.values["attn"][1].shape == (1, 5, 7)


def test_transformer_layers_give_their_attention():
    p = design([("x", "Input", {"shape": [6, 8]}),
                ("enc", "TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16}),
                ("fc", "Linear", {"out_features": 3}), ("y", "Output", {})],
               [("x", "enc"), ("enc", "fc"), ("fc", "y")])
    predictor = Predictor(p)
    traced = predictor.trace([torch.randn(1, 6, 8)])
    assert traced.attention["enc.self_attn"].shape == (1, 2, 6, 6)
    assert torch.allclose(traced.attention["enc.self_attn"].sum(-1), torch.ones(1, 2, 6), atol=1e-5)
    assert [q.path for q in predictor.stochastic] == ["enc"]  # dropout 0.1 by default


def test_nodes_inside_blocks_are_placed_by_module_path():
    project = load(EXAMPLES / "transformer_tokens.loom")
    predictor = Predictor(project)
    paths = {p.path for p in placed_nodes(project.graph, predictor.analysis, predictor.model)}
    assert {"encoder", "encoder.0.attn", "encoder.1.attn"} <= paths
    for p in predictor.placed:
        if p.module is not None:
            assert predictor.model.get_submodule(p.path) is p.module
