"""A design's objects and Python's collector (app.gc_guard): no automatic full collection while a
big design's items are built, then the garbage of the design it replaced is collected once on the
GUI thread and what lives is frozen, so that later full collections do not walk the design."""
from __future__ import annotations

import gc
from typing import ClassVar

import pytest

import app.node_items_lazy
from app.gc_guard import NO_FULL, GuiThreadCollection
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


def test_a_built_design_collects_what_it_replaced_and_stays_frozen_through_a_workers_hold(qtbot, collector_restored):
    collection = GuiThreadCollection()
    thresholds = gc.get_threshold()
    collection.design_loading()
    assert gc.get_threshold() == (*thresholds[:2], NO_FULL)
    Cycle.collected.clear()
    Cycle("old design")
    gc.freeze()  # as a worker's hold during the load would have
    collection.design_built()
    assert gc.get_threshold() == thresholds
    assert Cycle.collected == ["old design"]
    frozen = gc.get_freeze_count()
    assert frozen > 0
    collection.hold()
    collection.release()
    assert gc.get_freeze_count() >= frozen, "the design stays frozen"


def test_a_big_design_builds_without_full_collections_then_settles(make_window, tmp_path, monkeypatch, qtbot, collector_restored):
    monkeypatch.setattr(app.node_items_lazy, "SYNC_LIMIT", 10)
    monkeypatch.setattr(app.node_items_lazy, "CHUNK", 8)
    monkeypatch.setattr(app.node_items_lazy, "SETTLE_MS", 10)
    path = tmp_path / "big.loom"
    save(chain(80), path)
    window = make_window()
    window.show()
    thresholds = gc.get_threshold()
    Cycle.collected.clear()
    Cycle("before the open")
    gc.freeze()
    window.open_path(path, ask=False)
    assert window.canvas.loading
    assert gc.get_threshold()[2] == NO_FULL, "no full collection while the items are built"
    qtbot.waitUntil(lambda: not window.canvas.loading, timeout=10_000)
    qtbot.waitUntil(lambda: gc.get_threshold() == thresholds, timeout=2000)
    assert Cycle.collected == ["before the open"]
    assert gc.get_freeze_count() > 0
