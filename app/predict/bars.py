"""The prediction as bars: each class's probability (dropout off, as validation measures it)
and, with MC samples, the passes' mean with its standard deviation as an error bar."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from app.predict.plot_box import PlotBox
from app.training.boundary import class_color

MAX_BARS = 20


def explanation(entropy: float, mutual_information: float, classes: int, passes: int) -> str:
    """One line on reading entropy and mutual information, with this prediction's figures."""
    top = np.log(max(classes, 2))
    share = entropy / top if top > 0 else 0.0
    level = "sure" if share < 0.2 else "unsure" if share > 0.6 else "fairly sure"
    return (f"{passes} passes with dropout: entropy {entropy:.3f} of at most {top:.3f} nats ({level}); mutual "
            f"information {mutual_information:.3f}: how much the passes disagree — the part of the "
            "uncertainty that more data would remove (epistemic).")


class ProbabilityBars(PlotBox):
    def __init__(self):
        super().__init__("predictionPlot", "Prediction", 150)
        plot = self.plot()
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        plot.setYRange(0.0, 1.0, padding=0.02)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.mc_bars = pg.BarGraphItem(x=[], height=[], width=0.3, brush=pg.mkBrush(235, 235, 240, 170))
        self.errors = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), beam=0.18, pen=pg.mkPen(255, 255, 255, width=1.5))
        # a predicted standard deviation (gaussian_nll), on the value's own bar
        self.value_errors = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), beam=0.3,
                                            pen=pg.mkPen(251, 191, 36, width=2))
        for item in (self.bars, self.mc_bars, self.errors, self.value_errors):
            plot.addItem(item)
        self.shown: dict = {}

    def show_output(self, out) -> None:
        """`out`: an app.predict.work.OutputView. Sequences show the first position's classes."""
        plot = self.plot()
        if out.task != "classification":
            self._show_values(out)
            return
        self._clear(self.value_errors)
        first = out.probabilities.reshape(-1, out.probabilities.shape[-1])[0]
        p = first[:MAX_BARS]
        count = len(p)
        every = list(out.classes or []) + [str(i) for i in range(len(out.classes or []), len(first))]
        names = every[:count]
        x = np.arange(count, dtype=float)
        brushes = [pg.mkBrush(*class_color(i)) for i in range(count)]
        self.bars.setOpts(x=x, height=p, width=0.7, brushes=brushes)
        plot.setYRange(0.0, 1.0, padding=0.02)
        plot.setXRange(-0.6, count - 0.4, padding=0)
        plot.getAxis("bottom").setTicks([list(zip(x, names))])
        predicted = int(np.asarray(out.predicted).reshape(-1)[0])
        title = f"<b>Prediction</b>  {every[predicted]} ({first[predicted] * 100:.1f}%)"   # may lie past the bars
        if out.mean is not None:
            mean = out.mean.reshape(-1, out.mean.shape[-1])[0][:MAX_BARS]
            std = out.std.reshape(-1, out.std.shape[-1])[0][:MAX_BARS]
            self.mc_bars.setOpts(x=x + 0.22, height=mean, width=0.22)
            # a probability's spread stays within 0..1 (0.95 ± 0.1 would reach past the plot's top)
            self.errors.setData(x=x + 0.22, y=mean, height=None, top=np.minimum(mean + std, 1.0) - mean,
                                bottom=mean - np.maximum(mean - std, 0.0))
            entropy = float(np.asarray(out.entropy).reshape(-1)[0])
            mi = float(np.asarray(out.mutual_information).reshape(-1)[0])
            self.set_caption(explanation(entropy, mi, count, out.passes) +
                             "  Wide bars: dropout off; thin bars: the passes' mean ± std.")
            self.shown = {"p": p, "mean": mean, "std": std, "entropy": entropy, "mutual_information": mi}
        else:
            self._clear_mc()
            self.set_caption("Class probabilities with dropout off. Set MC samples above 0 to see their spread.")
            self.shown = {"p": p}
        if out.probabilities.ndim > 1:
            title += f"  · position 0 of {out.probabilities.shape[0]}"
        self.title.setText(title)

    def _clear_mc(self) -> None:
        self.mc_bars.setOpts(x=[], height=[])
        self._clear(self.errors)

    @staticmethod
    def _clear(errors: pg.ErrorBarItem) -> None:
        errors.setData(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0))

    def _show_values(self, out) -> None:
        value = out.value.reshape(-1)[:MAX_BARS]
        x = np.arange(len(value), dtype=float)
        self.bars.setOpts(x=x, height=value, width=0.7, brushes=None, brush=pg.mkBrush(96, 165, 250))
        plot = self.plot()
        plot.getAxis("bottom").setTicks([[(float(i), str(i)) for i in x]])
        text = ", ".join(f"{v:.4g}" for v in value[:6])
        lo, hi = float(min(value.min(), 0.0)), float(max(value.max(), 0.0))
        self.shown = {"value": value}
        caption = "The regressed value with dropout off."
        if out.value_std is not None:   # gaussian_nll: the predicted spread of the value itself
            std = out.value_std.reshape(-1)[:MAX_BARS]
            self.value_errors.setData(x=x, y=value, height=2 * std)
            text = ", ".join(f"{v:.4g} ± {s:.2g}" for v, s in zip(value[:6], std[:6]))
            lo, hi = min(lo, float((value - std).min())), max(hi, float((value + std).max()))
            caption = ("The predicted mean; the amber bar is ± one predicted standard deviation (the square root "
                       "of the variance that gaussian_nll learns: the noise the model expects here).")
            self.shown["std"] = std
        else:
            self._clear(self.value_errors)
        if out.mean is not None:
            mean, std = out.mean.reshape(-1)[:MAX_BARS], out.std.reshape(-1)[:MAX_BARS]
            self.errors.setData(x=x, y=mean, height=2 * std)
            self.mc_bars.setOpts(x=[], height=[])
            text += "  · MC " + ", ".join(f"{m:.4g} ± {s:.2g}" for m, s in zip(mean[:6], std[:6]))
            caption = (f"{out.passes} passes with dropout: the white error bar is the passes' mean ± std"
                       + ("; the amber one ± the predicted std." if out.value_std is not None else "."))
        else:
            self._clear_mc()
        self.set_caption(caption)
        plot.setYRange(lo - 0.1 * (hi - lo + 1e-9), hi + 0.1 * (hi - lo + 1e-9))
        plot.setXRange(-0.6, len(value) - 0.4, padding=0)
        self.title.setText(f"<b>Prediction</b>  {text}")
