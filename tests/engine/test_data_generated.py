"""Built-in data sets: shapes, dtypes, label ranges, seeding, and option checking."""
import numpy as np
import pytest

from engine.data import DataError, all_datasets, get
from engine.data.prepare import parse_section
from engine.data.registry import Context
from tests.engine.test_data_fit import project


def load(name: str, **options):
    dataset, values = parse_section({"dataset": name, **options})
    return dataset.load(values, Context(base_dir=".", inputs=[], outputs=[], seed=values["seed"]))


@pytest.mark.parametrize("name, x_shape, classes", [
    ("spiral", (2,), 3), ("moons", (2,), 2), ("circles", (2,), 2), ("xor", (2,), 2), ("blobs", (2,), 3),
    ("digits", (1, 8, 8), 10), ("bits", (12, 1), 13), ("shapes", (1, 16, 16), 3),
])
def test_classification_sets_give_labels_in_range(name, x_shape, classes):
    raw = load(name)
    (x,), (y,) = raw.inputs, raw.targets
    assert x.shape[1:] == x_shape and x.dtype == np.float32
    assert y.dtype == np.int64 and y.min() == 0 and classes - 2 <= y.max() <= classes - 1
    assert len(raw.classes) == classes and len(x) == len(y)


def test_spiral_options_and_seed():
    a, b, c = load("spiral", samples=300, classes=5), load("spiral", samples=300, classes=5), load("spiral", seed=1)
    assert a.inputs[0].shape == (300, 2) and set(a.targets[0]) == set(range(5))
    np.testing.assert_array_equal(a.inputs[0], b.inputs[0])
    assert not np.array_equal(a.inputs[0][:100], c.inputs[0][:100])


@pytest.mark.parametrize("name", ["sine", "polynomial"])
def test_regression_sets(name):
    raw = load(name, samples=500, noise=0.0)
    (x,), (y,) = raw.inputs, raw.targets
    assert x.shape == (500, 1) and y.shape == (500, 1) and y.dtype == np.float32 and raw.classes is None
    expected = np.sin(x) if name == "sine" else x ** 3 - x
    np.testing.assert_allclose(y, expected, atol=1e-5)


def test_polynomial_coefficients_are_checked():
    with pytest.raises(DataError, match="coefficients"):
        load("polynomial", coefficients="x^2")


def test_bits_parity_and_count():
    parity = load("bits", task="parity", length=5, samples=200)
    bits = parity.inputs[0][:, :, 0]
    np.testing.assert_array_equal(parity.targets[0], bits.sum(1) % 2)
    count = load("bits", task="count", length=5, samples=200)
    np.testing.assert_array_equal(count.targets[0], count.inputs[0][:, :, 0].sum(1))


@pytest.mark.parametrize("task", ["reverse", "sort", "majority"])
def test_tokens_tasks(task):
    raw = load("tokens", task=task, vocab=6, length=7, samples=300)
    (x,), (y,) = raw.inputs, raw.targets
    assert x.dtype == np.int64 and x.shape == (300, 7) and 0 <= x.min() and x.max() < 6
    if task == "reverse":
        np.testing.assert_array_equal(y, x[:, ::-1])
    elif task == "sort":
        np.testing.assert_array_equal(y, np.sort(x, axis=1))
    else:
        assert y.shape == (300,)
        for row, label in zip(x[:20], y[:20]):
            counts = np.bincount(row, minlength=6)
            assert counts[label] == counts.max()


def test_shapes_segment_masks_match_images():
    binary = load("shapes", task="segment", mask="binary", samples=50, noise=0.0)
    (x,), (m,) = binary.inputs, binary.targets
    assert m.shape == (50, 1, 16, 16) and set(np.unique(m)) <= {0.0, 1.0}
    np.testing.assert_array_equal(x > 0, m > 0)
    classes = load("shapes", task="segment", mask="classes", samples=50, size=12, channels=3)
    (x,), (labels,) = classes.inputs, classes.targets
    assert x.shape == (50, 3, 12, 12) and labels.shape == (50, 12, 12) and labels.max() <= 3
    assert classes.classes == ["background", "circle", "square", "triangle"]


def test_every_dataset_is_documented_and_its_options_have_help():
    for dataset in all_datasets():
        assert dataset.doc and dataset.gives and dataset.group in ("generated", "bundled", "file")
        for option in dataset.options:
            assert option.help, (dataset.name, option.name)
    assert get("nope") is None


@pytest.mark.parametrize("section, message", [
    ({}, "data.dataset: the project names no data set"),
    ({"dataset": "spirl"}, "did you mean 'spiral'"),
    ({"dataset": "spiral", "noize": 0.1}, "data.noize: unknown key (did you mean 'noise'?)"),
    ({"dataset": "spiral", "classes": 1}, "data.classes is 1; expected a whole number from 2 to 64"),
    ({"dataset": "spiral", "validation_split": 0.95}, "data.validation_split is 0.95"),
    ({"dataset": "csv"}, "data.path: the csv data set needs a path"),
    ({"dataset": "spiral", "augment": {"flipp": "both"}}, "data.augment.flipp: unknown key"),
    ({"dataset": "spiral", "augment": {"flip": "diagonal"}}, "data.augment.flip is \"diagonal\""),
])
def test_bad_sections_name_the_key(section, message):
    with pytest.raises(DataError) as info:
        parse_section(section)
    assert message in str(info.value)


def test_max_samples_and_no_validation():
    from engine.data import prepare_data
    from graph.analysis import analyse

    p = project({"dataset": "spiral", "max_samples": 100, "validation_split": 0.0})
    data = prepare_data(p.data, p.graph, analyse(p.graph))
    assert len(data.train) == 100 and data.val is None


def test_digits_classes_keep_those_digits_labelled_in_order():
    """Two tasks from one data set (transfer learning, docs/data.md): 5-9 keeps only those digits,
    labelled 0..4, named by the digits; a set that is not at least two digits is a message."""
    dataset, options = parse_section({"dataset": "digits", "classes": "5-9"})
    raw = dataset.load(options, Context(".", [], []))
    assert raw.classes == ["5", "6", "7", "8", "9"]
    assert len(raw.inputs[0]) == 896 and sorted(set(raw.targets[0].tolist())) == [0, 1, 2, 3, 4]
    dataset, options = parse_section({"dataset": "digits", "classes": "0,2, 4"})
    assert dataset.load(options, Context(".", [], [])).classes == ["0", "2", "4"]
    for bad in ("5", "8-12", "a-b"):
        dataset, options = parse_section({"dataset": "digits", "classes": bad})
        with pytest.raises(DataError, match="data.classes"):
            dataset.load(options, Context(".", [], []))
