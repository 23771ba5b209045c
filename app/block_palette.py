"""Blocks in the palette: the project's blocks, the built-in library and the user's own library.

Three sections under the layer types: "Blocks" (this project's definitions: drag or double-click
adds a node that uses one), "Block library" (resources/blocks/library.loom) and "My blocks" (a
personal library, `blocks.loom` in the per-user data folder). Adding a library block imports its
definition, and the blocks it uses, into the project and adds a node, as one undo step; a block
of the same name already in the project is kept and used. "Save to My Blocks" (a block node's or
a Blocks entry's right-click menu) writes a block and the blocks it uses into the personal library,
replacing blocks of the same names there; it is a file of its own, not part of the design, so it
is not undone with the design. A project block's entry also renames or deletes its definition
(docs/blocks.md), each one undo step.
"""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from app.block_commands import ApplyBlockEdit
from app.make_block_dialog import RenameBlockDialog
from app.palette import LIBRARY_ROLE, NAME_ROLE, LayerPalette
from graph.block_edit import copy_block, import_blocks, remove_block, rename_block
from graph.block_library import BUILT_IN, load_library, save_library
from graph.blocks import Blocks
from graph.model import EditError
from graph.project import LoomFileError

SECTIONS = (("Blocks", None), ("Block library", "library"), ("My blocks", "personal"))
PERSONAL_FILE = "blocks.loom"


def personal_library_path() -> Path:
    """The user's own library: blocks.loom in the per-user data folder (tests point it elsewhere)."""
    folder = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppDataLocation)
    return Path(folder) / PERSONAL_FILE


def with_dependencies(blocks: Blocks, name: str) -> list[str]:
    """`name` and every block it uses, each after the blocks it uses."""
    out: list[str] = []

    def visit(current: str) -> None:
        block = blocks.get(current)
        if block is None or current in out:
            return
        out.append(current)  # first, so that a recursive definition cannot loop here
        for used in sorted(block.used_types()):
            visit(used)
        out.remove(current)
        out.append(current)

    visit(name)
    return out


