"""The Training panel's settings form: the project's `data` and `training` sections as fields.

The form is built from the engine's declarations, like the properties panel is built from the
layer registry: data sets and their options from engine.data (registry.all_datasets,
COMMON_KEYS, AUGMENT_KEYS), training keys from engine.training.settings (TRAINING_KEYS,
SCHEDULE_KEYS, EARLY_STOPPING_KEYS). The project's sections are the truth: every edit is one
`SetSection` command on the window's undo stack, and the form re-reads the sections after every
change (an undo included). What `parse_training` / `parse_section` find wrong is shown under the
field it names. The loss of each Output is that node's `loss` parameter, set through the editor
like any parameter.
"""
from __future__ import annotations

import copy
import html
import re
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore, QtWidgets

from app.fields import guard_wheel
from app.properties import _ParamRow
from app.training.commands import SetSection
from app.training.loader import engine_loader
from app.training.weights_form import InitialWeightsGroup
from app.tuning.search_toggle import SearchToggles
from engine.data.registry import AUGMENT_KEYS, COMMON_KEYS, DataError, all_datasets, parse_section
from engine.data.registry import get as get_dataset
from engine.training.events import TrainingError
from engine.training.settings import (
    EARLY_STOPPING_KEYS,
    GAN_KEYS,
    SCHEDULE_KEYS,
    SCHEDULES,
    TRAINING_KEYS,
    parse_training,
)
from graph.layers.core import LOSSES

_MISSING = object()
ALL_GPUS = "all-gpus"   # the device box's entry for every GPU: training.device cuda, one process each


def _gpu_count(devices: list[Any]) -> int:
    return sum(1 for info in devices if info.device.type == "cuda")


class _Group(QtWidgets.QGroupBox):
    def __init__(self, title: str, name: str):
        super().__init__(title)
        self.setObjectName(name)
        self.form = QtWidgets.QFormLayout(self)
        self.form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setRowWrapPolicy(QtWidgets.QFormLayout.RowWrapPolicy.WrapLongRows)   # narrow: field under label
        self.form.setContentsMargins(6, 4, 6, 6)
        self.form.setVerticalSpacing(3)


def _betas_value(text: str) -> Any:
    """'0.5, 0.999' -> [0.5, 0.999]; other text is kept as typed, for parse_training to name under
    the field (half-typed '0.5,' must not be rewritten to '0.5' while the user types)."""
    parts = [p for p in re.split(r"[,\s]+", text.strip("[]() ")) if p]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return text
    return numbers if len(numbers) == 2 else text or None


