"""The layer palette: the registry's types by category, a search box, drag onto the canvas."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from app import theme
from app.viewer import LAYER_MIME, LIBRARY_MIME
from graph.registry import CATEGORIES, all_types

NAME_ROLE = QtCore.Qt.ItemDataRole.UserRole
LIBRARY_ROLE = NAME_ROLE + 1  # a library block's entry, "library/Name" or "personal/Name" (app.block_palette)


def _swatch(rgb: tuple[int, int, int]) -> QtGui.QIcon:
    pixmap = QtGui.QPixmap(12, 12)
    pixmap.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setBrush(QtGui.QColor(*rgb))
    painter.setPen(QtGui.QColor(*rgb).lighter(140))
    painter.drawRoundedRect(1, 1, 10, 10, 2, 2)
    painter.end()
    return QtGui.QIcon(pixmap)


class _PaletteTree(QtWidgets.QTreeWidget):
    def mimeTypes(self):
        return [LAYER_MIME, LIBRARY_MIME]

    def mimeData(self, items):
        """A layer type or project block drags its name; a library block its entry."""
        for item in items:
            name, entry = item.data(0, NAME_ROLE), item.data(0, LIBRARY_ROLE)
            if name or entry:
                mime = QtCore.QMimeData()
                mime.setData(LAYER_MIME if name else LIBRARY_MIME, QtCore.QByteArray((name or entry).encode()))
                mime.setText(name or entry)
                return mime
        return None


class LayerPalette(QtWidgets.QWidget):
    """Drag a layer onto the canvas, or double-click it (Enter) to add it in the middle of the view."""

    add_requested = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.search = QtWidgets.QLineEdit()
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.setObjectName("paletteSearch")
        self.tree = _PaletteTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QtWidgets.QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setIndentation(12)
        self.tree.setObjectName("paletteTree")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)

        self._categories: dict[str, QtWidgets.QTreeWidgetItem] = {}
        bold = QtGui.QFont()
        bold.setBold(True)
        for category in CATEGORIES:
            item = QtWidgets.QTreeWidgetItem([category])
            item.setFont(0, bold)
            item.setIcon(0, _swatch(theme.category_color(category)))
            item.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(item)
            self._categories[category] = item
        for layer in all_types():
            child = QtWidgets.QTreeWidgetItem([layer.name])
            child.setData(0, NAME_ROLE, layer.name)
            child.setToolTip(0, f"<b>{layer.name}</b><br/>{layer.doc}<br/><i>drag onto the canvas</i>")
            child.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
                           | QtCore.Qt.ItemFlag.ItemIsDragEnabled)
            self._categories[layer.category].addChild(child)
        self.tree.expandAll()
        self._docs = {layer.name: layer.doc.lower() for layer in all_types()}

        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._add_first_match)
        self.tree.itemActivated.connect(self._on_activated)

    def filter(self, text: str) -> None:
        """Show the layers whose name (or, failing that, description) contains `text`."""
        needle = text.strip().lower()
        for category, item in self._categories.items():
            shown = 0
            for i in range(item.childCount()):
                child = item.child(i)
                name = child.data(0, NAME_ROLE)
                match = not needle or needle in name.lower() or needle in self._docs[name] \
                    or needle in category.lower()
                child.setHidden(not match)
                shown += match
            item.setHidden(shown == 0)
            item.setExpanded(True)

    def visible_layers(self) -> list[str]:
        out = []
        for item in self._categories.values():
            for i in range(item.childCount()):
                child = item.child(i)
                if not child.isHidden() and not item.isHidden():
                    out.append(child.data(0, NAME_ROLE))
        return out

    def mime_for(self, name: str) -> QtCore.QMimeData:
        """What dragging `name` carries: the same data a drag from the tree puts on the canvas."""
        for item in self._categories.values():
            for i in range(item.childCount()):
                if item.child(i).data(0, NAME_ROLE) == name:
                    return self.tree.mimeData([item.child(i)])
        raise KeyError(name)

    def _on_activated(self, item: QtWidgets.QTreeWidgetItem, _column: int) -> None:
        name = item.data(0, NAME_ROLE)
        if name:
            self.add_requested.emit(name)

    def _add_first_match(self) -> None:
        names = self.visible_layers()
        if names:
            exact = [n for n in names if n.lower() == self.search.text().strip().lower()]
            self.add_requested.emit(exact[0] if exact else names[0])
