"""The Predict panel's widgets (the dock `predictPanel`): which run and input, MC samples, the
prediction bars, and the views of the inside (neuron, activation function, attention); for 2-D
data the point picker beside the uncertainty map; for a text model the Generate section. It only shows and asks: app.predict.controller
does the work."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from app.predict.activation_plot import ActivationPlot
from app.predict.attention_plot import AttentionPlot
from app.predict.bars import ProbabilityBars
from app.predict.gallery import Gallery
from app.predict.generation import GenerateBox
from app.predict.neuron import NeuronView
from app.predict.points import PointPicker
from app.predict.uncertainty import UncertaintyPlot

DEFAULT_MC = 30   # the spin box's step up from 0 (off)


class PredictPanel(QtWidgets.QScrollArea):
    run_chosen = QtCore.Signal(int)
    sample_picked = QtCore.Signal(int)
    file_requested = QtCore.Signal()
    settings_changed = QtCore.Signal()

    def __init__(self):
        super().__init__()
        self.setObjectName("predictWidget")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)   # everything wraps
        body = QtWidgets.QWidget()
        self.setWidget(body)
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)

        form = QtWidgets.QFormLayout()
        self.run = QtWidgets.QComboBox()
        self.run.setObjectName("predictRun")
        self.run.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run.setMinimumContentsLength(16)
        self.run.setToolTip("The trained run whose weights predict (newest first), or the design's random weights")
        form.addRow("Weights", self.run)
        row = QtWidgets.QHBoxLayout()
        self.mc = QtWidgets.QSpinBox()
        self.mc.setObjectName("mcSamples")
        self.mc.setRange(0, 500)
        self.mc.setSpecialValueText("off")
        self.mc.setToolTip("Monte-Carlo dropout: this many passes with dropout drawing (0: off; 30 is usual)")
        self.trace = QtWidgets.QCheckBox("Trace on canvas")
        self.trace.setObjectName("traceCheck")
        self.trace.setChecked(True)
        self.trace.setToolTip("Show every node's value for this sample on the canvas (hover for the numbers)")
        row.addWidget(self.mc)
        row.addWidget(self.trace, 1)
        form.addRow("MC samples", row)
        layout.addLayout(form)

        self.notes = QtWidgets.QLabel()
        self.notes.setObjectName("predictNotes")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #f0c060;")
        self.notes.hide()
        layout.addWidget(self.notes)

        self.input_title = QtWidgets.QLabel("<b>Input</b>")
        self.input_title.setWordWrap(True)
        layout.addWidget(self.input_title)
        self.inputs = QtWidgets.QStackedWidget()
        self.gallery = Gallery()
        self.sequence = QtWidgets.QWidget()
        seq = QtWidgets.QVBoxLayout(self.sequence)
        seq.setContentsMargins(0, 0, 0, 0)
        pick = QtWidgets.QHBoxLayout()
        pick.addWidget(QtWidgets.QLabel("Validation sample"))
        self.sample = QtWidgets.QSpinBox()
        self.sample.setObjectName("sampleIndex")
        pick.addWidget(self.sample)
        self.open_file = QtWidgets.QPushButton("Open file…")
        self.open_file.setObjectName("predictFile")
        self.open_file.setToolTip("Predict one sample from a .npy, image or CSV file")
        pick.addStretch(1)
        pick.addWidget(self.open_file)
        seq.addLayout(pick)
        self.sample_text = QtWidgets.QLabel()
        self.sample_text.setObjectName("sampleText")
        self.sample_text.setWordWrap(True)
        self.sample_text.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        seq.addWidget(self.sample_text)
        self.plane = QtWidgets.QWidget()
        planes = QtWidgets.QVBoxLayout(self.plane)
        planes.setContentsMargins(0, 0, 0, 0)
        self.picker = PointPicker()
        self.uncertainty = UncertaintyPlot()
        planes.addWidget(self.picker)
        planes.addWidget(self.uncertainty)
        self.inputs.addWidget(self.sequence)
        self.inputs.addWidget(self.gallery)
        self.inputs.addWidget(self.plane)
        layout.addWidget(self.inputs)
        self.generate = GenerateBox()
        self.generate.hide()
        layout.addWidget(self.generate)

        self.bars = ProbabilityBars()
        layout.addWidget(self.bars)
        self.neuron = NeuronView()
        self.activation = ActivationPlot()
        self.attention = AttentionPlot()
        for widget in (self.neuron, self.activation, self.attention):
            layout.addWidget(widget)
            widget.hide()
        layout.addStretch(1)

        self.run.activated.connect(self.run_chosen)
        self.gallery.picked.connect(self.sample_picked)
        self.sample.valueChanged.connect(self.sample_picked)
        self.open_file.clicked.connect(self.file_requested)
        self.mc.valueChanged.connect(self._mc_changed)
        self.trace.toggled.connect(lambda _on: self.settings_changed.emit())
        self._mc_before = 0

    def bring_into_view(self, widget: QtWidgets.QWidget) -> None:
        """Scroll `widget` into sight, up or down only: the panel has no horizontal bar (everything
        wraps), so a sideways scroll that ensureWidgetVisible makes when a view is a little wider than
        the dock would cut off the body's left edge with no way back."""
        self.ensureWidgetVisible(widget)
        self.horizontalScrollBar().setValue(0)

    def _mc_changed(self, value: int) -> None:
        if self._mc_before == 0 and value == 1:   # one step up from off goes to the usual number
            self._mc_before = DEFAULT_MC
            self.mc.setValue(DEFAULT_MC)
            return
        self._mc_before = value
        self.settings_changed.emit()

    def set_runs(self, names: list[str]) -> None:
        with QtCore.QSignalBlocker(self.run):
            self.run.clear()
            self.run.addItems(names)

    def set_setup(self, setup) -> None:
        """Offer the inputs `setup` (app.predict.work.Setup) describes."""
        kind = setup.kind
        self.sample.setRange(0, max(setup.count - 1, 0))
        if kind == "image" and setup.thumbnails is not None:
            labels = None
            self.gallery.set_images(setup.thumbnails, labels)
            self.inputs.setCurrentWidget(self.gallery)
            self.input_title.setText(f"<b>Input</b>  click a validation image ({len(setup.thumbnails)} of "
                                     f"{setup.count} shown)")
        elif kind == "points" and setup.points is not None:
            self.picker.set_data(setup.points, setup.labels, setup.extent)
            self.uncertainty.set_data(setup.points, setup.labels, setup.extent)
            self.inputs.setCurrentWidget(self.plane)
            self.input_title.setText("<b>Input</b>  a point of the plane")
        else:
            self.inputs.setCurrentWidget(self.sequence)
            self.input_title.setText(f"<b>Input</b>  '{setup.input_id}' {list(setup.shape)}, "
                                     f"{setup.count} validation samples")
        if kind == "points":
            self.inputs.setFixedHeight(2 * 250)
        else:
            self.fit_inputs()
        self.generate.setVisible(setup.generates)
        self.set_notes(setup.notes)

    def show_sample_values(self, text: str) -> None:
        """A sequence's values under its picker (the title says which sample and its target)."""
        self.sample_text.setText(text)
        self.fit_inputs()

    def fit_inputs(self) -> None:
        """The input area as tall as its page needs at its width: the values wrap, and a height
        taken from the size hint before they were set cut their second line off."""
        page = self.inputs.currentWidget()
        layout = page.layout()
        width = self.inputs.width()
        if layout is not None and layout.hasHeightForWidth() and width > 0:
            self.inputs.setFixedHeight(layout.totalHeightForWidth(width))
        else:
            self.inputs.setFixedHeight(page.sizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.inputs.currentWidget() is not self.plane:   # once the body has its new width
            QtCore.QTimer.singleShot(0, self, self.fit_inputs)   # dropped with the panel

    def set_notes(self, notes: list[str]) -> None:
        self.notes.setText("Note: " + "; ".join(notes) if notes else "")
        self.notes.setVisible(bool(notes))
