"""The training panel (`trainingPanel`): Train/Pause/Stop, the run line (app.training.progress_line),
the settings of the project's `data` and `training` sections (app.training.settings_form) and the
runs kept for this design (app.training.runs_tab).

The declarations the form reads need no torch; the engine (and with it torch) is imported in
the background (app.training.loader); until it is there the panel says "Loading PyTorch…".
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from app.document import Document
from app.editor import Editor
from app.training.loader import engine_loader
from app.training.progress_line import ProgressLine
from app.training.runs_tab import RunsTab
from app.training.settings_form import SettingsForm

LOAD_AFTER_MS = 800  # after the window's first paint


class TrainingPanel(SettingsForm, RunsTab, ProgressLine, QtWidgets.QWidget):
    """Train/Pause/Stop, the run line (progress_line), the settings form (settings_form) and the
    Runs tab (runs_tab), one module per job; this class lays them out and builds the form once
    PyTorch is loaded. `overlays_changed` gives the runs whose curves to overlay;
    `export_run_requested` the run to export."""

    overlays_changed = QtCore.Signal(list)          # [RunInfo]
    export_run_requested = QtCore.Signal(object)    # RunInfo

    def __init__(self, doc: Document, editor: Editor, actions: dict[str, QtGui.QAction],
                 parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingPanelWidget")
        self.doc, self.editor, self._actions = doc, editor, actions
        self._init_form()
        self._built = False
        self._running = False
        self._watching_dock = False

        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(4)
        buttons = QtWidgets.QHBoxLayout()
        for key in ("train", "pause", "stop"):
            button = QtWidgets.QToolButton()
            button.setDefaultAction(actions[key])
            button.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setMinimumWidth(64)
            buttons.addWidget(button)
        buttons.addStretch(1)
        outer.addLayout(buttons)
        self._make_progress_line(outer)

        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setObjectName("trainingTabs")
        outer.addWidget(self.tabs, 1)
        self.settings_scroll = QtWidgets.QScrollArea()
        self.settings_scroll.setWidgetResizable(True)
        self.settings_scroll.setObjectName("trainingSettings")
        self.placeholder = QtWidgets.QLabel("Loading PyTorch…")
        self.placeholder.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.settings_scroll.setWidget(self.placeholder)
        self.tabs.addTab(self.settings_scroll, "Settings")
        self.tabs.addTab(self._make_runs_tab(), "Runs")

        doc.settings_changed.connect(lambda _section: self.update_values())
        doc.settings_changed.connect(lambda _section: self._refresh_hint())
        doc.replaced.connect(self._on_replaced)
        doc.analysed.connect(lambda _analysis: self._on_analysed())
        loader = engine_loader()
        loader.ready.connect(self._on_loader_ready)
        if loader.is_ready:
            self.build()

    # -- loading -----------------------------------------------------------------------
    def showEvent(self, event: QtGui.QShowEvent) -> None:
        """PyTorch loads when the user opens this panel, after the window's first paint. A dock
        tabbed behind another is "visible" to Qt (only moved off screen) and gets this event with
        the window: it waits for its tab to be chosen (the dock's `visibilityChanged`), so that a
        big design is not joined by PyTorch's 230 MB unasked (app.launch.WarmUp)."""
        super().showEvent(event)
        dock = self.parentWidget()
        while dock is not None and not isinstance(dock, QtWidgets.QDockWidget):
            dock = dock.parentWidget()
        if dock is not None and not self._watching_dock:
            self._watching_dock = True
            dock.visibilityChanged.connect(self._dock_visibility)
        QtCore.QTimer.singleShot(LOAD_AFTER_MS, self._load_if_shown)

    def _dock_visibility(self, shown: bool) -> None:
        if shown:
            QtCore.QTimer.singleShot(LOAD_AFTER_MS, self._load_if_shown)

    def _load_if_shown(self) -> None:
        loader = engine_loader()
        if loader.state == "idle" and self.isVisible() and not self.visibleRegion().isEmpty():
            loader.start()

    def _on_loader_ready(self) -> None:
        loader = engine_loader()
        if loader.state == "failed":
            self.placeholder.setText(f"Training is unavailable: {loader.error}")
            return
        self.build()

    def ensure_built(self) -> bool:
        loader = engine_loader()
        if not loader.is_ready:
            QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
            try:
                loader.wait()
            finally:
                QtWidgets.QApplication.restoreOverrideCursor()
        if loader.is_ready:
            self.build()
        return self._built

    # -- building ----------------------------------------------------------------------
    def build(self) -> None:
        """Build the settings form (once PyTorch is loaded) and put it in place of "Loading PyTorch…"."""
        if self._built:
            return
        self._built = True
        body = self.build_form()
        self.settings_scroll.takeWidget()
        self.placeholder.deleteLater()
        self.settings_scroll.setWidget(body)
        self.form_body = body
        self.refresh_devices()
        self.update_values()
        body.setEnabled(not self._running)

    def show_setting(self, key: str) -> bool:
        """Bring a setting's field into view and give it the focus (a click on a failure that
        names it: `training.learning_rate`, `training.device`, `data`); False when it has none."""
        if not self._built:
            return False
        widget = {"training.device": self.device_box, "data": self.dataset_box, "data.dataset": self.dataset_box}.get(key)
        if widget is None and key in self.rows:
            widget = self.rows[key].editor
        if widget is None:
            return False
        self.tabs.setCurrentIndex(0)
        self.settings_scroll.ensureWidgetVisible(widget)
        widget.setFocus()
        return True

    # -- a run -------------------------------------------------------------------------
    def show_data(self) -> None:
        """Where "Training ▸ Data" leads: the settings tab, the data-set box focused."""
        self.tabs.setCurrentIndex(0)
        if self._built:
            self.settings_scroll.ensureWidgetVisible(self.dataset_box)
            self.dataset_box.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)

    def set_running(self, running: bool) -> None:
        """During a run the settings are those of the run: the form is read-only."""
        self._running = running
        if self._built:
            self.form_body.setEnabled(not running)
        self.tabs.setTabToolTip(0, "the settings of the run in progress (read-only until it ends)" if running else "")
