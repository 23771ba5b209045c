"""The search section (DESIGN §10): every bad key refused before any trial, naming the key; values
applied to a copy of the design. Needs neither torch nor Optuna."""
import pytest

from engine.tuning.space import SearchError, apply, parse_search
from graph.analysis import analyse
from graph.project import load
from tests.conftest import EXAMPLES
from tests.engine.test_data_fit import project


def spiral(space, **section):
    p = project({"dataset": "spiral", "samples": 200}, {"epochs": 2})
    p.extra["search"] = {"space": space, **section}
    return p


GOOD = {"training.learning_rate": {"log_uniform": [1e-4, 1e-1]}, "training.batch_size": {"choice": [16, 32]},
        "nodes.fc1.out_features": {"int": [4, 64], "log": True}, "nodes.act.type": {"choice": ["ReLU", "Tanh"]},
        "data.noise": {"uniform": [0.1, 0.3]}}


def test_a_good_section_reads_with_its_defaults():
    spec = parse_search(spiral(GOOD))
    assert (spec.metric, spec.direction, spec.pruner) == ("val_loss", "minimize", "median")
    assert [d.key for d in spec.dimensions] == list(GOOD)
    lr, bs, width, act, noise = spec.dimensions
    assert (lr.kind, lr.log, lr.low, lr.high) == ("float", True, 1e-4, 1e-1)
    assert (width.kind, width.log, width.low, width.high) == ("int", True, 4, 64)
    assert act.choices == ("ReLU", "Tanh") and bs.choices == (16, 32) and not noise.log
    assert parse_search(spiral(GOOD, metric="val_accuracy")).direction == "maximize"


@pytest.mark.parametrize("space, message", [
    ({"training.lr": {"uniform": [0.1, 0.2]}}, 'search.space["training.lr"]: training.lr is not a training setting'),
    ({"data.nois": {"uniform": [0.1, 0.2]}}, "did you mean 'noise'?"),
    ({"model.fc1.out_features": {"int": [1, 2]}}, "a key is training.KEY, data.KEY or nodes.NODE_ID.PARAM"),
    ({"nodes.fc9.out_features": {"int": [4, 8]}}, ('search.space["nodes.fc9.out_features"]: there is no node '
                                                  "'fc9' in the design")),
    ({"nodes.fc1.width": {"int": [4, 8]}}, "fc1 (Linear) has no parameter 'width'"),
    ({"nodes.fc1.out_features": {"int": [64, 4]}}, ('search.space["nodes.fc1.out_features"].int is the empty '
                                                   "range [64, 4]")),
    ({"training.learning_rate": {"uniform": [0.5, 0.1]}}, "empty range"),
    ({"training.learning_rate": {"choice": []}}, "choice is an empty list"),
    ({"training.learning_rate": {"log_uniform": [0, 0.1]}}, "a log scale needs a low bound above 0"),
    ({"nodes.fc1.out_features": {"uniform": [4, 8]}}, 'out_features takes whole numbers; search it with "int"'),
    ({"nodes.fc1.out_features": {"int": [0, 8]}}, "0 is not a value of out_features"),
    ({"training.optimizer": {"choice": ["adam", "lion"]}}, '"lion" is not a value of optimizer'),
    ({"nodes.act.type": {"choice": ["Tanh", "Add"]}}, ('search.space["nodes.act.type"]: Add has 2 input and 1 '
                                                      "output port(s)")),
    ({"nodes.act.type": {"choice": ["Tanh", "Relu"]}}, '"Relu" is not a layer type or block of this design'),
    ({"nodes.x.type": {"choice": ["Input"]}}, "only a layer's type can be searched"),
    ({"nodes.fc1.repeat": {"int": [1, 3]}}, "fc1 is a Linear, not a block node"),
    ({"training.epochs": {"int": [1, 3], "step": 2}}, 'search.space["training.epochs"].step: unknown key'),
    ({"training.epochs": [1, 3]}, "expected one of uniform, log_uniform, int, choice"),
    ({}, "give at least one key to search"),
])
def test_a_bad_key_is_refused_naming_it(space, message):
    with pytest.raises(SearchError) as caught:
        parse_search(spiral(space))
    assert message in str(caught.value)


@pytest.mark.parametrize("section, message", [
    ({"metrics": "val_loss"}, "search.metrics: unknown key (did you mean 'metric'?)"),
    ({"metric": "accuracy"}, "search.metric is \"accuracy\"; expected a column of metrics.csv"),
    ({"direction": "up"}, "search.direction is \"up\""),
])
def test_a_bad_section_key_is_refused_naming_it(section, message):
    with pytest.raises(SearchError) as caught:
        parse_search(spiral({"training.epochs": {"int": [1, 2]}}, **section))
    assert message in str(caught.value)


def test_no_search_section_says_how_to_add_one():
    p = project({"dataset": "spiral"})
    with pytest.raises(SearchError, match='no "search" section'):
        parse_search(p)


def test_apply_sets_each_kind_of_key_on_a_copy():
    p = spiral(GOOD)
    q = apply(p, {"training.learning_rate": 0.01, "nodes.fc1.out_features": 9, "nodes.act.type": "GELU",
                  "data.noise": 0.2})
    assert q.training["learning_rate"] == 0.01 and q.data["noise"] == 0.2
    assert q.graph["fc1"].params == {"out_features": 9} and q.graph["act"].type == "GELU"
    assert p.graph["act"].type == "ReLU" and p.graph["fc1"].params == {"out_features": 16}   # untouched
    assert analyse(q.graph).valid


def test_a_block_node_searches_its_repeat_and_its_parameters():
    p = load(EXAMPLES / "spiral_search.loom")
    spec = parse_search(p)
    assert {d.key for d in spec.dimensions} >= {"nodes.body.repeat", "nodes.body.width", "nodes.body.p"}
    q = apply(p, {"nodes.body.repeat": 3, "nodes.body.width": 32, "nodes.body.p": 0.1})
    analysis = analyse(q.graph)
    assert analysis.valid and q.graph["body"].extra["repeat"] == 3
    assert analysis.nodes["body"].params == 3 * analyse(apply(p, {"nodes.body.width": 32}).graph).nodes["body"].params


def test_reading_a_search_section_needs_neither_torch_nor_optuna():
    """The window checks a search section as it is edited, long before PyTorch has loaded."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import sys; from graph.project import load; from engine.tuning.space import parse_search, apply\n"
            f"p = load({str(EXAMPLES / 'spiral_search.loom')!r}); apply(p, {{'nodes.body.repeat': 2}})\n"
            "print(len(parse_search(p).dimensions), sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'optuna'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "4 []"
