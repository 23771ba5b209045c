"""The Training panel's device box offers every GPU at once where the machine has several (issue 18
item 2): training.device cuda on one process per GPU (training.processes), one undo step."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from app.training.loader import engine_loader
from tests.conftest import EXAMPLES


def _spiral(tmp_path: Path) -> Path:
    path = tmp_path / "spiral.loom"
    path.write_text((EXAMPLES / "spiral_mlp.loom").read_text())
    return path


@pytest.fixture
def panel_with_gpus(make_window, tmp_path, qtbot, monkeypatch):
    """A window's Training panel on a machine that says it has `count` GPUs."""
    engine_loader().wait()
    import engine.training.device as device_module

    def make(count: int):
        fake = [device_module.DeviceInfo(torch.device("cuda", i), f"Fake GPU {i}") for i in range(count)]
        fake.append(device_module.DeviceInfo(torch.device("cpu"), "CPU (2 threads)"))
        monkeypatch.setattr(device_module, "available_devices", lambda: list(fake))
        window = make_window(_spiral(tmp_path))
        window.show()
        qtbot.waitUntil(lambda: window._shown)
        assert window.training.panel.ensure_built()
        window.training.panel.refresh_devices()
        return window

    yield make
    engine_loader().refresh_devices()   # the real devices again for the tests that follow


def test_several_gpus_offer_all_of_them(panel_with_gpus):
    window = panel_with_gpus(2)
    panel, doc = window.training.panel, window.doc
    box = panel.device_box
    assert panel.device_specs() == ["auto", "cuda:0", "cuda:1", "cpu", "all-gpus"]
    assert box.itemText(4) == "all 2 GPUs — one process each"
    box.setCurrentIndex(4)
    box.activated.emit(4)
    assert doc.project.training["device"] == "cuda" and doc.project.training["processes"] == 2
    # shown again as chosen once the panel reads the file anew
    panel.refresh_devices()
    assert box.currentData() == "all-gpus"
    # one device again drops the processes
    box.setCurrentIndex(box.findData("cuda:1"))
    box.activated.emit(box.currentIndex())
    assert doc.project.training["device"] == "cuda:1" and "processes" not in doc.project.training
    window.action_undo.trigger()   # the device edits in a row are one undo step, as any field's
    assert "processes" not in doc.project.training
    assert doc.project.training.get("device", "auto") == json.loads(
        (EXAMPLES / "spiral_mlp.loom").read_text())["training"].get("device", "auto")


def test_one_gpu_offers_no_all_entry(panel_with_gpus):
    window = panel_with_gpus(1)
    assert "all-gpus" not in window.training.panel.device_specs()
