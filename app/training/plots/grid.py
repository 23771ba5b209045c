"""PlotsPanel: the six plots in a grid, and the redraw scheduler that paces them (see the
package docstring)."""
from __future__ import annotations

import time

from PySide6 import QtWidgets

from app.training.pacing import CpuBudget
from app.training.plots.activations import ActivationsPlot
from app.training.plots.boundary import BoundaryPlot
from app.training.plots.frame import PlotFrame
from app.training.plots.gradients import GradientsPlot
from app.training.plots.loss import LossPlot
from app.training.plots.metric import MetricPlot
from app.training.plots.samples import SamplesPlot
from app.training.plots.weights import WeightsPlot
from app.training.store import RunData

STARVED_S = 2.0   # a plot whose data changed redraws after this long even when the budget is spent
MAX_PER_TICK = 2  # plots redrawn in one timer tick (the most overdue first): bounds the event loop's latency


class PlotsPanel(QtWidgets.QWidget):
    """The plots in a grid: loss, metric, decision boundary on top; weights, gradients,
    activations below. A GAN run's samples take the decision boundary's place."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingPlotsWidget")
        self.loss_plot = LossPlot("lossPlot")
        self.metric_plot = MetricPlot("metricPlot")
        self.boundary_plot = BoundaryPlot("boundaryPlot")
        self.weights_plot = WeightsPlot("weightsPlot")
        self.gradients_plot = GradientsPlot("gradientsPlot")
        self.activations_plot = ActivationsPlot("activationsPlot")
        self.samples_plot = SamplesPlot("samplesPlot")
        grid = QtWidgets.QGridLayout(self)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setSpacing(3)
        for i, frame in enumerate(self._every_frame()[:6]):
            grid.addWidget(frame, i // 3, i % 3)
        grid.addWidget(self.samples_plot, 0, 2)
        self.samples_plot.hide()
        for col in range(3):
            grid.setColumnStretch(col, 1)
        self.budget = CpuBudget()

    def _every_frame(self) -> list[PlotFrame]:
        return [self.loss_plot, self.metric_plot, self.boundary_plot, self.weights_plot, self.gradients_plot,
                self.activations_plot, self.samples_plot]

    def frames(self) -> list[PlotFrame]:
        """The six plots of the grid as it stands: the samples in the boundary's place for a GAN run."""
        third = self.samples_plot if self.samples_plot.isVisibleTo(self) else self.boundary_plot
        return [self.loss_plot, self.metric_plot, third, self.weights_plot, self.gradients_plot,
                self.activations_plot]

    def set_store(self, store: RunData | None) -> None:
        for frame in self._every_frame():
            frame.set_store(store)
        self._show_samples()

    def _show_samples(self) -> None:
        """The samples plot in the decision boundary's cell while a GAN run is shown, else the boundary."""
        store = self.samples_plot.store
        gan = store is not None and store.adversarial
        if gan != self.samples_plot.isVisibleTo(self):
            self.boundary_plot.setVisible(not gan)
            self.samples_plot.setVisible(gan)

    def set_overlays(self, overlays: list) -> None:
        self.loss_plot.set_overlays(overlays)
        self.metric_plot.set_overlays(overlays)

    def select_node(self, node: str | None, at_once: bool = True) -> None:
        for frame in (self.weights_plot, self.gradients_plot, self.activations_plot):
            frame.select_node(node, at_once)

    def start_run(self) -> None:
        """A run starts: the GUI thread's CPU budget starts afresh; no plot says "Train" any more."""
        self.budget.reset()
        for frame in self.frames():
            frame.empty.show_text(None)

    def refresh(self, force: bool = False) -> int:
        """Redraw the plots that are due, the most overdue first: at most MAX_PER_TICK of them
        while the GUI thread is within its CPU budget, otherwise only one starved for STARVED_S
        (`force`: every plot whose data changed, now). Returns how many were drawn."""
        self._show_samples()
        if force:
            return sum(frame.refresh(True) for frame in self.frames())
        now = time.monotonic()
        due = [(late, i, frame) for i, frame in enumerate(self.frames()) if (late := frame.due(now)) is not None]
        due.sort(key=lambda t: (-t[0] / t[2].min_gap, t[1]))   # lateness in gaps: the loss plot comes round most
        if not self.budget.allows():
            due = [d for d in due if d[0] + d[2].min_gap >= STARVED_S][:1]
        return sum(frame.refresh() for _, _, frame in due[:MAX_PER_TICK])

    def flush(self) -> int:
        """After a run: draw every plot whose data changed, whatever the budget."""
        self._show_samples()
        return sum(frame.refresh(True) for frame in self.frames() if frame._key() != frame._drawn)
