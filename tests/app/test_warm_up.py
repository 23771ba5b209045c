"""When the window imports PyTorch on its own (app.launch.WarmUp): in idle time for a design that is
not big, so that its first Train starts at once; never for an empty window or a big design, whose
items need the memory (docs/designer.md, "Big designs")."""
from __future__ import annotations

import pytest

from app import launch
from app.document import Document
from app.training.loader import engine_loader
from graph.model import Graph
from graph.project import Project


def chain(n: int) -> Project:
    g = Graph()
    g.add_node("Input", "x", {"shape": [4]}, (0.0, 0.0))
    prev = "x"
    for i in range(n - 2):
        g.add_node("ReLU", f"r{i}", {}, (100.0 * (i + 1), 0.0))
        g.connect(prev, f"r{i}")
        prev = f"r{i}"
    g.add_node("Output", "y", {"loss": "mse"}, (100.0 * n, 0.0))
    g.connect(prev, "y")
    return Project("chain", g)


@pytest.fixture
def warm_ups(monkeypatch) -> list[str]:
    calls: list[str] = []
    loader = engine_loader()
    monkeypatch.setattr(launch, "IDLE_MS", 20)
    monkeypatch.setattr(loader, "warm_up", lambda: calls.append(loader.state))
    monkeypatch.setattr(loader, "state", "idle")
    return calls


def test_a_small_design_warms_pytorch_up_once_the_window_is_idle(qtbot, warm_ups):
    doc = Document()
    warm = launch.WarmUp(doc)
    qtbot.wait(100)
    assert warm_ups == [], "an empty window has nothing to train yet"
    doc.replace(chain(12), None)
    qtbot.waitUntil(lambda: warm_ups == ["idle"], timeout=2000)
    doc.replace(chain(20), None)
    qtbot.wait(100)
    assert warm_ups == ["idle"] and warm.done, "once is enough"


def test_a_big_design_leaves_pytorch_until_the_user_trains(qtbot, warm_ups, monkeypatch):
    monkeypatch.setattr(launch, "BIG_DESIGN", 50)
    doc = Document()
    doc.replace(chain(51), None)
    warm = launch.WarmUp(doc)
    qtbot.wait(150)
    assert warm_ups == [], "a big design's items come first"
    monkeypatch.setattr(engine_loader(), "state", "loading")  # Train or the Training panel asked for it
    doc.refresh()
    qtbot.waitUntil(lambda: warm_ups == ["loading"], timeout=2000)
    assert warm.done


def test_a_big_design_replaced_by_a_small_one_warms_up(qtbot, warm_ups, monkeypatch):
    monkeypatch.setattr(launch, "BIG_DESIGN", 50)
    doc = Document()
    doc.replace(chain(51), None)
    warm = launch.WarmUp(doc)
    qtbot.wait(100)
    assert not warm.done
    doc.replace(chain(10), None)
    qtbot.waitUntil(lambda: warm_ups == ["idle"], timeout=2000)


def test_the_training_panel_behind_another_tab_loads_no_pytorch_until_chosen(window, qtbot, monkeypatch):
    """Qt shows a dock tabbed behind Properties with the window (only off screen): the panel took
    that for the user opening it and loaded PyTorch (230 MB) with any design, big ones included."""
    loader = engine_loader()
    started = []
    monkeypatch.setattr(loader, "state", "idle")
    monkeypatch.setattr(loader, "start", lambda: started.append(True))
    window.hide()
    window.show()  # the panel's showEvent again, its tab still behind Properties
    qtbot.wait(1200)  # past the 0.8 s the panel waits for the window's first paint
    assert started == []
    window.docks["trainingPanel"].raise_()
    qtbot.waitUntil(lambda: started == [True], timeout=2000)
