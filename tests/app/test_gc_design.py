"""A design's objects and Python's collector (app.gc_guard): once a design's items are built what
lives is frozen, so that later full collections (0.2-1 s at 5,000 nodes) do not walk the design,
and it stays frozen through a worker's hold; showing another design unfreezes it, so that the old
design's garbage is collected."""
from __future__ import annotations

import gc
from typing import ClassVar

import pytest

import app.node_items_lazy
from app.gc_guard import GuiThreadCollection, guard
from graph.project import save
from tests.app.test_big import chain


class Cycle:
    collected: ClassVar[list[str]] = []

    def __init__(self, name: str) -> None:
        self.me, self.name = self, name

    def __del__(self) -> None:
        Cycle.collected.append(self.name)


@pytest.fixture
def collector_restored():
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def test_a_built_design_is_frozen_through_a_workers_hold_until_another_is_shown(qtbot, collector_restored):
    collection = GuiThreadCollection()
    gc.unfreeze()
    Cycle.collected.clear()
    Cycle("young garbage")
    collection.design_built()
    assert Cycle.collected == ["young garbage"], "not frozen with the design"
    frozen = gc.get_freeze_count()
    assert frozen > 0
    collection.hold()
    collection.release()
    assert gc.get_freeze_count() >= frozen, "the design stays frozen"
    collection.design_replaced()
    assert gc.get_freeze_count() == 0 and not collection.design_frozen


def test_a_big_design_is_frozen_once_built_and_unfrozen_when_replaced(make_window, tmp_path, monkeypatch, qtbot, collector_restored):
    monkeypatch.setattr(app.node_items_lazy, "SYNC_LIMIT", 10)
    monkeypatch.setattr(app.node_items_lazy, "CHUNK", 8)
    monkeypatch.setattr(app.node_items_lazy, "SETTLE_MS", 10)
    path = tmp_path / "big.loom"
    save(chain(80), path)
    window = make_window()
    window.show()
    window.open_path(path, ask=False)
    assert window.canvas.loading
    qtbot.waitUntil(lambda: not window.canvas.loading, timeout=10_000)
    qtbot.waitUntil(lambda: guard().design_frozen, timeout=2000)
    assert gc.get_freeze_count() > 0
    Cycle.collected.clear()
    Cycle("old design")
    gc.freeze()  # garbage of the old design, frozen with it
    window.open_path(path, ask=False)
    assert gc.get_freeze_count() == 0 and not guard().design_frozen
    gc.collect()
    assert Cycle.collected == ["old design"]


def test_opening_a_design_sets_off_no_collection(window, tmp_path, collector_restored):
    """Reading and analysing a 5,000-node design made ~500,000 objects, and the collections they
    set off walked them again and again: 150 ms of a 0.45 s first paint."""
    path = tmp_path / "big.loom"
    save(chain(2000), path)
    starts = []

    def record(phase, info):
        if phase == "start":
            starts.append(info["generation"])

    gc.callbacks.append(record)
    try:
        window.open_path(path, ask=False)
    finally:
        gc.callbacks.remove(record)
    assert len(window.doc.graph.nodes) == 2000
    assert len(starts) <= 1   # at most the one pass when the collector is switched on again
    assert gc.isenabled()   # the collector runs again once the design is open