class SettingsForm:
    """The settings form of the TrainingPanel (a mixin of it: the panel has `doc` and `editor`,
    calls `_init_form()` first and places `build_form()`'s widget once PyTorch is loaded)."""

    def _init_form(self) -> None:
        self.rows: dict[str, _ParamRow] = {}            # "training.learning_rate", "data.samples", ...
        self._readers: list[tuple[_ParamRow, Callable[[], Any]]] = []
        self._dataset_shown: Any = _MISSING
        self._outputs_shown: list[str] | None = None
        self._schedule_shown: str | None = None
        self._loss_boxes: dict[str, QtWidgets.QComboBox] = {}
        self.search_toggles = SearchToggles(self.doc, self)   # "search this" on the training and data rows

    def build_form(self) -> QtWidgets.QWidget:
        """The form's widget (`trainingForm`), its rows filled in `rows`."""
        self._training_keys = {p.name: p for p in TRAINING_KEYS}
        self._common_keys = {p.name: p for p in COMMON_KEYS}
        body = QtWidgets.QWidget()
        body.setObjectName("trainingForm")
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(6)
        self.settings_problem = QtWidgets.QLabel()
        self.settings_problem.setObjectName("problemText")
        self.settings_problem.setWordWrap(True)
        self.settings_problem.hide()
        layout.addWidget(self.settings_problem)

        # data
        data = _Group("Data", "trainingDataGroup")
        self.dataset_box = QtWidgets.QComboBox()
        guard_wheel(self.dataset_box)
        self.dataset_box.setObjectName("datasetBox")
        self.dataset_box.setToolTip("the data set the model is trained on (data.dataset; see docs/data.md)")
        self._fill_datasets()
        self.dataset_box.activated.connect(self._on_dataset_chosen)
        data.form.addRow("data set", self.dataset_box)
        self.dataset_problem = QtWidgets.QLabel()
        self.dataset_problem.setObjectName("problemText")
        self.dataset_problem.setWordWrap(True)
        self.dataset_problem.hide()
        data.form.addRow(self.dataset_problem)
        self.dataset_gives = QtWidgets.QLabel()
        self.dataset_gives.setObjectName("derivedValue")
        self.dataset_gives.setWordWrap(True)
        data.form.addRow(self.dataset_gives)
        self.dataset_options = QtWidgets.QWidget()
        self.dataset_form = QtWidgets.QFormLayout(self.dataset_options)
        self.dataset_form.setContentsMargins(0, 0, 0, 0)
        data.form.addRow(self.dataset_options)
        for name in ("validation_split", "seed", "max_samples", "reconstruct"):
            label = "data seed" if name == "seed" else name.replace("_", " ")
            self._simple_row(data.form, "data", self._common_keys[name], label)
        layout.addWidget(data)

        # loss per Output
        self.loss_group = _Group("Loss", "trainingLossGroup")
        self.loss_outputs = QtWidgets.QWidget()
        self.loss_form = QtWidgets.QFormLayout(self.loss_outputs)
        self.loss_form.setContentsMargins(0, 0, 0, 0)
        self.loss_group.form.addRow(self.loss_outputs)
        for name in ("label_smoothing", "huber_delta"):
            self._simple_row(self.loss_group.form, "training", self._training_keys[name])
        layout.addWidget(self.loss_group)
        layout.addWidget(self._gan_group())

        # optimiser
        opt = _Group("Optimiser", "trainingOptimiserGroup")
        for name in ("optimizer", "learning_rate", "momentum", "nesterov", "eps", "alpha"):
            self._simple_row(opt.form, "training", self._training_keys[name])
        self.rows["training.learning_rate"].editor.setSingleStep(0.0005)
        self.schedule_box = QtWidgets.QComboBox()
        guard_wheel(self.schedule_box)
        self.schedule_box.setObjectName("scheduleBox")
        self.schedule_box.setToolTip(self._training_keys["schedule"].help)
        for kind in SCHEDULES:
            self.schedule_box.addItem(kind.replace("_", " "), kind)
        self.schedule_box.activated.connect(lambda i: self._set_schedule(self.schedule_box.itemData(i)))
        opt.form.addRow("schedule", self.schedule_box)
        self.schedule_options = QtWidgets.QWidget()
        self.schedule_form = QtWidgets.QFormLayout(self.schedule_options)
        self.schedule_form.setContentsMargins(12, 0, 0, 0)
        opt.form.addRow(self.schedule_options)
        layout.addWidget(opt)

        # batches and epochs
        length = _Group("Epochs and batches", "trainingLengthGroup")
        for name in ("epochs", "batch_size"):
            self._simple_row(length.form, "training", self._training_keys[name])
        layout.addWidget(length)

        # regularisation
        reg = _Group("Regularisation", "trainingRegularisationGroup")
        for name in ("weight_decay", "l1_penalty", "grad_clip_norm"):
            self._simple_row(reg.form, "training", self._training_keys[name])
        self.early_switch = QtWidgets.QCheckBox("when the val loss stalls")
        self.early_switch.setToolTip("stop when the validation loss stops improving (patience and min delta below)")
        self.early_switch.setObjectName("earlyStoppingSwitch")
        self.early_switch.toggled.connect(self._set_early_stopping)
        reg.form.addRow("early stopping", self.early_switch)
        early = {p.name: p for p in EARLY_STOPPING_KEYS}
        for name in ("patience", "min_delta", "restore_best"):
            self._nested_row(reg.form, "training", "early_stopping", early[name], f"  {name.replace('_', ' ')}")
        augment = {p.name: p for p in AUGMENT_KEYS}
        for name in ("flip", "crop_padding", "noise"):
            self._nested_row(reg.form, "data", "augment", augment[name], f"augment: {name.replace('_', ' ')}")
        dropout = QtWidgets.QLabel("Dropout is a layer: add a Dropout node to the design.")
        dropout.setObjectName("derivedValue")
        dropout.setWordWrap(True)
        reg.form.addRow(dropout)
        layout.addWidget(reg)

        self.weights_group = InitialWeightsGroup(self.doc, self._write)  # training.initial_weights
        layout.addWidget(self.weights_group)

        # the run
        run = _Group("Run", "trainingRunGroup")
        self._simple_row(run.form, "training", self._training_keys["seed"])
        self.device_box = QtWidgets.QComboBox()
        guard_wheel(self.device_box)
        self.device_box.setObjectName("deviceBox")
        self.device_box.setToolTip("where the model trains: the devices this machine has (training.device)")
        self.device_box.activated.connect(self._on_device_chosen)
        run.form.addRow("device", self.device_box)
        self.device_problem = QtWidgets.QLabel()
        self.device_problem.setObjectName("problemText")
        self.device_problem.setWordWrap(True)
        self.device_problem.hide()
        run.form.addRow(self.device_problem)
        for name in ("mixed_precision", "checkpoint_every", "eval_batch_size", "threads", "compile",
                     "channels_last", "tf32", "tensorboard"):
            self._simple_row(run.form, "training", self._training_keys[name])
        layout.addWidget(run)
        layout.addStretch(1)
        return body

    def _gan_group(self) -> QtWidgets.QWidget:
        """training.mode, and under it the keys of mode gan (GAN_KEYS and betas, declared in
        engine.training.settings), shown only while the mode is gan."""
        group = _Group("Generative (GAN)", "trainingGanGroup")
        self._simple_row(group.form, "training", self._training_keys["mode"])
        self.gan_options = QtWidgets.QWidget()
        self.gan_options.setObjectName("ganOptions")
        form = QtWidgets.QFormLayout(self.gan_options)
        form.setContentsMargins(0, 0, 0, 0)
        for name in (*GAN_KEYS, "betas"):
            param = self._training_keys[name]
            self._simple_row(form, "training", param, convert=_betas_value if name == "betas" else None)
        group.form.addRow(self.gan_options)
        return group

    def _label(self, text: str, tip: str) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel(text)
        label.setToolTip(tip)
        return label

    def _simple_row(self, form: QtWidgets.QFormLayout, section: str, param, label: str | None = None,
                    convert: Callable[[Any], Any] | None = None) -> _ParamRow:
        """A row for one declared key; `convert` reads the editor's value as the key's (betas' text).
        An optional text key left empty is removed, so its default applies."""
        key = param.name

        def apply(_name: str, value: Any) -> None:
            if convert is not None:
                value = convert(value)
            if value == "" and param.kind == "str":
                value = None
            if value is None and param.optional:
                self._set_key(section, key, None, f"Clear {section}.{key}")
            else:
                self._set_key(section, key, value, f"Set {section}.{key}")

        row = _ParamRow(param, apply)
        row.widget.setObjectName(f"{section}_{key}")
        self.rows[f"{section}.{key}"] = row
        self._readers.append((row, lambda: getattr(self.doc.project, section).get(key, param.default)))
        self.search_toggles.attach(row, lambda: f"{section}.{key}")
        form.addRow(self._label(label or key.replace("_", " "), param.help), row.widget)
        return row

    def _nested_row(self, form: QtWidgets.QFormLayout, section: str, parent_key: str, param, label: str) -> _ParamRow:
        key = param.name

        def current() -> dict[str, Any]:
            value = getattr(self.doc.project, section).get(parent_key)
            if parent_key == "early_stopping" and isinstance(value, int) and not isinstance(value, bool):
                value = {"patience": value}
            return dict(value) if isinstance(value, dict) else {}

        def apply(_name: str, value: Any) -> None:
            def mutate(d: dict[str, Any]) -> None:
                inner = current()
                if value == param.default:
                    inner.pop(key, None)
                else:
                    inner[key] = value
                if parent_key == "early_stopping":
                    d[parent_key] = inner or {"patience": self._early_default()}
                elif inner:
                    d[parent_key] = inner
                else:
                    d.pop(parent_key, None)
            self._write(section, mutate, f"Set {section}.{parent_key}.{key}", f"{section}.{parent_key}.{key}")

        row = _ParamRow(param, apply)
        row.widget.setObjectName(f"{section}_{parent_key}_{key}")
        self.rows[f"{section}.{parent_key}.{key}"] = row
        self._readers.append((row, lambda: current().get(key, param.default)))
        form.addRow(self._label(label, param.help), row.widget)
        return row

    def _early_default(self) -> int:
        return next(p.default for p in EARLY_STOPPING_KEYS if p.name == "patience")

    def _fill_datasets(self) -> None:
        box = self.dataset_box
        box.clear()
        box.addItem("(choose a data set)", None)
        groups: dict[str, list] = {}
        for dataset in all_datasets():
            groups.setdefault(dataset.group, []).append(dataset)
        for group in ("generated", "bundled", "file", *[g for g in groups if g not in ("generated", "bundled", "file")]):
            for dataset in groups.get(group, []):
                box.addItem(f"{dataset.name}  ({group})", dataset.name)
                box.setItemData(box.count() - 1, f"{dataset.doc}<br/><i>{html.escape(dataset.gives)}</i>",
                                QtCore.Qt.ItemDataRole.ToolTipRole)


    # -- edits -> commands -----------------------------------------------------------
    def _write(self, section: str, mutate: Callable[[dict[str, Any]], None], text: str, field: str | None) -> None:
        current = getattr(self.doc.project, section)
        new = copy.deepcopy(current)
        mutate(new)
        if new != current:
            self.doc.push(SetSection(self.doc, section, new, text, field))

    def _set_key(self, section: str, key: str, value: Any, text: str) -> None:
        def mutate(d: dict[str, Any]) -> None:
            if value is None:
                d.pop(key, None)
            else:
                d[key] = value
        self._write(section, mutate, text, f"{section}.{key}")

    def _on_dataset_chosen(self, index: int) -> None:
        name = self.dataset_box.itemData(index)
        if name is None or name == self.doc.project.data.get("dataset"):
            return
        keep = set(self._common_keys) - {"dataset"}

        def mutate(d: dict[str, Any]) -> None:
            for key in list(d):
                if key not in keep:
                    del d[key]
            d["dataset"] = name
        self._write("data", mutate, f"Set data set to {name}", None)

    def _set_schedule(self, kind: str) -> None:
        def mutate(d: dict[str, Any]) -> None:
            if kind == "none":
                d.pop("schedule", None)
            else:
                d["schedule"] = kind
        if kind != self._schedule_value()[0]:
            self._write("training", mutate, f"Set training.schedule to {kind}", None)

    def _schedule_value(self) -> tuple[str, dict[str, Any]]:
        value = self.doc.project.training.get("schedule")
        if isinstance(value, str):
            return value, {}
        if isinstance(value, dict):
            return str(value.get("type", "none")), {k: v for k, v in value.items() if k != "type"}
        return "none", {}

    def _set_early_stopping(self, on: bool) -> None:
        def mutate(d: dict[str, Any]) -> None:
            if on:
                d.setdefault("early_stopping", {"patience": self._early_default()})
            else:
                d.pop("early_stopping", None)
        self._write("training", mutate, "Turn early stopping " + ("on" if on else "off"), None)

    def _set_loss(self, output: str, loss: str) -> None:
        self.editor.set_param(output, "loss", loss)

    # -- sections -> form --------------------------------------------------------------
    def _on_replaced(self) -> None:
        self._dataset_shown = _MISSING
        self._outputs_shown = None
        self._schedule_shown = None
        self.update_values()

    def _on_analysed(self) -> None:
        if self._built:
            self._update_losses()
            self.weights_group.show_values()
            self._validate()

    def update_values(self) -> None:
        """Show the project's data and training sections (after any change, undo included)."""
        if not self._built:
            return
        data, training = self.doc.project.data, self.doc.project.training
        name = data.get("dataset")
        if name != self._dataset_shown:
            self._build_dataset_options(name)
        index = self.dataset_box.findData(name) if isinstance(name, str) else 0
        if index < 0:
            self.dataset_box.addItem(f"{name!r} (unknown)", name)
            index = self.dataset_box.count() - 1
        with QtCore.QSignalBlocker(self.dataset_box):
            self.dataset_box.setCurrentIndex(index)
        kind, _options = self._schedule_value()
        if kind != self._schedule_shown:
            self._build_schedule_options(kind)
        with QtCore.QSignalBlocker(self.schedule_box):
            index = self.schedule_box.findData(kind)
            if index < 0:
                self.schedule_box.addItem(f"{kind} (unknown)", kind)
                index = self.schedule_box.count() - 1
            self.schedule_box.setCurrentIndex(index)
        early = training.get("early_stopping")
        with QtCore.QSignalBlocker(self.early_switch):
            self.early_switch.setChecked(early is not None and early is not False)
        for key in ("early_stopping.patience", "early_stopping.min_delta", "early_stopping.restore_best"):
            self.rows[f"training.{key}"].widget.setEnabled(self.early_switch.isChecked())
        for row, read in self._readers:
            row.set_value(read())
        self.gan_options.setVisible(training.get("mode") == "gan")
        self._show_device(training.get("device", "auto"))
        self._update_losses()
        self.weights_group.show_values()
        self._validate()

    def _build_dataset_options(self, name: Any) -> None:
        self._dataset_shown = name
        form = self.dataset_form
        for key in [k for k in self.rows if k.startswith("data.") and k.count(".") == 1
                    and k[5:] not in self._common_keys]:
            row = self.rows.pop(key)
            self._readers = [(r, f) for r, f in self._readers if r is not row]
        while form.rowCount():
            form.removeRow(0)
        dataset = get_dataset(name) if isinstance(name, str) else None
        self.dataset_gives.setText(f"{html.escape(dataset.doc)}<br/>gives: {html.escape(dataset.gives)}"
                                   if dataset else "")
        self.dataset_gives.setVisible(dataset is not None)
        if dataset is None:
            return
        for param in dataset.options:
            row = self._simple_row(form, "data", param)
            if param.name == "path":
                browse = QtWidgets.QToolButton()
                browse.setText("…")
                browse.setToolTip("choose the file or folder")
                browse.clicked.connect(lambda _c=False, folder=dataset.name == "image_folder": self._browse(folder))
                row.widget.layout().itemAt(0).layout().addWidget(browse)

    def _browse(self, folder: bool) -> None:
        start = str(self.doc.path.parent) if self.doc.path else ""
        if folder:
            path = QtWidgets.QFileDialog.getExistingDirectory(self, "Choose the image folder", start)
        else:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Choose the data file", start)
        if not path:
            return
        path = self.doc.relative_path(path)
        self._set_key("data", "path", path, "Set data.path")

    def _build_schedule_options(self, kind: str) -> None:
        self._schedule_shown = kind
        for key in [k for k in self.rows if k.startswith("training.schedule.")]:
            row = self.rows.pop(key)
            self._readers = [(r, f) for r, f in self._readers if r is not row]
        while self.schedule_form.rowCount():
            self.schedule_form.removeRow(0)
        for param in SCHEDULE_KEYS.get(kind, ()):
            key = param.name

            def apply(_name: str, value: Any, key: str = key, param=param) -> None:
                def mutate(d: dict[str, Any]) -> None:
                    current_kind, options = self._schedule_value()
                    if value == param.default:
                        options.pop(key, None)
                    else:
                        options[key] = value
                    d["schedule"] = {"type": current_kind, **options} if options else current_kind
                self._write("training", mutate, f"Set training.schedule.{key}", f"training.schedule.{key}")

            row = _ParamRow(param, apply)
            row.widget.setObjectName(f"training_schedule_{key}")
            self.rows[f"training.schedule.{key}"] = row
            self._readers.append((row, lambda key=key, param=param: self._schedule_value()[1].get(key, param.default)))
            self.schedule_form.addRow(self._label(key.replace("_", " "), param.help), row.widget)
        self.schedule_options.setVisible(bool(SCHEDULE_KEYS.get(kind)))

    def _update_losses(self) -> None:
        outputs = [n for n in self.doc.graph.outputs() if isinstance(n.id, str)]
        ids = [n.id for n in outputs]
        if ids != self._outputs_shown:
            self._outputs_shown = ids
            while self.loss_form.rowCount():
                self.loss_form.removeRow(0)
            self._loss_boxes = {}
            for node_id in ids:
                box = QtWidgets.QComboBox()
                guard_wheel(box)
                box.setObjectName(f"loss_{node_id}")
                box.setToolTip(f"the loss applied to Output '{node_id}' (its loss parameter)")
                for loss in LOSSES:
                    box.addItem(loss, loss)
                box.activated.connect(lambda i, node_id=node_id, box=box: self._set_loss(node_id, box.itemData(i)))
                self._loss_boxes[node_id] = box
                self.loss_form.addRow(self._label(f"{node_id}", "loss of this Output"), box)
            if not ids:
                self.loss_form.addRow(QtWidgets.QLabel("The design has no Output node."))
        for node in outputs:
            box = self._loss_boxes.get(node.id)
            if box is not None:
                with QtCore.QSignalBlocker(box):
                    box.setCurrentIndex(max(box.findData(node.values().get("loss")), 0))

    def _validate(self) -> None:
        """Show what the engine would refuse, under the field it names."""
        problems: dict[str, str] = {}
        general: list[str] = []
        outputs = [n.id for n in self.doc.graph.outputs()]
        for check in (lambda: parse_training(self.doc.project.training, outputs),
                      lambda: parse_section(self.doc.project.data)):
            try:
                check()
            except (TrainingError, DataError) as exc:
                message = str(exc)
                field = re.sub(r" \(\w+\)", "", message.split(":", 1)[0].split(" is ", 1)[0].strip())
                if field in self.rows or field in ("data.dataset", "training.device"):
                    problems[field] = message
                else:
                    general.append(message)
        for key, row in self.rows.items():
            row.show_problem(problems.get(key))
        for label, key in ((self.dataset_problem, "data.dataset"), (self.device_problem, "training.device")):
            label.setText(problems.get(key, ""))
            label.setVisible(key in problems)
        self.settings_problem.setText("<br/>".join(html.escape(g) for g in general))
        self.settings_problem.setVisible(bool(general))

    # -- devices -----------------------------------------------------------------------
    def refresh_devices(self) -> None:
        """List this machine's devices again (engine.training.device.available_devices)."""
        if not self._built:
            return
        engine_loader().refresh_devices()
        self._show_device(self.doc.project.training.get("device", "auto"), rebuild=True)

    def device_specs(self) -> list[str]:
        return [self.device_box.itemData(i) for i in range(self.device_box.count())]

    def _on_device_chosen(self, index: int) -> None:
        """One device (training.processes goes), or every GPU: device cuda on that many processes."""
        spec = self.device_box.itemData(index)

        def mutate(d: dict[str, Any]) -> None:
            if spec == ALL_GPUS:
                d["device"], d["processes"] = "cuda", _gpu_count(engine_loader().devices)
            else:
                d["device"] = spec
                d.pop("processes", None)
        self._write("training", mutate, "Set training.device", "training.device")

    def _show_device(self, value: Any, rebuild: bool = False) -> None:
        box = self.device_box
        devices = engine_loader().devices
        with QtCore.QSignalBlocker(box):
            if rebuild or box.count() == 0 or box.property("extra"):
                box.clear()
                best = devices[0].name if devices else "?"
                box.addItem(f"auto — {best}", "auto")
                for info in devices:
                    box.addItem(f"{info.device} — {info.name}", str(info.device))
                gpus = _gpu_count(devices)
                if gpus > 1:
                    box.addItem(f"all {gpus} GPUs — one process each", ALL_GPUS)
                box.setProperty("extra", False)
            processes = self.doc.project.training.get("processes", 1)
            several = value == "cuda" and isinstance(processes, int) and processes > 1
            index = box.findData(ALL_GPUS if several else value)
            if index < 0 and value == "cuda":
                index = box.findData("cuda:0")
            if index < 0:
                box.addItem(f"{value} (not on this machine)", value)
                box.setProperty("extra", True)
                index = box.count() - 1
            box.setCurrentIndex(index)
