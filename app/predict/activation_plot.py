"""An activation node's function and its derivative (`activationPlot`), computed on the worker
thread by autograd through the node's own module (so its parameters count), with the traced
sample's inputs to it marked along the axis. The caption gives the derivative's largest value:
sigmoid's is 0.25, so each sigmoid layer a gradient passes back through shrinks it at least
fourfold (the vanishing-gradient lesson); tanh's is 1, ReLU's 1 or 0."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from app.predict.plot_box import PlotBox

F_COLOR = (96, 165, 250)
DF_COLOR = (250, 152, 60)


def derivative_caption(type_name: str, peak: float) -> str:
    text = f"{type_name}: the function (blue) and its derivative (orange), largest slope {peak:.3g}."
    if peak < 0.99:
        text += (f" A gradient passing back through it is multiplied by at most {peak:.2g}: through n such "
                 f"layers by {peak:.2g}ⁿ, so it vanishes in deep stacks.")
    return text


class ActivationPlot(PlotBox):
    def __init__(self):
        super().__init__("activationPlot", "Activation function", 170)
        plot = self.plot()
        plot.hideButtons()
        plot.addLegend(offset=(5, 5))
        plot.showGrid(x=True, y=True, alpha=0.15)
        self.f = plot.plot([], [], pen=pg.mkPen(*F_COLOR, width=2), name="f(x)")
        self.df = plot.plot([], [], pen=pg.mkPen(*DF_COLOR, width=2), name="f′(x)")
        self.marks = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(255, 255, 255, 150))
        plot.addItem(self.marks)
        self.curve = None
        self.peak: float | None = None
        self.set_caption("Select an activation node to see its function and derivative.")

    def show_curve(self, curve) -> None:
        """`curve`: an app.predict.work.Curve."""
        self.curve = curve
        if curve.problem:
            self.f.setData([], [])
            self.df.setData([], [])
            self.marks.setData([], [])
            self.peak = None
            self.title.setText(f"<b>Activation function</b>  {curve.path} ({curve.type_name})")
            self.set_caption(f"No curve for {curve.path}: {curve.problem}.")
            return
        self.f.setData(curve.x, curve.f)
        self.df.setData(curve.x, curve.df)
        self.peak = float(np.max(curve.df))
        caption = derivative_caption(curve.type_name, self.peak)
        if curve.traced is not None and curve.traced.size:
            xs = curve.traced[:256]
            self.marks.setData(xs, np.interp(xs, curve.x, curve.f))
            caption += f" Dots: the traced sample's {curve.traced.size} inputs to it, on the curve."
        else:
            self.marks.setData([], [])
        self.title.setText(f"<b>Activation function</b>  {curve.path} ({curve.type_name})")
        self.set_caption(caption)
        plot = self.plot()
        lo = float(min(curve.f.min(), curve.df.min()))
        hi = float(max(curve.f.max(), curve.df.max()))
        plot.setXRange(float(curve.x[0]), float(curve.x[-1]), padding=0.02)
        plot.setYRange(lo, hi, padding=0.08)
