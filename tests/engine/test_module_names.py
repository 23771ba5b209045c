"""Node ids that are nn.Module's own names are refused (DESIGN §3): the stored set in
graph/module_names.py (graph/ cannot import torch) must be exactly what the installed torch's
nn.Module defines, so that a torch upgrade never lets a new private name through unnoticed."""
import pytest
import torch
from torch import nn

from graph.analysis import analyse
from graph.identifiers import id_problem
from graph.module_names import NN_MODULE_NAMES
from graph.project import from_dict
from tests.conftest import ROOT
from tools.gen_module_names import main as gen_main
from tools.gen_module_names import module_names


def test_the_stored_names_are_what_torch_defines():
    current = frozenset(dir(nn.Module)) | frozenset(vars(nn.Module()))
    assert module_names() == current
    assert NN_MODULE_NAMES == current, (
        f"graph/module_names.py is stale for torch {torch.__version__}: missing "
        f"{sorted(current - NN_MODULE_NAMES)}, extra {sorted(NN_MODULE_NAMES - current)}; "
        "run python tools/gen_module_names.py")
    assert gen_main(["--check"]) == 0


def test_every_instance_attribute_of_a_module_is_covered():
    module = nn.Module()
    assert set(vars(module)) <= NN_MODULE_NAMES
    assert {"_modules", "_parameters", "_forward_hooks", "training"} <= NN_MODULE_NAMES


@pytest.mark.parametrize("name", ["_apply", "_call_impl", "_wrapped_call_impl", "_get_name", "_slow_forward",
                                  "_load_from_state_dict", "_version", "_forward_hooks", "_compiled_call_impl",
                                  "_modules"])
def test_private_module_names_are_refused_as_node_ids(name):
    assert "nn.Module" in id_problem(name)
    doc = {"format": "layerloom", "graph": {
        "nodes": [{"id": "x", "type": "Input", "params": {"shape": [4]}},
                  {"id": name, "type": "Linear", "params": {"out_features": 2}},
                  {"id": "y", "type": "Output"}],
        "edges": [{"from": "x", "to": name}, {"from": name, "to": "y"}]}}
    errors = analyse(from_dict(doc).graph).errors
    assert any(e.field == "id" and e.node == name and "nn.Module" in e.message for e in errors), errors


def test_ordinary_ids_stay_allowed():
    for name in ("fc1", "_hidden", "conv_1", "mod", "block"):
        assert id_problem(name) is None, name
    assert (ROOT / "tools" / "gen_module_names.py").is_file()
