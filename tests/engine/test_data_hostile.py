"""Data files that would mislead or exhaust training are refused with the file, line and column
(or node) at fault, before the memory is taken (DESIGN §8), and never with numpy warnings."""
import itertools
import tracemalloc
import warnings

import numpy as np
import pytest

from engine.data import DataError
from engine.data import files as data_files
from graph.analysis import consumers_through_passthrough
from graph.project import from_dict
from tests.engine.test_data_fit import graph_doc, mlp_doc, prepare, project


@pytest.fixture(autouse=True)
def numpy_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def write_csv(path, rows):
    path.write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n")


def test_a_csv_value_beyond_float32_names_the_file_line_and_column(tmp_path):
    rows = [["a", "b", "label"]] + [[i, i * 0.5, i % 2] for i in range(20)]
    rows[7][1] = "1e308"
    write_csv(tmp_path / "big.csv", rows)
    with pytest.raises(DataError) as info:
        prepare(project({"dataset": "csv", "path": "big.csv"}), tmp_path)
    text = str(info.value)
    assert "big.csv, line 8, column 'b': 1e308 is beyond the float32 range" in text, text


def test_a_regression_target_beyond_float32_is_named_too(tmp_path):
    rows = [["a", "t"]] + [[i, i] for i in range(20)]
    rows[3][1] = "-5e40"
    write_csv(tmp_path / "r.csv", rows)
    p = project({"dataset": "csv", "path": "r.csv"}, graph=mlp_doc(inputs=1, classes=1, loss="mse"))
    with pytest.raises(DataError, match=r"line 4, column 't': -5e40 is beyond the float32 range"):
        prepare(p, tmp_path)


def test_large_but_representable_values_standardize_without_overflow(tmp_path):
    rows = [["a", "b", "label"]] + [[i * 1e30, -i * 1e25, i % 2] for i in range(40)]
    write_csv(tmp_path / "wide.csv", rows)
    data = prepare(project({"dataset": "csv", "path": "wide.csv"}), tmp_path)
    x = data.train.inputs[0]
    assert x.isfinite().all() and float(x.abs().max()) < 10


def test_float64_arrays_beyond_float32_are_refused_naming_the_input(tmp_path):
    x = np.ones((30, 2))
    x[5, 1] = 1e300
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(30) % 3)
    with pytest.raises(DataError, match=r"inputs for Input 'x' up to 1e\+300, beyond the float32 range"):
        prepare(project({"dataset": "npz", "path": "d.npz"}), tmp_path)


def test_a_huge_sparse_csv_is_refused_at_its_first_bad_row_without_reading_it_whole(tmp_path):
    columns = 300
    with (tmp_path / "sparse.csv").open("w") as handle:
        handle.write(",".join(f"c{i}" for i in range(columns)) + "\n")
        handle.write(("1" + "," * (columns - 1) + "\n") * 20_000)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"sparse.csv, line 2, column 'c1': '' is not a number"):
            prepare(project({"dataset": "csv", "path": "sparse.csv"}), tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak  # the rows are not held as text (they were: 48 MiB of lists)


def test_a_csv_too_large_for_memory_is_refused_before_it_is_read_whole(tmp_path, monkeypatch):
    columns = 50
    rows = [[f"c{i}" for i in range(columns)]] + [[(r * columns + c) % 7 for c in range(columns)]
                                                   for r in range(4000)]
    write_csv(tmp_path / "many.csv", rows)
    monkeypatch.setattr(data_files, "CSV_BLOCK_BYTES", 16 << 10)
    monkeypatch.setattr(data_files, "available_bytes", lambda: 1 << 20)
    reads = []
    real = data_files._value
    monkeypatch.setattr(data_files, "_value", lambda *a: reads.append(1) or real(*a))
    with pytest.raises(DataError) as info:
        prepare(project({"dataset": "csv", "path": "many.csv"}, graph=mlp_doc(inputs=columns - 1)), tmp_path)
    text = str(info.value)
    assert text.startswith(f"data.path: {tmp_path / 'many.csv'} is ") and "more than the 1.0 MiB available" in text
    assert "rows of 49 numeric column(s)" in text and "data.features" in text
    assert len(reads) < 4000 * columns // 10  # refused early, not after parsing everything


def token_graph(through: list[str]):
    nodes = [("x", "Input", {"shape": [4], "dtype": "int64"})]
    nodes += [(name, kind, {}) for name, kind in zip(through, ["Identity", "Dropout", "Reshape"])]
    nodes += [("emb", "Embedding", {"num_embeddings": 5, "embedding_dim": 3}), ("flat", "Flatten", {}),
              ("fc", "Linear", {"out_features": 3}), ("y", "Output", {})]
    chain = [n[0] for n in nodes]
    return graph_doc(nodes, list(itertools.pairwise(chain)))


@pytest.mark.parametrize("through", [[], ["same"], ["same", "drop"]])
def test_the_vocabulary_is_checked_through_pass_through_layers(tmp_path, through):
    np.savez(tmp_path / "t.npz", x=np.arange(120).reshape(30, 4) % 10, y=np.arange(30) % 3)
    with pytest.raises(DataError, match="token ids up to 9, but Embedding 'emb' has num_embeddings 5"):
        prepare(project({"dataset": "npz", "path": "t.npz"}, graph=token_graph(through)), tmp_path)


def test_consumers_through_passthrough_looks_through_same_type_layers_only():
    graph = from_dict({"format": "layerloom", "graph": token_graph(["same", "drop"])}).graph
    assert [n.id for n in consumers_through_passthrough(graph, "x")] == ["emb"]
    assert [n.id for n in consumers_through_passthrough(graph, "emb")] == ["fc"]  # Flatten passes on
    assert consumers_through_passthrough(graph, "y") == []
