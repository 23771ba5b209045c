"""The live plots (pyqtgraph; object names per DESIGN §6), one module per plot.

    numerics.py     Qt-free: finite points, bounds, the axis range a view moves to, weight strips,
                    feature-map mosaics (tested without Qt)
    parts.py        the widgets of a frame that draw no data: title line, node chooser, empty state
    frame.py        PlotFrame: title row, PNG/CSV export, redraw bookkeeping, following the data
    loss.py         lossPlot          metric.py       metricPlot        boundary.py   boundaryPlot
    weights.py      weightsPlot       gradients.py    gradientsPlot     activations.py activationsPlot
    grid.py         PlotsPanel: the six in a grid, and the redraw scheduler

Plots never redraw per event: the controller's timer calls `PlotsPanel.refresh()` at a bounded
rate, and a frame redraws only when its part of the RunData changed (its revision), it is
visible (a hidden one catches up when shown), its own `min_gap` has passed and the GUI thread is
within its CPU budget (app.training.pacing); the most overdue plots go first. Data is replaced
with `setData`/`setImage`. pyqtgraph's auto-range is off: after a redraw a plot sets its view to
the data itself (`PlotFrame.follow`, with ranges from `numerics.nice_range` that change only when
the data leaves the view or shrinks well inside it), until the user zooms or pans; from then on
the user's view stays (the "A" button in the corner goes back to following). Right-click a plot
for Save as PNG / Save data as CSV too.

An overlaid earlier run's curves are built once, when the run is chosen (its smoothed loss is
computed once per run read), not on every redraw of the live run.

Before a run each plot says what it will show (`EmptyState`) over sane axes (`empty_ranges`);
the time axis spans the planned epochs while a run goes, and what was trained once it has ended
(a run stopped at epoch 3 of 400 fills the axis, not its left 1 %).

This package imports nothing itself, so `numerics` loads without Qt; import the modules.
"""