class BlockPalette(QtCore.QObject):
    """Keeps the palette's block sections in step with the project and the libraries."""

    def __init__(self, window: QtWidgets.QMainWindow, palette: LayerPalette):
        super().__init__(window)
        self.window, self.palette = window, palette
        self.doc, self.editor, self.canvas = window.doc, window.editor, window.canvas
        self.sources: dict[str, Blocks] = {"library": _read(BUILT_IN), "personal": Blocks()}
        self._sections: dict[str | None, QtWidgets.QTreeWidgetItem] = {}
        bold = QtGui.QFont()
        bold.setBold(True)
        for title, source in SECTIONS:
            item = QtWidgets.QTreeWidgetItem([title])
            item.setFont(0, bold)
            item.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled)
            palette.tree.addTopLevelItem(item)
            self._sections[source] = item
        self._shown: list[str] | None = None
        self.reload_personal()
        self._fill("library")
        palette.tree.itemActivated.connect(self._on_activated)
        palette.tree.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        palette.tree.customContextMenuRequested.connect(self._context_menu)
        palette.search.textChanged.connect(self._filter)
        self.canvas.library_drop_requested.connect(self.add_from_library)
        self.canvas.search_blocks = self.search_entries
        self.canvas.allows = self.allows
        self.doc.analysed.connect(lambda _analysis: self._fill_project())
        self.doc.replaced.connect(self._fill_project)

    # -- the sections -----------------------------------------------------------------
    def entries(self, section: str | None) -> list[str]:
        """The names listed in a section (None: the project's blocks)."""
        item = self._sections[section]
        return [item.child(i).text(0) for i in range(item.childCount())]

    def _offered(self, blocks: Blocks, name: str) -> bool:
        """Not a block that is or uses the block edited: a block cannot hold itself."""
        edited = self.doc.edited_graph_name()
        return edited is None or edited not in with_dependencies(blocks, name)

    def search_entries(self) -> dict[str, list[str]]:
        """The blocks for the canvas's Tab search, by section: the project's by name, a library's by
        its entry ("library/Name"); a library block the project has is listed as the project's.
        Inside a block, blocks that are or use the block edited are left out (`_offered`)."""
        project = self.doc.project.blocks
        out: dict[str, list[str]] = {name: [f"Blocks.{name}"] for name in project.names() if self._offered(project, name)}
        for title, source in SECTIONS[1:]:
            for name in self.sources[source].names():
                if name not in project and self._offered(self.sources[source], name):
                    out.setdefault(name, []).append(f"{title}.{source}/{name}")
        return out

    def allows(self, entry: str) -> bool:
        """Whether a dropped (or searched) type may go in the level edited: False, with the reason
        in the status bar, for a block the Tab search leaves out there (a drop inside its own
        definition was reported afterwards as a recursion error)."""
        source, _, name = entry.rpartition("/")
        blocks = self.sources.get(source) if source else self.doc.project.blocks
        if blocks is None or name not in blocks or self._offered(blocks, name):
            return True
        edited = self.doc.edited_graph_name()
        why = "a block cannot hold itself" if name == edited else f"{name} uses {edited}, which cannot hold itself"
        self.window.show_message(f"Cannot add {name} inside {edited}: {why}; leave the block (Esc) "
                                 "to add it elsewhere")
        return False

    def reload_personal(self) -> None:
        path = personal_library_path()
        self.sources["personal"] = _read(path) if path.exists() else Blocks()
        self._fill("personal")

    def _fill_project(self) -> None:
        names = self.doc.project.blocks.names()
        if names != self._shown:
            self._shown = names
            self._fill(None)

    def _fill(self, source: str | None) -> None:
        section = self._sections[source]
        section.takeChildren()
        blocks = self.doc.project.blocks if source is None else self.sources[source]
        for block in blocks:
            child = QtWidgets.QTreeWidgetItem([block.name])
            child.setData(0, NAME_ROLE if source is None else LIBRARY_ROLE,
                          block.name if source is None else f"{source}/{block.name}")
            ports = f"{len(block.inputs())} in, {len(block.outputs())} out"
            params = ", ".join(p.name for p in block.params) or "no parameters"
            child.setToolTip(0, f"<b>{block.name}</b> ({ports}; {params})<br/>{block.doc}<br/><i>drag onto the canvas</i>")
            child.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
                           | QtCore.Qt.ItemFlag.ItemIsDragEnabled)
            section.addChild(child)
        section.setHidden(section.childCount() == 0)
        section.setExpanded(True)
        self._filter(self.palette.search.text())

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for section in self._sections.values():
            shown = 0
            for i in range(section.childCount()):
                child = section.child(i)
                match = not needle or needle in child.text(0).lower() or needle in section.text(0).lower()
                child.setHidden(not match)
                shown += match
            section.setHidden(shown == 0)

    # -- adding -----------------------------------------------------------------------
    def _on_activated(self, item: QtWidgets.QTreeWidgetItem, _column: int) -> None:
        entry = item.data(0, LIBRARY_ROLE)
        if entry:
            self.add_from_library(entry)

    def add_from_library(self, entry: str, pos: tuple[float, float] | None = None) -> str | None:
        """Import a library block ("library/Name" or "personal/Name") with the blocks it uses and
        add a node of it: one undo step. Returns the new node's id."""
        source, _, name = entry.partition("/")
        blocks = self.sources.get(source)
        if blocks is None or name not in blocks:
            self.editor.message.emit(f"No block {name!r} in {source or 'the library'}")
            return None
        if self.editor.refuse_if_locked(f"Add {name}"):
            return None
        top = self.doc.graph
        stack = self.doc.undo_stack
        stack.beginMacro(f"Add {name} from the library")
        try:
            if name not in self.doc.project.blocks:
                self.doc.push(ApplyBlockEdit(self.doc, import_blocks(top, blocks, [name])))
            node_id = self.editor.add_node(name, pos)
        finally:
            stack.endMacro()
        self.canvas.viewer.setFocus()
        return node_id

    # -- a project block's menu: save, rename, delete -----------------------------------
    def _context_menu(self, point: QtCore.QPoint) -> None:
        menu = self.menu_for(self.palette.tree.itemAt(point))
        if menu is not None:
            menu.exec(self.palette.tree.viewport().mapToGlobal(point))

    def menu_for(self, item: QtWidgets.QTreeWidgetItem | None) -> QtWidgets.QMenu | None:
        """The right-click menu of a palette entry: only the project's blocks have one."""
        name = item.data(0, NAME_ROLE) if item is not None and item.parent() is self._sections[None] else None
        if not name:
            return None
        menu = QtWidgets.QMenu(self.palette)
        menu.addAction("Save to My Blocks", lambda: self.save_to_personal(name))
        menu.addAction("Rename Block…", lambda: self.ask_rename(name))
        menu.addAction("Delete Block", lambda: self.delete_block(name))
        return menu

    def _uses(self, name: str) -> int:
        blocks = self.doc.project.blocks
        return sum(n.type == name for n in self.doc.graph.nodes) + len(blocks.users(name))

    def ask_rename(self, name: str) -> RenameBlockDialog | None:
        """Ask for a block's new name (a window-modal dialog that refuses a bad name in place)."""
        if name not in self.doc.project.blocks or self.editor.refuse_if_locked(f"Rename block {name}"):
            return None
        dialog = RenameBlockDialog(self.doc.project.blocks, name, self._uses(name), self.window)
        dialog.accepted.connect(lambda: self.rename_block(name, dialog.name()))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def rename_block(self, old: str, new: str) -> bool:
        """Rename a definition and every use of it, one undo step; a bad or taken name is refused."""
        return self._edit(f"Rename block {old}", lambda: rename_block(self.doc.graph, old, new),
                          f"Renamed block {old} to {new}; its uses follow")

    def delete_block(self, name: str) -> bool:
        """Delete a definition nothing uses, one undo step; a used one is refused, naming a use."""
        return self._edit(f"Delete block {name}", lambda: remove_block(self.doc.graph, name),
                          f"Deleted block {name}; Ctrl+Z brings it back")

    def _edit(self, what: str, edit, done: str) -> bool:
        if self.editor.refuse_if_locked(what):
            return False
        try:
            made = edit()
        except EditError as exc:
            self.editor.message.emit(f"Cannot {what[0].lower()}{what[1:]}: {exc}")
            return False
        self.doc.push(ApplyBlockEdit(self.doc, made))
        self.editor.message.emit(done)
        return True

    # -- the personal library ---------------------------------------------------------

    def save_to_personal(self, name: str) -> bool:
        """Write block `name` (and the blocks it uses) into the personal library."""
        project_blocks = self.doc.project.blocks
        if name not in project_blocks:
            return False
        path = personal_library_path()
        personal = _read(path) if path.exists() else Blocks()
        for wanted in with_dependencies(project_blocks, name):
            if wanted in personal:
                personal.remove(wanted)
            personal.add(copy_block(project_blocks.get(wanted)))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_library(personal, path)
        except (OSError, LoomFileError) as exc:
            self.editor.message.emit(f"Cannot save {name} to My blocks ({path}): {exc}")
            return False
        self.reload_personal()
        self.editor.message.emit(f"Saved {name} to My blocks ({path}); other designs find it in the palette")
        return True


def _read(path: Path) -> Blocks:
    """A library's blocks; an unreadable one is listed as empty (the palette still opens)."""
    try:
        return load_library(path)
    except LoomFileError:
        return Blocks()
