"""Generated modules against hand-written torch.nn equivalents (tests/engine/designs): the same
parameter shapes, in the same order, the same count, and the same outputs for the same weights."""
from __future__ import annotations

import pytest
import torch

from engine.codegen import compile_project
from graph.analysis import analyse
from tests.engine.designs import DESIGNS, copy_weights, param_count, param_shapes

torch.set_num_threads(1)


@pytest.fixture(params=sorted(DESIGNS), ids=sorted(DESIGNS))
def pair(request):
    design = DESIGNS[request.param]
    project = design.project()
    _, module = compile_project(project)
    torch.manual_seed(0)
    return project, module, module.build_model(), design.hand_written()


def test_same_parameter_shapes_and_count(pair):
    project, _, generated, hand = pair
    assert param_shapes(generated) == param_shapes(hand)
    assert param_count(generated) == param_count(hand) == analyse(project.graph).total_params


def test_same_outputs_with_the_hand_written_weights(pair):
    _, module, generated, hand = pair
    copy_weights(hand, generated)
    generated.eval()
    hand.eval()
    torch.manual_seed(1)
    inputs = module.example_inputs(3)
    with torch.no_grad():
        torch.testing.assert_close(generated(*inputs), hand(*inputs), rtol=1e-5, atol=1e-6)


def test_same_gradients_in_training_mode(pair):
    """Training mode too (batch statistics; dropout off so that both draw nothing random)."""
    _, module, generated, hand = pair
    copy_weights(hand, generated)
    for model in (generated, hand):
        model.train()
        for sub in model.modules():
            if isinstance(sub, torch.nn.Dropout):
                sub.p = 0.0
            elif isinstance(sub, torch.nn.MultiheadAttention):
                sub.dropout = 0.0  # attention dropout is a float, not a Dropout module
    torch.manual_seed(1)
    inputs = module.example_inputs(3)
    grads = []
    for model in (generated, hand):
        model.zero_grad()
        model(*inputs).square().mean().backward()
        grads.append([p.grad for p in model.parameters()])
    for g, h in zip(*grads, strict=True):
        torch.testing.assert_close(g, h, rtol=1e-4, atol=1e-6)
