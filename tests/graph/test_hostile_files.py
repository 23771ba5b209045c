"""Loading refuses, with a message and before exhausting anything, what cannot be a design
(DESIGN §8): huge or endless files, over-long numbers, deep nesting, positions the canvas cannot
paint, text that is not valid Unicode. Saving such text is refused without touching the file."""
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graph import bounded_json
from graph.project import LoomFileError, Project, load, loads, save
from tests.conftest import ROOT

SPIRAL = ROOT / "resources" / "examples" / "spiral_mlp.loom"


def spiral_doc() -> dict:
    return json.loads(SPIRAL.read_text())


def test_a_file_too_large_to_be_a_design_is_refused_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.loom"
    with big.open("wb") as handle:  # sparse: 3 GiB on paper, nothing on disk
        handle.truncate(3 << 30)
    reads = []
    real_open = open

    def spy(*args, **kwargs):
        handle = real_open(*args, **kwargs)
        reads.append(handle)
        return handle

    monkeypatch.setattr("builtins.open", spy)
    with pytest.raises(LoomFileError, match=r"big.loom: the file is 3.0 GiB, too large to be a design"):
        load(big)
    assert all(h.closed for h in reads)


def test_an_endless_device_is_read_only_up_to_the_bound():
    started = time.monotonic()
    with pytest.raises(LoomFileError, match="goes on past 64.0 MiB"):
        load("/dev/zero")
    assert time.monotonic() - started < 20


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS as a memory cap")
def test_check_of_a_multi_gigabyte_file_under_a_memory_limit_reports(tmp_path):
    big = tmp_path / "big.loom"
    with big.open("wb") as handle:
        handle.write(b'{"format": "layerloom", "name": "')
        handle.truncate(2 << 30)
    limit = 1 << 30  # 1 GiB of address space: the file cannot be held, only refused
    code = (f"import resource, sys; sys.path.insert(0, {str(ROOT)!r}); "
            f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit})); "
            "import main; sys.exit(main.main(['check', sys.argv[1]]))")
    result = subprocess.run([sys.executable, "-c", code, str(big)], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "too large to be a design" in result.stderr
    assert resource.getrlimit(resource.RLIMIT_AS)[0] != limit


def test_a_number_of_5000_digits_is_refused_naming_the_bound():
    doc = SPIRAL.read_text().replace('"out_features": 3', '"out_features": ' + "9" * 5000)
    with pytest.raises(LoomFileError, match="a number with 5,000 digits is too long"):
        loads(doc)


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deep_nesting_is_refused(depth):
    doc = spiral_doc()
    text = json.dumps(doc).replace('"ui": {}', '"ui": {"deep": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(LoomFileError, match="nested"):
        loads(text)


@pytest.mark.parametrize("pos", [[float("nan"), float("nan")], [float("inf"), 0], [0, -1e300]])
def test_positions_the_canvas_cannot_paint_are_refused(pos):
    doc = spiral_doc()
    doc["graph"]["nodes"][2]["pos"] = pos
    with pytest.raises(LoomFileError, match=r'nodes\[2\]: "pos" must be two finite numbers'):
        loads(json.dumps(doc))


def test_a_lone_surrogate_is_refused_naming_the_field():
    doc = spiral_doc()
    doc["name"] = "\ud800"
    with pytest.raises(LoomFileError, match=r"name: '\\ud800' is not valid Unicode"):
        loads(json.dumps(doc))
    doc = spiral_doc()
    doc["graph"]["nodes"][1]["label"] = "fc\udcff"
    with pytest.raises(LoomFileError, match=r"graph.nodes\[1\].label: 'fc\\udcff' is not valid Unicode"):
        loads(json.dumps(doc))


def test_saving_text_utf8_cannot_hold_is_refused_and_leaves_the_file(tmp_path):
    path = tmp_path / "d.loom"
    path.write_text("previous")
    with pytest.raises(LoomFileError, match=r"cannot save: name: .* is not valid Unicode"):
        save(Project(name="bad\ud800"), path)
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["d.loom"]


def test_ordinary_designs_are_well_inside_the_bounds():
    for path in (ROOT / "resources" / "examples").glob("*.loom"):
        doc = json.loads(path.read_text())
        assert bounded_json.problem_in(doc) is None, path
        assert os.path.getsize(path) < bounded_json.MAX_BYTES // 1000


def test_the_bounds_leave_ordinary_big_numbers_and_unicode_alone(tmp_path):
    doc = spiral_doc()
    doc["name"] = "Spirale – 螺旋 🌀"
    doc["training"]["seed"] = 2 ** 64
    path = tmp_path / "u.loom"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    project = load(path)
    assert project.name == "Spirale – 螺旋 🌀" and project.training["seed"] == 2 ** 64
    save(project, Path(path))
    assert load(path).name == project.name
