"""One neuron of a Linear layer as courses write it: its inputs x, its weights w, the weighted
sum z = Σ wᵢxᵢ + b, and the activation the next node applies, a = f(z). The largest terms wᵢxᵢ
are listed, the rest summed, so the arithmetic can be followed by hand."""
from __future__ import annotations

import html

import numpy as np
from PySide6 import QtCore, QtWidgets

TERMS = 6


def neuron_html(n) -> str:
    """`n`: an app.predict.work.Neuron."""
    terms = n.weights * n.inputs
    order = np.argsort(-np.abs(terms))
    shown = order[:TERMS]
    rows = "".join(f"<tr><td>x<sub>{i}</sub> = {n.inputs[i]:+.3f}</td><td>w<sub>{i}</sub> = {n.weights[i]:+.3f}</td>"
                   f"<td>w·x = {terms[i]:+.3f}</td></tr>" for i in shown)
    rest = terms[order[TERMS:]].sum() if len(order) > TERMS else None
    if rest is not None:
        rows += f"<tr><td colspan=2>the other {len(order) - TERMS} terms</td><td>{rest:+.3f}</td></tr>"
    text = (f"<b>{html.escape(n.path)}</b>, neuron {n.index} of {n.count}"
            + (f" ({n.position})" if n.position else "") +
            f"<table cellspacing=4>{rows}</table>"
            f"z = Σ w<sub>i</sub>x<sub>i</sub> + b = {terms.sum():+.4f} {'+' if n.bias >= 0 else '−'} "
            f"{abs(n.bias):.4f} = <b>{n.total:+.4f}</b>")
    if n.activation is not None:
        text += f"<br>a = {html.escape(n.activation)}(z) = <b>{n.activated:+.4f}</b>"
    else:
        text += "<br>(no activation follows: z goes on as it is)"
    return text


class NeuronView(QtWidgets.QGroupBox):
    index_changed = QtCore.Signal(int)

    def __init__(self):
        super().__init__("Neuron")
        self.setObjectName("neuronView")
        layout = QtWidgets.QVBoxLayout(self)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Neuron"))
        self.index = QtWidgets.QSpinBox()
        self.index.setObjectName("neuronIndex")
        self.index.setToolTip("Which output of the Linear layer (its row of weights)")
        row.addWidget(self.index)
        row.addStretch(1)
        layout.addLayout(row)
        self.text = QtWidgets.QLabel("Click a Linear node while a sample is traced.")
        self.text.setObjectName("neuronText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text)
        self.index.valueChanged.connect(self.index_changed)
        self.neuron = None

    def show_neuron(self, n) -> None:
        self.neuron = n
        with QtCore.QSignalBlocker(self.index):
            self.index.setRange(0, n.count - 1)
            self.index.setValue(n.index)
        self.text.setText(neuron_html(n))
