"""The importer on models written as a user would (issue 14's Done-when models), ResNet-18 as blocks,
and what it refuses: each part named with its module path and line, nothing but messages."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.codegen import load_generated
from engine.importer import ImportFailure, import_model
from engine.importer.source import load_source

MODELS = Path(__file__).parent / "import_models"
torch.set_num_threads(1)


@pytest.mark.parametrize(("source", "shapes", "blocks"), [
    ("residual_cnn.py:ResidualCNN", None, 1),
    ("lstm_tagger.py:LSTMTagger", ["7:int64"], 0),
    ("transformer_classifier.py:Classifier", None, 0),
])
def test_done_when_models_come_in_with_equal_outputs(source, shapes, blocks):
    result = import_model(str(MODELS / source), shapes)
    assert result.max_difference <= 1e-5
    assert len(result.project.blocks) == blocks
    model = load_generated(result.source_code).build_model().eval()
    model.load_state_dict(result.state)  # strict: every key of the generated state dict is there
    assert result.project.graph.inputs()[0].params["shape"]


def test_outputs_equal_after_export_with_the_written_weights(tmp_path):
    """Independent of the importer's own check: the module's weights saved, imported with --weights,
    and the design exported as code: the code with the imported state gives the module's outputs."""
    from safetensors.torch import save_file

    from engine.export import export
    from engine.export_torch import load_weights

    source = str(MODELS / "residual_cnn.py:ResidualCNN")
    original = load_source(source).module
    save_file({k: v.contiguous() for k, v in original.state_dict().items()}, str(tmp_path / "w.safetensors"))
    result = import_model(source, None, str(tmp_path / "w.safetensors"))
    save_file(result.state, str(tmp_path / "imported.safetensors"))
    export(result.project, tmp_path / "model.py", "py", tmp_path / "imported.safetensors")
    module = load_generated((tmp_path / "model.py").read_text())
    model = module.build_model().eval()
    model.load_state_dict(load_weights(tmp_path / "model.safetensors"))
    inputs = module.example_inputs(5)
    with torch.no_grad():
        assert (model(*inputs) - original(*inputs)).abs().max() <= 1e-5


def test_resnet18_comes_in_as_blocks_with_its_parameter_count():
    result = import_model(str(MODELS / "resnet.py:resnet18"))
    project = result.project
    assert len(project.graph.nodes) == 16
    assert sorted(project.blocks.names()) == ["BasicBlock", "BasicBlock2"]
    ids = [n.id for n in project.graph.nodes]
    assert ids[:5] == ["x", "conv1", "bn1", "relu", "maxpool"]
    assert "layer4_1" in ids and ids[-1] == "y"
    # layer1 is a Sequential of two alike BasicBlocks: one node repeated
    assert project.graph["layer1"].extra == {"repeat": 2} and "layer1_0" not in ids
    from graph.analysis import analyse

    assert analyse(project.graph).total_params == 11_689_512
    assert "layer1.1.conv1.weight" in result.state
    assert "layer2_0.downsample_0.weight" in result.state
    assert result.max_difference <= 1e-5


def test_an_if_on_tensor_values_is_refused_naming_its_line():
    with pytest.raises(ImportFailure) as caught:
        import_model(str(MODELS / "refused.py:DataDependent"), ["4"])
    assert "refused.py:12" in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_every_unsupported_part_is_listed_with_path_line_and_nearest_layer():
    with pytest.raises(ImportFailure) as caught:
        import_model(str(MODELS / "refused.py:Unsupported"), ["1,5,5,5"])
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 3
    assert problems[0].startswith("shuffle (refused.py:25): ChannelShuffle") and "nearest: PixelShuffle" in problems[0]
    assert problems[1].startswith("act (refused.py:25): Hardshrink")
    assert problems[2].startswith("getitem() (refused.py:26)")


@pytest.mark.parametrize(("source", "shapes", "needle"), [
    ("refused.py:not_a_module", None, "gave a int, not an nn.Module"),
    ("nothere.py:X", None, "no such file"),
    ("resnet.py", None, "expected FILE.py:NAME"),
    ("resnet.py:nothing", None, "has no 'nothing'"),
    ("lstm_tagger.py:LSTMTagger", None, "give the input shapes"),
    ("lstm_tagger.py:LSTMTagger", ["7:int8"], "float32 or int64"),
    ("residual_cnn.py:ResidualCNN", ["1,14,14", "3"], "takes 1 tensors, but 2"),
    ("residual_cnn.py:ResidualCNN", ["1,9,9"], "does not run on the given input shapes"),
])
def test_user_mistakes_are_messages(source, shapes, needle):
    with pytest.raises(ImportFailure) as caught:
        import_model(str(MODELS / source), shapes)
    assert needle in str(caught.value)


def test_weights_are_loaded_into_the_module_first(tmp_path):
    from safetensors.torch import save_file

    source = str(MODELS / "lstm_tagger.py:LSTMTagger")
    module = load_source(source).module
    state = {k: torch.full_like(v, 0.01) for k, v in module.state_dict().items()}
    save_file(state, str(tmp_path / "w.safetensors"))
    result = import_model(source, ["5:int64"], str(tmp_path / "w.safetensors"))
    assert torch.equal(result.state["tag.weight"], state["tag.weight"])
    assert torch.equal(result.state["lstm.weight_ih_l0"], state["lstm.weight_ih_l0"])
    torch.save({"nope": torch.zeros(1)}, tmp_path / "bad.pt")
    with pytest.raises(ImportFailure, match="does not fit the module"):
        import_model(source, ["5:int64"], str(tmp_path / "bad.pt"))


def test_outline_lists_the_models_a_file_offers_and_its_example_shapes(tmp_path):
    """What the window's import dialog shows (app/importing.py): module classes in the file's order,
    then its functions (not example_inputs), and example_inputs() as --input-shape texts."""
    from engine.importer.source import outline

    found = outline(MODELS / "resnet.py")
    assert found.names == ["BasicBlock", "Bottleneck", "ResNet", "conv3x3", "conv1x1", "resnet18", "resnet50"]
    assert found.classes == 3 and found.shapes == ["3,64,64"]
    assert outline(MODELS / "transformer_classifier.py").shapes == ["12:int64"]
    assert outline(MODELS / "lstm_tagger.py").shapes is None
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\ndef f(:\n")
    with pytest.raises(ImportFailure, match=r"bad.py:2: the file is not valid Python"):
        outline(bad)


def test_functional_pooling_calls_come_in_as_pooling_layers():
    """F.adaptive_avg_pool2d and its kin had no counterpart although the layers exist (a new
    user's CNN was refused at its pooling line)."""
    result = import_model(str(MODELS / "functional_pools.py:FunctionalPools"), None)
    assert result.max_difference <= 1e-5
    types = sorted(n.type for n in result.project.graph.nodes)
    for name in ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"):
        assert name in types
