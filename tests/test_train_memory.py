"""`train` refuses a design that cannot fit in memory before allocating it, naming the node and
the size (DESIGN §8), instead of asking the allocator for terabytes and blaming the batch size."""
import pytest

import engine.training.trainer as trainer_module
from graph.footprint import size_text, too_large
from tests.engine.test_data_fit import graph_doc
from tests.test_train_cli import spiral_file, train


def wide(out_features: int):
    return graph_doc([("x", "Input", {"shape": [2]}), ("fc1", "Linear", {"out_features": 64}),
                      ("fc2", "Linear", {"out_features": out_features}), ("fc3", "Linear", {"out_features": 3}),
                      ("y", "Output", {})],
                     [("x", "fc1"), ("fc1", "fc2"), ("fc2", "fc3"), ("fc3", "y")])


def test_a_design_of_terabytes_is_refused_naming_the_node_and_size(tmp_path, capsys):
    loom = spiral_file(tmp_path, graph=wide(10 ** 12))
    code, _, err = train(capsys, loom, "--out", tmp_path / "r", "--quiet")
    assert code == 1, err
    assert "error: fc2: its weights take 236.5 TiB (65,000,000,000,000 parameters)" in err, err
    assert "more than the" in err and "of memory available" in err and "make fc2 smaller" in err
    assert "batch_size" not in err and not (tmp_path / "r").exists()


def test_the_refusal_comes_before_the_model_is_built(tmp_path, capsys, monkeypatch):
    import engine.codegen

    monkeypatch.setattr(trainer_module, "available_bytes", lambda device=None: 1 << 20)
    monkeypatch.setattr(engine.codegen, "build_model", lambda *a: pytest.fail("the model was built"))
    code, _, err = train(capsys, spiral_file(tmp_path, graph=wide(2048)), "--out", tmp_path / "r", "--quiet")
    assert code == 1 and "of memory available" in err and "1.0 MiB" in err, err


def test_activations_name_the_batch_when_they_dominate():
    from graph.analysis import analyse
    from graph.project import from_dict

    doc = graph_doc([("x", "Input", {"shape": [1, 512, 512]}), ("c", "Conv2d", {"out_channels": 64,
                     "kernel_size": 3, "padding": 1}), ("y", "Output", {"loss": "mse"})], [("x", "c"), ("c", "y")])
    analysis = analyse(from_dict({"format": "layerloom", "graph": doc}).graph)
    node, message = too_large(analysis, 1 << 30, batch=256, weight_copies=4, purpose="training")
    assert node == "c" and "its output takes 16.0 GiB for a batch of 256" in message
    assert too_large(analysis, 1 << 40, batch=256, weight_copies=4, purpose="training") is None
    assert too_large(analysis, None, batch=256, weight_copies=4, purpose="training") is None
    assert size_text(3 << 30) == "3.0 GiB" and size_text(512) == "512 bytes"
