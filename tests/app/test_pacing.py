"""The live plots' pacing: the GUI thread's CPU budget, the starved-plot floor, and what a redraw costs."""
from __future__ import annotations

import numpy as np
import pytest

from app.training import pacing
from app.training.pacing import CpuBudget


class Clocks:
    """A CPU clock and a wall clock the test moves by hand."""

    def __init__(self):
        self.cpu = self.wall = 0.0

    def spend(self, cpu: float, wall: float) -> None:
        self.cpu += cpu
        self.wall += wall


@pytest.fixture
def clocks():
    return Clocks()


def budget(clocks: Clocks, share: float = 0.04) -> CpuBudget:
    return CpuBudget(share, cpu=lambda: clocks.cpu, wall=lambda: clocks.wall)


def test_the_budget_allows_the_share_and_holds_back_what_goes_over(clocks):
    b = budget(clocks)
    clocks.spend(0.03, 1.0)             # 3 % of a second: within 4 %
    assert b.allows()
    clocks.spend(0.1, 0.1)              # a 100 ms burst: overspent
    assert not b.allows()
    clocks.spend(0.0, 2.0)              # 2 s idle pay back 80 ms of it
    assert not b.allows()
    clocks.spend(0.0, 0.5)              # and the rest
    assert b.allows()


def test_idle_time_is_saved_only_up_to_a_burst(clocks):
    b = budget(clocks)
    clocks.spend(0.0, 100.0)            # a long quiet spell is not a licence for 4 s of redraws
    assert b.allows() and b.debt == -pacing.BURST_S
    clocks.spend(pacing.BURST_S + 0.02, 0.0)
    assert not b.allows()


def test_a_long_overspend_is_forgiven_after_a_bounded_wait(clocks):
    b = budget(clocks)
    clocks.spend(10.0, 10.0)            # the GUI thread busy with something else for 10 s
    assert not b.allows() and b.debt == pacing.MAX_DEBT_S
    clocks.spend(0.0, pacing.MAX_DEBT_S / b.share + 0.01)
    assert b.allows()


def test_reset_starts_a_run_without_the_last_ones_debt(clocks):
    b = budget(clocks)
    clocks.spend(1.0, 1.0)
    assert not b.allows()
    b.reset()
    clocks.spend(0.01, 1.0)
    assert b.allows()


class Refusing:
    def allows(self) -> bool:
        return False


def test_a_spent_budget_still_redraws_a_starved_plot(qtbot):
    from app.training.plots.grid import STARVED_S, PlotsPanel
    from app.training.store import RunData
    from engine.training.events import Step
    from tests.app.test_training_parts import started

    panel = PlotsPanel()
    qtbot.addWidget(panel)
    panel.show()
    store = RunData()
    store.add(started())
    panel.set_store(store)
    panel.refresh(force=True)
    panel.budget = Refusing()
    store.add(Step(1, 1, 1, 10, 1, 1.0, 0.1, 100.0, 5.0, 0.1))
    panel.loss_plot._last_draw -= 1.0                              # due (its min_gap is 0.1 s) ...
    assert panel.refresh() == 0                                    # ... but the budget is spent
    panel.loss_plot._last_draw -= STARVED_S                        # starved now
    assert panel.refresh() == 1 and panel.loss_plot._drawn == panel.loss_plot._key()


def test_epoch_curves_are_marked_only_while_short(qtbot):
    import pyqtgraph as pg

    from app.training.plots.frame import MARKED_POINTS, mark_points

    curve = pg.PlotDataItem(symbol="o")
    mark_points(curve, MARKED_POINTS)
    assert curve.opts["symbol"] == "o"
    mark_points(curve, MARKED_POINTS + 1)
    assert curve.opts["symbol"] is None
    mark_points(curve, 1)                   # a new, short run: one epoch is a dot again
    assert curve.opts["symbol"] == "o"


def test_the_title_line_shows_title_figures_and_warning(qtbot):
    from app.training.plots.parts import TitleLine

    line = TitleLine("Loss")
    qtbot.addWidget(line)
    line.resize(300, line.height())
    line.show()
    line.set_text("Activations", "act1 (ReLU): mean 0.2", "dead 40%")
    assert line.text() == "Activations  act1 (ReLU): mean 0.2  dead 40%"
    assert line.toolTip() == line.text()
    assert line.sizePolicy().verticalPolicy().name == "Fixed"   # new text never asks for a new layout
    image = line.grab().toImage()
    lit = sum(image.pixelColor(x, image.height() // 2).lightness() > 120 for x in range(image.width()))
    assert lit > 20                                               # the text is painted


def test_steps_are_filed_in_blocks_like_one_at_a_time():
    from app.training.store import Series

    one, block = Series(2), Series(2)
    rows = np.arange(400, dtype=np.float64).reshape(200, 2)
    for row in rows:
        one.append(*row)
    block.extend(rows[:3])
    block.extend(rows[3:])
    assert np.array_equal(one.array, block.array) and len(block) == 200
