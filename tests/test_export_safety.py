"""`export` keeps the user's files and the machine safe (DESIGN §4, §8): it never writes over its
own input, refuses a model that cannot fit before building it (naming the node and size), runs
an ONNX file whose graph dropped an unused Input, and exits 0 or 1, never 2."""
import json

import pytest

import engine.export_torch
from tests.engine.test_data_fit import graph_doc
from tests.fuzz_files import run_main


def design(tmp_path, nodes, edges, name="design.loom"):
    path = tmp_path / name
    path.write_text(json.dumps({"format": "layerloom", "version": 1, "name": "Net", "graph": graph_doc(nodes, edges)}))
    return path


def small(tmp_path, out_features=3, name="design.loom"):
    return design(tmp_path, [("x", "Input", {"shape": [4]}), ("fc", "Linear", {"out_features": out_features}),
                             ("y", "Output", {})], [("x", "fc"), ("fc", "y")], name)


@pytest.mark.parametrize("fmt", ["py", "onnx", "pt"])
def test_export_onto_its_own_input_is_refused_and_the_design_kept(tmp_path, fmt):
    path = small(tmp_path)
    before = path.read_bytes()
    code, _, err = run_main("export", str(path), "-o", str(path), "--format", fmt)
    assert code == 1 and "is the design being exported" in err and "Traceback" not in err, err
    assert path.read_bytes() == before
    (tmp_path / "link.loom").symlink_to(path)
    code, _, err = run_main("export", str(tmp_path / "link.loom"), "-o", str(path), "--format", fmt)
    assert code == 1 and path.read_bytes() == before


@pytest.mark.parametrize("suffix", [".onnx", ".pt"])
def test_a_model_of_terabytes_is_refused_before_it_is_built(tmp_path, monkeypatch, suffix):
    path = small(tmp_path, out_features=10 ** 12)
    monkeypatch.setattr(engine.export_torch, "load_generated", lambda *a: pytest.fail("the model was built"))
    code, _, err = run_main("export", str(path), "-o", str(tmp_path / f"m{suffix}"))
    assert code == 1 and "Traceback" not in err, err
    assert "error: fc: its weights take 18.2 TiB (5,000,000,000,000 parameters)" in err, err
    assert "of memory available" in err and not (tmp_path / f"m{suffix}").exists()


def test_the_py_export_of_a_huge_design_writes_text_without_allocating(tmp_path):
    path = small(tmp_path, out_features=10 ** 12)
    code, _, err = run_main("export", str(path), "-o", str(tmp_path / "m.py"))
    assert code == 0, err
    assert "1000000000000" in (tmp_path / "m.py").read_text()


def test_onnx_with_an_unused_input_is_checked_without_it(tmp_path):
    path = design(tmp_path, [("x", "Input", {"shape": [4]}), ("spare", "Input", {"shape": [2]}),
                             ("fc", "Linear", {"out_features": 3}), ("y", "Output", {})],
                  [("x", "fc"), ("fc", "y")])
    code, out, err = run_main("export", str(path), "-o", str(tmp_path / "m.onnx"))
    assert code == 0 and "Traceback" not in err, err
    assert "checked with onnxruntime" in out and "spare" in out, out


@pytest.mark.parametrize("content", [None, "{ not json", "\x00\x01binary"])
def test_an_unreadable_design_exits_1_as_design_4_says(tmp_path, content):
    path = tmp_path / "bad.loom"
    if content is not None:
        path.write_text(content)
    code, out, err = run_main("export", str(path), "-o", str(tmp_path / "m.py"))
    assert code == 1 and err.startswith("error: ") and "Traceback" not in err and out == "", err
