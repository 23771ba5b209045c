"""Data meets the graph: shapes, dtypes and labels are checked against the Input and Output
nodes, converted where safe, and refused with a message naming the node and both shapes."""
import json

import numpy as np
import pytest
import torch

from engine.data import DataError, prepare_data
from graph.analysis import analyse
from graph.project import Project, from_dict


def graph_doc(nodes, edges):
    return {"nodes": [dict(zip(("id", "type", "params"), n)) for n in nodes],
            "edges": [{"from": a, "to": b, **({"from_port": p} if p else {})} for a, b, *rest in edges
                      for p in [rest[0] if rest else 0]]}


def mlp_doc(inputs=2, classes=3, loss="cross_entropy"):
    return graph_doc(
        [("x", "Input", {"shape": [inputs]}), ("fc1", "Linear", {"out_features": 16}), ("act", "ReLU", {}),
         ("fc2", "Linear", {"out_features": classes}), ("y", "Output", {"loss": loss})],
        [("x", "fc1"), ("fc1", "act"), ("act", "fc2"), ("fc2", "y")])


def project(data, training=None, graph=None, name="Test") -> Project:
    doc = {"format": "layerloom", "version": 1, "name": name, "graph": graph or mlp_doc(),
           "data": data, "training": training or {}}
    return from_dict(json.loads(json.dumps(doc)))


def prepare(p: Project, base_dir="."):
    return prepare_data(p.data, p.graph, analyse(p.graph), base_dir)


def test_spiral_fits_the_mlp():
    data = prepare(project({"dataset": "spiral", "samples": 200}))
    assert len(data.train) == 160 and len(data.val) == 40
    (x,), (y,) = data.train.inputs, data.train.targets
    assert x.dtype == torch.float32 and x.shape == (160, 2) and y.dtype == torch.int64
    (spec,) = data.targets
    assert (spec.task, spec.class_dim, spec.num_classes) == ("classification", "first", 3)


def test_input_shape_mismatch_names_the_node_and_both_shapes():
    with pytest.raises(DataError) as info:
        prepare(project({"dataset": "digits"}))
    text = str(info.value)
    assert "Input 'x' takes (N, 2)" in text and "(N, 1, 8, 8)" in text and "set x's shape to [1, 8, 8]" in text


def test_inputs_with_the_same_element_count_are_reshaped():
    data = prepare(project({"dataset": "digits"}, graph=mlp_doc(inputs=64, classes=10)))
    assert data.train.inputs[0].shape[1:] == (64,)
    assert any("reshaped" in note for note in data.notes)


def test_too_few_class_scores_suggest_the_layer_to_change():
    with pytest.raises(DataError) as info:
        prepare(project({"dataset": "spiral", "classes": 5}))
    text = str(info.value)
    assert "5 classes" in text and "Output 'y' gets 3 class scores" in text and "set fc2.out_features to 5" in text


def test_regression_targets_with_a_class_loss_are_refused():
    with pytest.raises(DataError, match="needs class labels"):
        prepare(project({"dataset": "sine"}, graph=mlp_doc(inputs=1, classes=1)))


def test_regression_target_shape_mismatch():
    with pytest.raises(DataError) as info:
        prepare(project({"dataset": "sine"}, graph=mlp_doc(inputs=1, classes=3, loss="mse")))
    assert "Output 'y' gets (N, 3) from 'fc2'" in str(info.value) and "(N, 1)" in str(info.value)


def test_class_labels_with_mse_suggest_cross_entropy():
    with pytest.raises(DataError, match="set its loss to cross_entropy"):
        prepare(project({"dataset": "spiral"}, graph=mlp_doc(loss="mse")))


def test_bce_needs_targets_between_0_and_1():
    with pytest.raises(DataError, match="from 0 to 1"):
        prepare(project({"dataset": "spiral"}, graph=mlp_doc(classes=1, loss="bce_with_logits")))
    data = prepare(project({"dataset": "moons"}, graph=mlp_doc(classes=1, loss="bce_with_logits")))
    assert data.train.targets[0].shape[1:] == (1,) and data.train.targets[0].dtype == torch.float32


def tokens_graph(vocab=10, length=8, per_token=True):
    nodes = [("t", "Input", {"shape": [length], "dtype": "int64"}),
             ("emb", "Embedding", {"num_embeddings": vocab, "embedding_dim": 8}),
             ("head", "Linear", {"out_features": 10}), ("y", "Output", {})]
    edges = [("t", "emb"), ("emb", "head"), ("head", "y")]
    if not per_token:
        nodes.insert(2, ("flat", "Flatten", {}))
        edges = [("t", "emb"), ("emb", "flat"), ("flat", "head"), ("head", "y")]
    return graph_doc(nodes, edges)


