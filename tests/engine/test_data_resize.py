"""The digits at another size (issue 11: LeNet-5 takes 28x28 images, the bundled digits are 8x8),
and the one-field fix that a size mismatch suggests."""
import numpy as np
import pytest

from engine.data import DataError
from engine.data.images import resize
from tests.engine.test_data_fit import graph_doc, prepare, project
from tests.engine.test_data_generated import load


def test_digits_resized_keep_their_labels_range_and_strokes():
    small, big = load("digits"), load("digits", size=28)
    (x8,), (y8,) = small.inputs, small.targets
    (x28,), (y28,) = big.inputs, big.targets
    assert x8.shape[1:] == (1, 8, 8) and x28.shape == (len(x8), 1, 28, 28) and x28.dtype == np.float32
    np.testing.assert_array_equal(y8, y28)
    assert 0.0 <= x28.min() and x28.max() <= 1.0
    # the same digits: shrunk back to 8x8 they are about the originals
    assert np.corrcoef(resize(x28, (8, 8)).ravel(), x8.ravel())[0, 1] > 0.95
    assert big.info["size"] == [28, 28] and "size" not in small.info


def conv_doc(side: int):
    return graph_doc([("image", "Input", {"shape": [1, side, side]}), ("flat", "Flatten", {}),
                      ("fc", "Linear", {"out_features": 10}), ("y", "Output", {})],
                     [("image", "flat"), ("flat", "fc"), ("fc", "y")])


def test_a_size_mismatch_suggests_the_size_option():
    with pytest.raises(DataError) as info:
        prepare(project({"dataset": "digits"}, graph=conv_doc(28)))
    text = str(info.value)
    assert "set data.size to 28, set image's shape to [1, 8, 8] or choose another data set" in text
    data = prepare(project({"dataset": "digits", "size": 28}, graph=conv_doc(28)))
    assert data.train.inputs[0].shape[1:] == (1, 28, 28)


def test_the_size_option_is_checked():
    with pytest.raises(DataError, match=r"data\.size is 2; expected"):
        load("digits", size=2)
