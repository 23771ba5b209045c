"""Garbage is collected on the GUI thread while LayerLoom's worker threads run (app.gc_guard):
a worker that collected Qt objects deadlocked the suite on PySide6 6.11."""
from __future__ import annotations

import gc
import threading
from typing import ClassVar

from app.gc_guard import GuiThreadCollection, guard
from app.training.loader import engine_loader
from tests.conftest import EXAMPLES


class Cycle:
    """A reference cycle that notes which thread finally collects it."""

    collected_on: ClassVar[list[str]] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        Cycle.collected_on.append(threading.current_thread().name)


def test_holds_nest_and_the_last_release_restores_automatic_collection(qtbot):
    collection = GuiThreadCollection()
    assert gc.isenabled()
    collection.hold()
    collection.hold()
    assert not gc.isenabled()
    collection.release()
    assert not gc.isenabled()
    collection.release()
    assert gc.isenabled()
    collection.release()  # one release too many changes nothing
    assert gc.isenabled() and collection.holders == 0


def test_while_held_garbage_is_collected_by_the_gui_thread_timer(qtbot):
    """With a threshold of 1, any thread that allocated would collect at once were collection
    automatic; held, only the GUI thread's timer does. (The count is allocations minus
    deallocations, so the main thread keeps allocating until the timer finds a collection due.)"""
    collection = GuiThreadCollection()
    Cycle.collected_on.clear()
    thresholds = gc.get_threshold()
    kept: list = []

    def make_garbage() -> None:
        Cycle()
        kept.extend([] for _ in range(100))

    def collected() -> bool:
        kept.append([])
        return bool(Cycle.collected_on)

    collection.hold()
    gc.set_threshold(1, *thresholds[1:])
    try:
        worker = threading.Thread(target=make_garbage, name="worker")
        worker.start()
        worker.join()
        assert Cycle.collected_on == []   # the worker allocated plenty, but did not collect
        qtbot.waitUntil(collected, timeout=5000)
        assert Cycle.collected_on == [threading.main_thread().name]
    finally:
        gc.set_threshold(*thresholds)
        collection.release()


def test_a_training_session_holds_the_guard_for_its_thread_only(qtbot, tmp_path):
    engine_loader().wait()
    from app.training.session import TrainingSession
    from graph.project import load

    project = load(EXAMPLES / "spiral_mlp.loom")
    project.training["epochs"] = 2
    session = TrainingSession(project, base_dir=tmp_path, out_dir=None)
    before = guard().holders
    ended: list = []
    session.ended.connect(ended.append)
    session.start()
    assert guard().holders == before + 1 and not gc.isenabled()
    qtbot.waitUntil(lambda: bool(ended), timeout=30_000)
    assert ended[0].kind == "finished"
    assert guard().holders == before


def test_a_hold_freezes_what_was_alive_so_gui_thread_collections_stay_short(qtbot):
    """Full collections during a run walk only the run's own objects (40-90 ms -> under 1 ms
    in the window); the last release hands the frozen objects back to the collector."""
    collection = GuiThreadCollection()
    before = [object() for _ in range(10)]
    collection.hold()
    assert gc.get_freeze_count() >= len(before)
    collection.hold()
    collection.release()
    assert gc.get_freeze_count() > 0
    collection.release()
    assert gc.get_freeze_count() == 0
