"""Augmentation: flips and crops move masks with their images; noise touches only inputs."""
import pytest
import torch

from engine.data import BatchLoader, DataError, Split
from engine.data.augment import Augment, build_augment, random_crop
from tests.engine.test_data_fit import graph_doc, prepare, project


def test_flip_and_crop_move_masks_with_images():
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(64, 1, 8, 8)
    masks = images[:, 0].clone()          # a (N, H, W) label map equal to the image
    augment = Augment("both", 2, 0.0, image_inputs=(0,), paired_targets=(0,))
    (x,), (m,) = augment.apply((images,), (masks,), gen)
    assert x.shape == images.shape and m.shape == masks.shape
    torch.testing.assert_close(x[:, 0], m)
    assert not torch.equal(x, images)


def test_crop_shifts_content_and_pads_with_zeros():
    t = torch.arange(16.0).reshape(1, 1, 4, 4)
    shifted = random_crop(t, 1, torch.tensor([0]), torch.tensor([0]))   # offset 0 = shift down-right by 1
    assert shifted[0, 0, 0].tolist() == [0, 0, 0, 0] and shifted[0, 0, 1, 1] == 0
    assert shifted[0, 0, 1, 1:].tolist() == [0.0, 1.0, 2.0]
    centred = random_crop(t, 1, torch.tensor([1]), torch.tensor([1]))
    torch.testing.assert_close(centred, t)


def test_noise_only_on_inputs():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.zeros(10, 3), torch.zeros(10, 3)
    (nx,), (ny,) = Augment(noise=0.5, noisy_inputs=(0,)).apply((x,), (y,), gen)
    assert float(nx.std()) > 0.2 and torch.equal(ny, y)


def test_build_augment_checks_the_graph():
    with pytest.raises(DataError, match="need an image Input"):
        prepare(project({"dataset": "spiral", "augment": {"flip": "horizontal"}}))
    data = prepare(project({"dataset": "spiral", "augment": {"noise": 0.1}}))
    assert data.augment is not None and data.augment.noisy_inputs == (0,)
    assert build_augment({"flip": "none", "crop_padding": 0, "noise": 0.0}, [(2,)], ["float32"], [()], ["x"]) is None
    g = graph_doc([("t", "Input", {"shape": [8], "dtype": "int64"}), ("emb", "Embedding", {"num_embeddings": 10}),
                   ("fc", "Linear", {"out_features": 10}), ("y", "Output", {})],
                  [("t", "emb"), ("emb", "fc"), ("fc", "y")])
    with pytest.raises(DataError, match="noise needs float inputs"):
        prepare(project({"dataset": "tokens", "augment": {"noise": 0.1}}, graph=g))


def test_loader_batches_shuffle_and_augment():
    split = Split((torch.arange(10.0)[:, None],), (torch.arange(10),))
    gen = torch.Generator().manual_seed(0)
    loader = BatchLoader(split, 4, shuffle=True, device=torch.device("cpu"), generator=gen)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    seen = torch.cat([x for (x,), _ in batches])[:, 0]
    assert sorted(seen.tolist()) == list(map(float, range(10)))
    for (x,), (y,) in batches:
        torch.testing.assert_close(x[:, 0].long(), y)
    odd = BatchLoader(Split((torch.zeros(9, 1),), (torch.zeros(9),)), 4, shuffle=True, device=torch.device("cpu"),
                      generator=gen)
    assert len(odd) == 2  # a last batch of one sample is dropped while training (BatchNorm)
    ordered = BatchLoader(split, 4, shuffle=False, device=torch.device("cpu"))
    assert [len(x) for (x,), _ in ordered] == [4, 4, 2]
