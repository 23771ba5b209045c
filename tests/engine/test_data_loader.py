"""The batch loader: the order and values of its batches wherever the data lie (on the device, in
host memory through pinned buffers and a side stream), stored uint8 inputs decoded, drop_last."""
import pytest
import torch

from engine.data import BatchLoader, Split

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def split(n=103):
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, 5, 4), dtype=torch.uint8, generator=g)
    return Split((images, torch.randn(n, 2, generator=g)), (torch.arange(n),), (1 / 255, None))


def batches(loader):
    return [(tuple(x.cpu() for x in xs), tuple(y.cpu() for y in ys)) for xs, ys in loader]


def test_a_stored_uint8_input_reaches_the_model_as_scaled_floats():
    data = split()
    (xs, ys), *_ = batches(BatchLoader(data, 10, shuffle=False, device=torch.device("cpu")))
    assert xs[0].dtype == torch.float32
    torch.testing.assert_close(xs[0], data.inputs[0][:10].float() / 255)
    assert torch.equal(xs[1], data.inputs[1][:10]) and torch.equal(ys[0], torch.arange(10))


def test_drop_last_keeps_only_whole_batches():
    loader = BatchLoader(split(), 10, shuffle=True, device=torch.device("cpu"),
                         generator=torch.Generator().manual_seed(1), drop_last=True)
    assert len(loader) == 10 and all(len(ys[0]) == 10 for _, ys in batches(loader))
    assert len(BatchLoader(split(), 10, shuffle=True, device=torch.device("cpu"))) == 11


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("shuffle", [True, False])
def test_host_data_through_pinned_buffers_gives_the_batches_of_data_on_the_device(shuffle):
    data, cuda = split(1003), torch.device("cuda")
    on_device = BatchLoader(data.to(cuda), 64, shuffle=shuffle, device=cuda,
                            generator=torch.Generator().manual_seed(3))
    from_host = BatchLoader(data, 64, shuffle=shuffle, device=cuda, generator=torch.Generator().manual_seed(3))
    assert from_host._feed is not None and on_device._feed is None
    for _ in range(2):  # a second epoch reuses the ring of buffers
        got = list(from_host)
        assert all(x.is_cuda for xs, ys in got for x in (*xs, *ys))
        torch.cuda.synchronize()
        for (xs, ys), (want_xs, want_ys) in zip(batches(got), batches(on_device), strict=True):
            for a, b in zip((*xs, *ys), (*want_xs, *want_ys)):
                assert torch.equal(a, b)
