"""The window's actions, menu bar and toolbar (DESIGN §6 names them): what the window offers and
where, apart from what it does, which stays in app/main_window.py and the controllers."""
from __future__ import annotations

import json
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from app.editor import standard_key
from app.help_menu import show_about, show_shortcuts

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "resources" / "examples"


def example_files() -> list[Path]:
    return sorted(EXAMPLES_DIR.glob("*.loom"))


def example_title(path: Path) -> str:
    """The example's design name and file name, or the file name alone when the name cannot be read."""
    try:
        name = json.loads(path.read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    return f"{name} ({path.name})" if isinstance(name, str) and name else path.name


def make_action(window: QtWidgets.QMainWindow, name: str, text: str, slot, shortcut=None, tip: str = "",
                canvas_only: bool = False) -> QtGui.QAction:
    action = QtGui.QAction(text, window)
    action.setObjectName(name)
    action.triggered.connect(slot)
    if isinstance(shortcut, QtGui.QKeySequence.StandardKey):
        standard_key(action, shortcut, "")
    elif isinstance(shortcut, list):
        action.setShortcuts([QtGui.QKeySequence(s) for s in shortcut])
    elif shortcut:
        action.setShortcut(QtGui.QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(f"{text.replace('&', '').rstrip('…')} ({action.shortcut().toString()})"
                          if action.shortcut() else tip)
    if canvas_only:  # keys that mean something else in a text field work on the canvas only
        action.setShortcutContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
        window.canvas.viewer.addAction(action)
    else:
        window.addAction(action)
    return action


def make_actions(window) -> None:
    """The window's own actions, as `window.action_*` (files, edit, view)."""
    key = QtGui.QKeySequence.StandardKey

    def a(*args, **kwargs) -> QtGui.QAction:
        return make_action(window, *args, **kwargs)

    editor, canvas = window.editor, window.canvas
    window.action_new = a("actionNew", "&New", window.new_project, key.New, "Start an empty design")
    window.action_open = a("actionOpen", "&Open…", window.open_dialog, key.Open, "Open a .loom design")
    window.action_save = a("actionSave", "&Save", window.save, key.Save, "Save the design")
    window.action_save_as = a("actionSaveAs", "Save &As…", window.save_as, "Ctrl+Shift+S",
                              "Save the design under a new name")
    window.action_export = a("actionExport", "&Export…", window.export_dialog, "Ctrl+E",
                             "Write the model as PyTorch code (.py), ONNX (.onnx) or TorchScript (.pt)")
    window.action_quit = a("actionQuit", "&Quit", window.close, key.Quit)
    _make_undo_actions(window)
    window.action_cut = a("actionCut", "Cu&t", window.cut, key.Cut, canvas_only=True)
    window.action_copy = a("actionCopy", "&Copy", editor.copy, key.Copy, canvas_only=True)
    window.action_paste = a("actionPaste", "&Paste", editor.paste, key.Paste, canvas_only=True)
    window.action_duplicate = a("actionDuplicate", "D&uplicate", editor.duplicate, "Ctrl+D", canvas_only=True)
    window.action_delete = a("actionDelete", "&Delete", editor.delete_selection, ["Delete", "Backspace"],
                             canvas_only=True)
    window.action_select_all = a("actionSelectAll", "Select &All", canvas.select_all, key.SelectAll,
                                 canvas_only=True)
    window.action_add = a("actionAddLayer", "&Add Layer…", canvas.show_tab_search, None,
                          "Search for a layer by name (Tab on the canvas)")
    window.action_auto_layout = a("actionAutoLayout", "Auto-&layout", editor.auto_layout, "Ctrl+L",
                                  "Arrange the nodes left to right by depth")
    window.action_fit_view = a("actionFitView", "&Fit View", canvas.fit_view, "F",
                               "Show the whole design", canvas_only=True)


def _make_undo_actions(window) -> None:
    # not QUndoStack.createUndoAction: during a training run only moves may be undone (Document.can_undo)
    doc = window.doc
    window.action_undo = QtGui.QAction("&Undo", window)
    window.action_undo.setObjectName("actionUndo")
    window.action_undo.setShortcuts(QtGui.QKeySequence.keyBindings(QtGui.QKeySequence.StandardKey.Undo))
    window.action_undo.triggered.connect(doc.undo)
    window.action_redo = QtGui.QAction("&Redo", window)
    window.action_redo.setObjectName("actionRedo")
    window.action_redo.setShortcuts([QtGui.QKeySequence("Ctrl+Y"), QtGui.QKeySequence("Ctrl+Shift+Z")])
    window.action_redo.triggered.connect(doc.redo)
    for action in (window.action_undo, window.action_redo):
        window.addAction(action)


def make_menus(window) -> None:
    """The menu bar and the main toolbar, from the window's actions and its controllers'."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addActions([window.action_new, window.action_open, window.importer.action])
    window.recent_menu = file_menu.addMenu("Open &Recent")
    window.recent_menu.setObjectName("menuRecent")
    window.recent_menu.aboutToShow.connect(lambda: _fill_recent_menu(window))
    window.examples_menu = file_menu.addMenu("E&xamples")
    window.examples_menu.setObjectName("menuExamples")
    for path in example_files():
        action = window.examples_menu.addAction(example_title(path))
        action.setData(str(path))
        action.triggered.connect(lambda _checked=False, p=path: window.open_example(p))
    file_menu.addSeparator()
    file_menu.addActions([window.action_save, window.action_save_as, window.action_export])
    file_menu.addSeparator()
    file_menu.addAction(window.action_quit)

    edit = bar.addMenu("&Edit")
    edit.addActions([window.action_undo, window.action_redo])
    edit.addSeparator()
    edit.addActions([window.action_cut, window.action_copy, window.action_paste, window.action_duplicate,
                     window.action_delete])
    edit.addSeparator()
    edit.addActions([window.action_select_all, window.action_add])
    edit.addSeparator()
    edit.addActions(window.blocks.actions)

    training = window.training
    train = bar.addMenu("&Train")
    train.setObjectName("menuTrain")
    train.addActions([training.action_train, training.action_pause, training.action_stop, training.action_resume])
    train.addSeparator()
    train.addActions([window.predicting.action, window.tuning.action, training.action_export_trained])

    view = bar.addMenu("&View")
    view.addActions([window.action_auto_layout, window.action_fit_view])
    view.addSeparator()
    for dock in window.docks.values():
        view.addAction(dock.toggleViewAction())

    help_menu = bar.addMenu("&Help")
    help_menu.addAction("&Keyboard Shortcuts", lambda: show_shortcuts(window))
    help_menu.addAction("&About LayerLoom", lambda: show_about(window))

    tools = window.addToolBar("Main")
    tools.setObjectName("mainToolBar")
    tools.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
    tools.addActions([window.action_new, window.action_open, window.action_save])
    tools.addSeparator()
    tools.addActions([window.action_undo, window.action_redo])
    tools.addSeparator()
    tools.addActions([window.action_add, window.action_auto_layout, window.action_fit_view])
    tools.addSeparator()
    tools.addAction(window.action_export)
    tools.addSeparator()
    tools.addActions([training.action_train, training.action_pause, training.action_stop])


def _fill_recent_menu(window) -> None:
    menu = window.recent_menu
    menu.clear()
    recent = window.recent_files()
    for path in recent:
        action = menu.addAction(path)
        action.setEnabled(Path(path).exists())
        action.triggered.connect(lambda _checked=False, p=path: window.open_path(p))
    if not recent:
        menu.addAction("(none)").setEnabled(False)
    else:
        menu.addSeparator()
        menu.addAction("Clear", lambda: window.settings.setValue("files/recent", []))