def test_per_token_labels_take_the_classes_last():
    data = prepare(project({"dataset": "tokens", "samples": 100}, graph=tokens_graph()))
    (spec,) = data.targets
    assert spec.class_dim == "last" and spec.num_classes == 10
    assert data.train.inputs[0].dtype == torch.int64 and data.train.targets[0].shape[1:] == (8,)


def test_token_ids_beyond_the_embedding_are_refused():
    with pytest.raises(DataError) as info:
        prepare(project({"dataset": "tokens", "vocab": 12, "samples": 100}, graph=tokens_graph(vocab=10)))
    assert "Embedding 'emb' has num_embeddings 10; set it to at least 12" in str(info.value)


def test_float_data_into_a_token_input_is_refused():
    with pytest.raises(DataError, match="int64 token ids"):
        prepare(project({"dataset": "sine"}, graph=graph_doc(
            [("t", "Input", {"shape": [1], "dtype": "int64"}), ("emb", "Embedding", {}),
             ("flat", "Flatten", {}), ("fc", "Linear", {"out_features": 1}), ("y", "Output", {"loss": "mse"})],
            [("t", "emb"), ("emb", "flat"), ("flat", "fc"), ("fc", "y")])))


def test_segmentation_masks_fit_a_one_channel_output():
    g = graph_doc([("img", "Input", {"shape": [1, 16, 16]}),
                   ("conv", "Conv2d", {"out_channels": 1, "kernel_size": 3, "padding": 1}),
                   ("mask", "Output", {"loss": "bce_with_logits"})], [("img", "conv"), ("conv", "mask")])
    data = prepare(project({"dataset": "shapes", "task": "segment", "samples": 40}, graph=g))
    assert data.train.targets[0].shape[1:] == (1, 16, 16)
    g2 = graph_doc([("img", "Input", {"shape": [1, 16, 16]}),
                    ("conv", "Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
                    ("mask", "Output", {})], [("img", "conv"), ("conv", "mask")])
    data = prepare(project({"dataset": "shapes", "task": "segment", "mask": "classes", "samples": 40}, graph=g2))
    assert data.targets[0].class_dim == "first" and data.train.targets[0].shape[1:] == (16, 16)


def test_reconstruct_uses_the_inputs_as_targets():
    g = graph_doc([("img", "Input", {"shape": [1, 8, 8]}), ("id", "Identity", {}), ("out", "Output", {"loss": "mse"})],
                  [("img", "id"), ("id", "out")])
    data = prepare(project({"dataset": "digits", "reconstruct": True}, graph=g))
    torch.testing.assert_close(data.train.inputs[0], data.train.targets[0])
    assert data.train.inputs[0].data_ptr() != data.train.targets[0].data_ptr()


def test_input_and_output_counts_must_match():
    g = graph_doc([("a", "Input", {"shape": [2]}), ("b", "Input", {"shape": [2]}), ("add", "Add", {}),
                   ("fc", "Linear", {"out_features": 3}), ("y", "Output", {})],
                  [("a", "add"), ("fc", "y"), ("add", "fc")])
    g["edges"].append({"from": "b", "to": "add", "to_port": 1})
    with pytest.raises(DataError, match=r"gives 1 input\(s\), but the graph has 2 Input node\(s\) \(a, b\)"):
        prepare(project({"dataset": "spiral"}, graph=g))
    g = graph_doc([("x", "Input", {"shape": [2]}), ("fc", "Linear", {"out_features": 3}), ("y", "Output", {}),
                   ("z", "Output", {})], [("x", "fc"), ("fc", "y"), ("fc", "z")])
    with pytest.raises(DataError, match=r"set the loss of the extra Outputs to 'none'"):
        prepare(project({"dataset": "spiral"}, graph=g))
    g["nodes"][3]["params"] = {"loss": "none"}
    assert len(prepare(project({"dataset": "spiral"}, graph=g)).targets) == 1


def test_no_trained_output():
    with pytest.raises(DataError, match="no Output node has a loss"):
        prepare(project({"dataset": "spiral"}, graph=mlp_doc(loss="none")))


def test_standardize_uses_training_statistics(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=(rng.normal(5, 3, (200, 2))).astype(np.float32), y=rng.integers(0, 3, 200))
    data = prepare(project({"dataset": "npz", "path": "d.npz", "standardize": True}), tmp_path)
    x = data.train.inputs[0]
    torch.testing.assert_close(x.mean(0), torch.zeros(2), atol=1e-5, rtol=0)
    assert "standardize" in data.info
