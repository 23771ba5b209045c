"""Blocks on the canvas: Make Block, entering a block node to edit its definition, and the
breadcrumb bar above the canvas (docs/blocks.md, "In the window").

The canvas shows one Graph at a time: the top graph or the definition of a block entered from
one of its uses (NodeGraphQt's own group nodes lose their wires, its issue #453). The level is
the Document's (`Document.level`, a breadcrumb of block node ids); this module swaps what the
canvas shows when it changes, and keeps each level's view (zoom and scroll) while the window is
open. Entering is not an edit: it is not on the undo stack, and it is allowed during a run.
"""
from __future__ import annotations

import copy

from PySide6 import QtCore, QtGui, QtWidgets

from app.block_commands import ApplyBlockEdit
from app.block_palette import BlockPalette
from app.make_block_dialog import MakeBlockDialog
from app.window_geometry import OPEN_SCALE
from graph.block_edit import copy_block, make_block
from graph.blocks import Blocks, BlockType, fresh_name
from graph.model import EditError, Graph

SEPARATOR = "▸"


class Breadcrumb(QtWidgets.QWidget):
    """`Model ▸ layer1_0 : BasicBlock`: one button per level, each goes back to its level. Shown
    only inside a block."""

    def __init__(self, go, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("blockBreadcrumb")
        self._go = go
        self._layout = QtWidgets.QHBoxLayout(self)
        self._layout.setContentsMargins(6, 2, 6, 2)
        self._layout.setSpacing(2)
        self.setStyleSheet("QWidget#blockBreadcrumb { background: #23272d; border-bottom: 1px solid #3a4048; }")
        self.buttons: list[QtWidgets.QToolButton] = []
        self.hide()

    def crumbs(self) -> list[str]:
        return [b.text() for b in self.buttons]

    def show_path(self, names: list[str]) -> None:
        while self._layout.count():
            widget = self._layout.takeAt(0).widget()
            if widget is not None:
                widget.setParent(None)
                widget.deleteLater()
        self.buttons = []
        for index, text in enumerate(names):
            if index:
                self._layout.addWidget(QtWidgets.QLabel(SEPARATOR))
            button = QtWidgets.QToolButton()
            button.setText(text)
            button.setAutoRaise(True)
            button.setObjectName(f"crumb{index}")
            last = index == len(names) - 1
            button.setEnabled(not last)
            button.setToolTip("" if last else "go back to this level")
            button.clicked.connect(lambda _checked=False, i=index: self._go(i))
            self.buttons.append(button)
            self._layout.addWidget(button)
        self._layout.addStretch(1)
        self.setVisible(len(names) > 1)


class BlockNavigator(QtCore.QObject):
    """Make Block, Enter Block and Exit Block, and the canvas following `Document.level`."""

    def __init__(self, window: QtWidgets.QMainWindow):
        super().__init__(window)
        self.window = window
        self.doc, self.canvas, self.editor = window.doc, window.canvas, window.editor
        self.breadcrumb = Breadcrumb(self._go_to_crumb)
        self.central = QtWidgets.QWidget()
        self.central.setObjectName("canvasArea")
        box = QtWidgets.QVBoxLayout(self.central)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.breadcrumb)
        box.addWidget(self.canvas.widget, 1)
        self._shown: tuple[str, ...] = ()
        self._views: dict[tuple[str, ...], dict] = {}
        self._make_actions()
        self.palette = BlockPalette(window, window.palette)
        self.doc.level_changed.connect(self._on_level_changed)
        self.doc.replaced.connect(self._on_replaced)
        self.canvas.selection_changed.connect(self._update_actions)
        self.canvas.ngraph.node_double_clicked.connect(lambda item: self.enter(item.name()))
        self._update_actions()

    def _make_actions(self) -> None:
        def action(name: str, text: str, slot, shortcut: str, tip: str) -> QtGui.QAction:
            made = QtGui.QAction(text, self.window)
            made.setObjectName(name)
            made.setShortcut(QtGui.QKeySequence(shortcut))
            made.setStatusTip(tip)
            made.setToolTip(f"{text.replace('&', '').rstrip('…')} ({shortcut})")
            made.triggered.connect(lambda _checked=False: slot())
            self.window.addAction(made)
            return made

        self.action_make = action("actionMakeBlock", "&Make Block…", self.make_block, "Ctrl+G",
                                  "Turn the selected layers into a reusable block")
        self.action_enter = action("actionEnterBlock", "E&nter Block", self.enter, "Ctrl+Return",
                                   "Edit the selected block's definition (or double-click the block)")
        self.action_exit = action("actionExitBlock", "E&xit Block", self.exit, "Ctrl+Shift+G",
                                  "Back to the level above (Esc on the canvas)")
        # Esc leaves a block only from the canvas, never from a text field
        self.escape = QtGui.QShortcut(QtGui.QKeySequence("Esc"), self.canvas.viewer, self.exit,
                                      context=QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.actions = [self.action_make, self.action_enter, self.action_exit]

    def add_to_menu(self, menu: QtWidgets.QMenu, node_id: str | None) -> None:
        """The canvas's right-click menu: Make Block on a selection, Enter on a block node, Exit inside."""
        menu.addSeparator()
        if node_id is not None:
            menu.addAction(self.action_make)
            block = self._block_node(node_id)
            if block is not None:
                menu.addAction(self.action_enter)
                menu.addAction("Save Block to My Blocks", lambda: self.palette.save_to_personal(block.type))
                menu.addAction(f"Rename Block {block.type}…", lambda: self.palette.ask_rename(block.type))
        if self.doc.level:
            menu.addAction(self.action_exit)

    # -- state --------------------------------------------------------------------------
    def _block_node(self, node_id: str | None):
        node = self.doc.edited_graph.node(node_id) if node_id else None
        return node if node is not None and isinstance(self.doc.edited_graph.layer_of(node), BlockType) else None

    def _selected_block(self):
        ids = self.canvas.selected_ids()
        return self._block_node(ids[0]) if len(ids) == 1 else None

    def _update_actions(self, *_args) -> None:
        self.action_make.setEnabled(bool(self.canvas.selected_ids()))
        self.action_enter.setEnabled(self._selected_block() is not None)
        self.action_exit.setEnabled(bool(self.doc.level))
        self.escape.setEnabled(bool(self.doc.level))

    def names(self) -> list[str]:
        """The breadcrumb's texts: "Model", then "node : Block" per level."""
        names, graph = ["Model"], self.doc.graph
        for step in self.doc.level:
            node = graph.node(step)
            names.append(f"{step} : {node.type}")
            graph = graph.blocks.get(node.type).graph
        return names

    # -- moving between levels ----------------------------------------------------------
    def enter(self, node_id: str | None = None) -> bool:
        node = self._block_node(node_id) if node_id else self._selected_block()
        if node is None:
            return False
        self.doc.set_level((*self.doc.level, node.id))
        return True

    def exit(self) -> bool:
        if not self.doc.level:
            return False
        left = self.doc.level[-1]
        self.doc.set_level(self.doc.level[:-1])
        self.canvas.select([left])
        return True

    def _go_to_crumb(self, index: int) -> None:
        left = self.doc.level[index] if index < len(self.doc.level) else None
        self.doc.set_level(self.doc.level[:index])
        if left is not None:
            self.canvas.select([left])

    def show(self, path: str) -> bool:
        """Show a node by its path from the top (`layer1_0.conv1`, as the Problems panel names
        it): enter the blocks on the way, select and centre it. A definition's own problem
        (`BasicBlock.conv1`) is shown in the first use of that block."""
        steps = path.split(".")
        level: list[str] = []
        graph = self.doc.graph
        if len(steps) > 1 and graph.node(steps[0]) is None and graph.blocks is not None and steps[0] in graph.blocks:
            use = next((n.id for n in graph.nodes if n.type == steps[0]), None)
            if use is None:
                return False
            steps[0] = use
        for step in steps[:-1]:
            node = graph.node(step)
            block = graph.blocks.get(node.type) if node is not None and graph.blocks is not None else None
            if block is None:
                return False
            level.append(step)
            graph = block.graph
        if graph.node(steps[-1]) is None:
            return False
        self.doc.set_level(tuple(level))
        self.canvas.select([steps[-1]])
        self.canvas.center_on(steps[-1])
        return True

    def top_view_state(self) -> dict:
        """The top graph's view, to be saved with the design wherever the user is."""
        return self.canvas.view_state() if not self.doc.level else self._views.get((), self.canvas.view_state())

    def _on_replaced(self) -> None:
        self._views.clear()
        self._shown = ()
        self.breadcrumb.show_path(self.names())
        self._update_actions()

    def _on_level_changed(self) -> None:
        if self._shown != self.doc.level:
            self._views[self._shown] = self.canvas.view_state()
        self._shown = self.doc.level
        self.canvas.clear_live_badges()  # a run's badges are the top graph's layers
        self.canvas.set_graph(self.doc.edited_graph)
        self.canvas.apply_analysis(self.doc.level_analysis)
        self.breadcrumb.show_path(self.names())
        if not self.canvas.set_view_state(self._views.get(self.doc.level)):
            # once the breadcrumb has its room; readable, as a design opens
            QtCore.QTimer.singleShot(0, lambda: self.canvas.fit_view(min_scale=OPEN_SCALE))
        self._update_actions()

    # -- make a block -----------------------------------------------------------------
    def make_block(self) -> MakeBlockDialog | None:
        """Ask for the name and the parameters (a window-modal dialog), then make the block. A
        selection that cannot be a block is refused first, with the reason, before any question."""
        ids = self.canvas.selected_ids()
        if not ids:
            self.editor.message.emit("Make block: select the layers to make into a block first")
            return None
        if self.editor.refuse_if_locked("Make block"):
            return None
        graph = self.doc.edited_graph
        problem = _trial(graph, ids)
        if problem:
            self.editor.message.emit(f"Cannot make a block: {problem}")
            return None
        dialog = MakeBlockDialog(graph, ids, fresh_name("Block", graph.blocks), self.window)
        dialog.accepted.connect(lambda: self._make(ids, dialog.name(), dialog.marked()))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _make(self, ids: list[str], name: str, marked: set[tuple[str, str]]) -> bool:
        try:
            edit = make_block(self.doc.edited_graph, [ids], name, marked=marked)
        except EditError as exc:
            self.editor.message.emit(f"Cannot make a block: {exc}")
            return False
        self.doc.push(ApplyBlockEdit(self.doc, edit))
        self.canvas.select(edit.result[1])
        self.editor.message.emit(f"Made block {name}: double-click {edit.result[1][0]} to edit it, "
                                 "or drag it from the palette's Blocks to use it again")
        return True


def _trial(graph: Graph, ids: list[str]) -> str | None:
    """Why `ids` cannot become a block (None when they can), found on a copy: nothing changes."""
    scratch = Graph()
    scratch.nodes, scratch.edges = copy.deepcopy(graph.nodes), list(graph.edges)
    scratch.blocks = Blocks([copy_block(b) for b in graph.blocks]) if graph.blocks is not None else None
    try:
        make_block(scratch, [ids], fresh_name("Block", scratch.blocks) if scratch.blocks is not None else None)
    except EditError as exc:
        return str(exc)
    return None
