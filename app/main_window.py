"""The designer window (DESIGN §6): canvas in the middle, palette, properties, problems, summary
and code around it; files, undo, layout and export in menus and a toolbar."""
from __future__ import annotations

import time
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from app.blocks_nav import BlockNavigator
from app.canvas import SYNC_LIMIT, Canvas
from app.code_view import CodePanel
from app.commands import RemoveItems
from app.document import Document
from app.drop import LoomDrop
from app.editor import Editor
from app.exporting import ask_trained, export_file_name, export_with_cursor, trained_run
from app.gc_guard import guard
from app.importing import Importer
from app.layout import place_unplaced
from app.menus import EXAMPLES_DIR, make_actions, make_menus
from app.notice import DesignNotice
from app.palette import LayerPalette
from app.predict.controller import PredictController
from app.problems import ProblemsPanel
from app.properties import PropertiesPanel
from app.recovery import INTERVAL_MS, Autosaver, default_directory, orphans
from app.summary import SummaryPanel
from app.training.controller import BANNER, TrainingController
from app.training.weights_form import anchor_initial_weights
from app.transfer import TransferEdits
from app.tuning.controller import TuneController
from app.window_geometry import OPEN_SCALE, place, remember
from graph.analysis import Analysis
from graph.project import LoomFileError, Project, load

DEFAULT_EXAMPLE = EXAMPLES_DIR / "spiral_mlp.loom"  # trains in seconds and fills every plot: docs/designer.md
MAX_RECENT = 8
FILE_FILTER = "LayerLoom designs (*.loom);;All files (*)"
EXPORT_FILTERS = {"PyTorch code (*.py)": ".py", "ONNX model (*.onnx)": ".onnx", "TorchScript (*.pt)": ".pt"}
UI_KEY = "canvas"  # project.ui["canvas"] holds the view state; see docs/designer.md


