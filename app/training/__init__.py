"""Live training in the designer (docs/live-training.md).

    loader.py      imports PyTorch and the trainer off the GUI thread; lists the devices
    session.py     the QThread adapter: runs engine.training.Trainer, relays its events as queued,
                   coalesced Qt signals; evaluates the decision boundary at epoch ends
    boundary.py    the decision-boundary grid (torch, Qt-free; runs on the training thread)
    store.py       RunData: a run's series as the plots read them (Qt-free)
    runs.py        the runs folder: where runs are kept, listing them, reading their curves (Qt-free)
    commands.py    the undo command for the project's `data` and `training` sections
    panel.py       the `trainingPanel` dock: Train/Pause/Stop and the layout of the three below
    settings_form.py  the form of the `data` and `training` sections, built from the engine's declarations
    progress_line.py  the progress bar and the status line (the hint before a run)
    runs_tab.py    the Runs tab: the runs kept for this design, overlays, export
    plots/         lossPlot, metricPlot, weightsPlot, gradientsPlot, activationsPlot, boundaryPlot, one module
                   each; PlotsPanel (plots.grid); the Qt-free numerics (plots.numerics)
    controller.py  the glue: actions, the design lock, the redraw timer, canvas badges, failures
"""
