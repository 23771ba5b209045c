"""The Predict panel (issue 15 item 3, docs/predict.md "In the window"): one sample through the
design, its prediction with MC-dropout spread, the trace on the canvas, a Linear neuron, the
uncertainty map, attention and activation functions; text generation for a character model.

    work.py             Qt-free, runs on the worker thread: the engine's Predictor, the data's
                        validation samples, and everything the views draw as NumPy arrays
    glance.py           Qt-free NumPy: how a traced value is pictured (maps, bars, heat strip)
    jobs.py             JobRunner: one worker thread, newest request per kind, results by signal
    controller.py       actionPredict, the dock, the runner, the canvas's trace overlays
    panel.py            PredictPanel: run and input choosers, results, the plots
    gallery.py          thumbnails of validation images; points.py: the 2-D data to click on
    bars.py             class probabilities with MC error bars
    trace_overlay.py    the per-node picture drawn as a child item of a node on the canvas
    neuron.py           one neuron of a Linear layer as courses write it
    generation.py       the Generate section of a text model, characters streamed in chunks
    uncertainty.py      uncertaintyPlot;  attention_plot.py attentionPlot;  activation_plot.py

No module here imports torch at import time except work.py, which only the worker thread
imports (the designer starts without torch: app.training.loader).
"""