class MainWindow(QtWidgets.QMainWindow):
    def __init__(self, path: str | None = None, *, settings: QtCore.QSettings | None = None,
                 recovery_dir: Path | None = None, autosave_ms: int = INTERVAL_MS, runs_dir: Path | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings if settings is not None else QtCore.QSettings("LayerLoom", "LayerLoom")
        self.doc = Document(self)
        self.canvas = Canvas(self)
        self.editor = Editor(self.doc, self.canvas, self)
        self._make_banner()
        self.design_notice = DesignNotice(self.canvas.viewer, self.doc, self._show_training_data)
        self._shown = False
        self.startup_error: str | None = None

        self.palette = LayerPalette()
        self.properties = PropertiesPanel(self.doc, self.editor, self.canvas)
        self.problems = ProblemsPanel()
        self.summary = SummaryPanel()
        self.code = CodePanel()
        self.training = TrainingController(self, runs_dir)  # runs_dir: untitled designs' runs (tests)
        self.docks: dict[str, QtWidgets.QDockWidget] = {}
        self._make_docks()
        make_actions(self)  # files, edit and view actions as self.action_* (app/menus.py)
        self._follow_undo_stack()
        self.importer = Importer(self)  # File ▸ Import PyTorch model… (app/importing.py)
        self.transfer = TransferEdits(self)  # Freeze up to here, Unfreeze all, Replace head
        self.predicting = PredictController(self)  # Train ▸ Predict…, the Predict dock (app/predict/)
        self.tuning = TuneController(self)  # Train ▸ Search…, the Search and Runs docks (app/tuning/)
        self.blocks = BlockNavigator(self)  # Make/Enter/Exit Block, the breadcrumb, the palette's blocks
        self.setCentralWidget(self.blocks.central)
        make_menus(self)
        self._make_status()

        self.doc.analysed.connect(self._on_analysed)
        self.doc.replaced.connect(self._on_replaced)
        self.doc.dirty_changed.connect(self._update_title)
        self.doc.lock_changed.connect(self._on_lock_changed)
        self.doc.refused.connect(self.show_message)
        self.editor.message.connect(self.show_message)
        self.palette.add_requested.connect(self._add_from_palette)
        self.problems.node_activated.connect(self.show_node)
        self.problems.changed.connect(self._update_totals)
        self.summary.node_activated.connect(self.show_node)
        self.problems.remove_wire_requested.connect(lambda edge: self.editor.rewire([edge], []))
        self.problems.delete_node_requested.connect(
            lambda node_id: self.doc.push(RemoveItems(self.doc, [node_id])))
        self.canvas.create_requested.connect(lambda *_: self.canvas.viewer.setFocus())
        self.canvas.loading_progress.connect(self._on_loading)
        self.canvas.viewer.context_menu_requested.connect(self._context_menu)

        self.autosaver = Autosaver(self.doc, recovery_dir or default_directory(), autosave_ms, self)
        LoomDrop(lambda path: self.open_path(path), self).watch(self, self.canvas.viewer.viewport())
        place(self, self.settings)
        state = self.settings.value("window/state")
        self._layout_restored = isinstance(state, QtCore.QByteArray) and self.restoreState(state)
        self._load_initial(path)

    # -- construction -----------------------------------------------------------------
    def _make_banner(self) -> None:
        """A banner across the top of the canvas while a training run locks the design. It lies
        over the canvas (a child of the view, not in a layout), so showing it re-lays out nothing."""
        viewer = self.canvas.viewer
        self.lock_banner = QtWidgets.QLabel(BANNER, viewer)
        self.lock_banner.setObjectName("lockBanner")
        self.lock_banner.setWordWrap(True)
        self.lock_banner.setStyleSheet("QLabel#lockBanner { background: rgba(90, 69, 18, 235); color: #ffe6a8; "
                                       "padding: 4px 8px; }")
        self.lock_banner.hide()
        viewer.installEventFilter(self)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.canvas.viewer and event.type() == QtCore.QEvent.Type.Resize:
            self._place_banner()
        return super().eventFilter(watched, event)

    def _show_training_data(self) -> None:
        self.docks["trainingPanel"].show()
        self.docks["trainingPanel"].raise_()
        self.training.panel.show_data()

    def _place_banner(self) -> None:
        width = self.canvas.viewer.width()
        self.lock_banner.setGeometry(0, 0, width, self.lock_banner.heightForWidth(width))

    def _dock(self, name: str, title: str, widget: QtWidgets.QWidget,
              area: QtCore.Qt.DockWidgetArea) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def _make_docks(self) -> None:
        left, right, bottom = (QtCore.Qt.DockWidgetArea.LeftDockWidgetArea,
                               QtCore.Qt.DockWidgetArea.RightDockWidgetArea,
                               QtCore.Qt.DockWidgetArea.BottomDockWidgetArea)
        self.palette.setObjectName("layerPaletteWidget")
        self.properties.setObjectName("propertiesWidget")
        self.problems.setObjectName("problemsWidget")
        self.summary.setObjectName("summaryWidget")
        self._dock("layerPalette", "Layers", self.palette, left)
        self._dock("propertiesPanel", "Properties", self.properties, right)
        code = self._dock("codeDock", "Code", self.code, right)
        training = self._dock("trainingPanel", "Training", self.training.panel, right)
        self._dock("problemsPanel", "Problems", self.problems, bottom)
        summary = self._dock("summaryPanel", "Summary", self.summary, bottom)
        plots = self._dock("plotsPanel", "Plots", self.training.plots_host, bottom)
        self.splitDockWidget(self.docks["propertiesPanel"], code, QtCore.Qt.Orientation.Vertical)
        self.tabifyDockWidget(self.docks["propertiesPanel"], training)
        self.tabifyDockWidget(self.docks["problemsPanel"], summary)
        self.tabifyDockWidget(self.docks["problemsPanel"], plots)
        self.docks["propertiesPanel"].raise_()
        self.docks["problemsPanel"].raise_()
        self._default_dock_sizes()

    def _default_dock_sizes(self) -> None:
        """The first start's dock sizes. Applied again at the first show without a saved layout:
        before it the window has no size yet, and Qt shared the height out so that an empty
        Problems panel took a third of a 1280x800 window and the canvas lost the room."""
        docks = self.docks
        self.resizeDocks([docks["layerPalette"]], [190], QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([docks["propertiesPanel"]], [340], QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([docks["problemsPanel"]], [140], QtCore.Qt.Orientation.Vertical)
        self.resizeDocks([docks["propertiesPanel"], docks["codeDock"]], [520, 260], QtCore.Qt.Orientation.Vertical)

    def _make_status(self) -> None:
        self.status_lock = QtWidgets.QLabel("training · design locked")
        self.status_lock.setObjectName("statusLock")
        self.status_lock.setStyleSheet("color: #f0c060;")
        self.status_lock.hide()
        self.statusBar().addPermanentWidget(self.status_lock)
        self.status_totals = QtWidgets.QLabel()
        self.status_totals.setObjectName("statusTotals")
        self.statusBar().addPermanentWidget(self.status_totals)

    def _follow_undo_stack(self) -> None:
        """Undo and Redo name their step, and are off while a run locks the design (Document.can_undo).
        A method of the window, not a closure, so that Qt drops these connections with the window."""
        stack = self.doc.undo_stack
        for signal in (stack.indexChanged, stack.canUndoChanged, stack.canRedoChanged, stack.undoTextChanged,
                       stack.redoTextChanged, stack.cleanChanged, self.doc.lock_changed):
            signal.connect(self._update_undo_actions)
        self._update_undo_actions()

    def _update_undo_actions(self, *_args) -> None:
        stack = self.doc.undo_stack
        self.action_undo.setEnabled(self.doc.can_undo())
        self.action_redo.setEnabled(self.doc.can_redo())
        self.action_undo.setText(f"&Undo {stack.undoText()}".rstrip())
        self.action_redo.setText(f"&Redo {stack.redoText()}".rstrip())

    def _on_lock_changed(self, reason) -> None:
        locked = reason is not None
        if locked:
            self._place_banner()
            self.lock_banner.raise_()
        self.lock_banner.setVisible(locked)
        self.status_lock.setVisible(locked)
        self.properties.setEnabled(not locked)
        if locked:
            self.show_message(f"Training: {reason}")

    # -- views follow the document ----------------------------------------------------
    def _on_analysed(self, analysis: Analysis) -> None:
        self.canvas.apply_analysis(self.doc.level_analysis)  # the level the canvas shows
        counts: dict = {}
        for node in self.doc.graph.nodes:
            if isinstance(node.id, str):
                counts[node.id] = counts.get(node.id, 0) + 1
        self.problems.show_analysis(analysis, {i for i, c in counts.items() if c == 1})
        self.summary.show_analysis(self.doc.graph, analysis)
        self.code.schedule(self.doc.project, len(analysis.errors))
        self._update_totals()

    def _update_totals(self) -> None:
        self.status_totals.setText(self.problems.status_text(self.doc.analysis.total_params))

    def _on_replaced(self) -> None:
        state = self.doc.project.ui.get(UI_KEY)
        rect = state.get("scene_rect") if isinstance(state, dict) else None
        focus = None
        if isinstance(rect, list) and len(rect) == 4 and all(isinstance(v, (int, float)) for v in rect):
            focus = (rect[0] + rect[2] / 2, rect[1] + rect[3] / 2)
        self.canvas.set_graph(self.doc.graph, focus)
        self._update_title()
        if self._shown:
            self._restore_view()

    def _update_title(self, *_args) -> None:
        self.setWindowTitle(f"{self.doc.display_name}[*] — LayerLoom")
        self.setWindowModified(self.doc.dirty)

    def _restore_view(self) -> None:
        if not self.canvas.set_view_state(self.doc.project.ui.get(UI_KEY)):
            self.canvas.fit_view(min_scale=OPEN_SCALE)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown:
            self._shown = True
            if not self._layout_restored:
                self._default_dock_sizes()
            QtCore.QTimer.singleShot(0, self, self._restore_view)

    def _on_loading(self, built: int, total: int) -> None:
        if built < total:
            self.show_message(f"Opening {self.doc.display_name}: {built:,} of {total:,} nodes shown…", 0)
        elif total > SYNC_LIMIT:
            self.show_message(f"Opened {self.doc.display_name}: {total:,} nodes")
        elif self.statusBar().currentMessage().startswith("Opening "):
            self.statusBar().clearMessage()   # a small design: its count would stay up for good

    def show_message(self, text: str, timeout_ms: int = 10_000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def show_node(self, node_id: str) -> None:
        """Select a node and bring it to the middle of the canvas (problems and summary clicks); a
        path (`layer1_0.conv1`) enters the blocks on the way."""
        self.blocks.show(node_id)

    def _add_from_palette(self, type_name: str) -> None:
        self.editor.add_node(type_name)
        self.canvas.viewer.setFocus()

    def _context_menu(self, global_pos: QtCore.QPoint, scene_pos: QtCore.QPointF) -> None:
        menu = self.context_menu_for(scene_pos)
        menu.exec(global_pos)

    def context_menu_for(self, scene_pos: QtCore.QPointF) -> QtWidgets.QMenu:
        """Right-click on a node: what to do with the selection; on empty canvas: what to add."""
        menu = QtWidgets.QMenu(self)
        node_id = self.canvas.node_at(scene_pos)
        if node_id is not None:
            if node_id not in self.canvas.selected_ids():
                self.canvas.select([node_id])
            menu.addActions([self.action_copy, self.action_cut, self.action_duplicate, self.action_delete])
            self.blocks.add_to_menu(menu, node_id)
            self.transfer.add_to_menu(menu, node_id)
        else:
            menu.addActions([self.action_add, self.action_paste, self.action_select_all])
            menu.addSeparator()
            menu.addActions([self.action_auto_layout, self.action_fit_view])
        return menu

    def cut(self) -> None:
        if self.editor.copy():
            self.editor.delete_selection()

    # -- files ------------------------------------------------------------------------
    def _load_initial(self, path: str | None) -> None:
        if path is not None:
            try:
                self._open(Path(path), as_copy=False)
                return
            except LoomFileError as exc:
                self.startup_error = str(exc)
        elif DEFAULT_EXAMPLE.exists():
            try:
                self._open(DEFAULT_EXAMPLE, as_copy=True)
                return
            except LoomFileError as exc:
                self.startup_error = str(exc)
        self.doc.replace(Project(), None)

    def _open(self, path: Path, as_copy: bool) -> None:
        """Load `path` (raises LoomFileError and leaves the open design untouched on failure)."""
        with guard().opening():
            project = load(path)
            place_unplaced(project)
            if as_copy:  # an untitled copy trains from the example's own weights file
                anchor_initial_weights(project, path.parent)
            self.doc.replace(project, None if as_copy else path)
        if not as_copy:
            self._remember(path)

    def open_path(self, path: str | Path, ask: bool = True) -> bool:
        """Open a design, asking first about unsaved changes; a file that cannot be read is
        reported and the open design stays as it was."""
        if ask and not self.maybe_save():
            return False
        if not self.training.confirm_stop():
            return False
        try:
            self._open(Path(path), as_copy=False)
        except LoomFileError as exc:
            self._error("Cannot open the design", str(exc))
            return False
        self.show_message(f"Opened {path}")
        return True

    def open_example(self, path: str | Path) -> bool:
        """Examples open as untitled copies, so that Save never writes over them."""
        if not self.maybe_save() or not self.training.confirm_stop():
            return False
        try:
            self._open(Path(path), as_copy=True)
        except LoomFileError as exc:
            self._error("Cannot open the example", str(exc))
            return False
        return True

    def open_dialog(self) -> None:
        start = str(self.doc.path.parent) if self.doc.path else str(self.settings.value("files/lastDir", ""))
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open design", start, FILE_FILTER)
        if path:
            self.open_path(path)

    def new_project(self) -> bool:
        if not self.maybe_save() or not self.training.confirm_stop():
            return False
        self.doc.replace(Project(), None)
        return True

    def save(self) -> bool:
        if self.doc.path is None:
            return self.save_as()
        return self.save_to(self.doc.path)

    def save_as(self) -> bool:
        start = str(self.doc.path or Path(str(self.settings.value("files/lastDir", ""))) /
                    f"{self.doc.project.name or 'design'}.loom")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save design as", start, FILE_FILTER)
        if not path:
            return False
        if not Path(path).suffix:
            path += ".loom"
        return self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        """Atomic save (graph.project.save); the view state goes into the `ui` section."""
        path = Path(path)
        self.doc.project.ui[UI_KEY] = self.blocks.top_view_state()
        problem = self.doc.save(path)
        if problem:
            self._error("Cannot save the design", problem)
            return False
        self.autosaver.discard()
        self._remember(path)
        self._update_title()
        self.show_message(f"Saved {path}")
        return True

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True means go ahead (saved or discarded), False means stop."""
        if not self.doc.dirty:
            return True
        buttons = QtWidgets.QMessageBox.StandardButton
        answer = QtWidgets.QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to “{self.doc.display_name}”?",
            buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        if answer == buttons.Save:
            return self.save()
        return answer == buttons.Discard

    def _remember(self, path: Path) -> None:
        path = Path(path).resolve()
        recent = [p for p in self.recent_files() if Path(p) != path]
        self.settings.setValue("files/recent", [str(path), *recent][:MAX_RECENT])
        self.settings.setValue("files/lastDir", str(path.parent))

    def recent_files(self) -> list[str]:
        value = self.settings.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if isinstance(v, str)]

    # -- export -----------------------------------------------------------------------
    def export_dialog(self) -> None:
        run = trained_run(self.training.panel.selected_run(), self.training.panel.runs())
        if run is not None:  # trained: ask which model is meant (app.exporting)
            trained = ask_trained(self, run)
            if trained is None:
                return
            if trained:
                self.training.export_run(run)
                return
        if not self.doc.analysis.valid:
            self._error("Cannot export yet", f"The design has {len(self.doc.analysis.errors)} problem(s); "
                        "see the Problems panel and fix them first.")
            return
        folder = self.doc.path.parent if self.doc.path else Path(str(self.settings.value("files/lastDir", "")))
        name = export_file_name(self.doc.path, self.doc.project.name)
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(self, "Export model", str(folder / name),
                                                             ";;".join(EXPORT_FILTERS))
        if path:
            if not Path(path).suffix:
                path += EXPORT_FILTERS.get(chosen, ".py")
            self.export_to(Path(path))

    def export_to(self, path: Path) -> bool:
        """Write the model through engine.export (.py code, .onnx, .pt TorchScript by suffix)."""
        outcome = export_with_cursor(self.doc.project, path)
        if outcome.problem is not None:
            self._error("Export failed", outcome.problem)
            return False
        self.show_message(f"Exported {outcome.written}")
        return True

    # -- recovery ---------------------------------------------------------------------
    def offer_recovery(self) -> bool:
        """After a crash: offer the autosaved work back (newest first). Declined work is deleted."""
        buttons = QtWidgets.QMessageBox.StandardButton
        for rec in orphans(self.autosaver.directory):
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(rec.saved_at))
            answer = QtWidgets.QMessageBox.question(
                self, "Recover unsaved work",
                f"LayerLoom did not close normally. Recover “{rec.name}”, autosaved {when}?",
                buttons.Yes | buttons.No, buttons.Yes)
            if answer != buttons.Yes:
                rec.discard()
                continue
            try:
                project = rec.load()
            except LoomFileError as exc:
                self._error("Cannot recover", str(exc))
                rec.discard()
                continue
            place_unplaced(project)
            self.doc.replace(project, rec.original, unsaved=True)
            rec.discard()
            self.show_message(f"Recovered {rec.name}; save it to keep it")
            return True
        return False

    # -- closing ----------------------------------------------------------------------
    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        if not self.training.shutdown():  # a step that takes long: close when the run has stopped
            self.training.close_when_stopped = True
            self.show_message("Stopping the training run; the window closes when it has stopped", 0)
            event.ignore()
            return
        remember(self, self.settings)
        self.settings.setValue("window/state", self.saveState())
        self.autosaver.close()
        event.accept()

    # -- dialogs ----------------------------------------------------------------------
    def _error(self, title: str, text: str) -> None:
        self.show_message(text)
        QtWidgets.QMessageBox.critical(self, title, text)
