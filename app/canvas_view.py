"""How much of the design the canvas shows: framing it, and the view state a project keeps.

A mixin of `app.canvas.Canvas`: it reads the canvas's viewer, built node items and lazy builder."""
from __future__ import annotations

from PySide6 import QtCore


class ViewFraming:
    """The view's frame over the scene (the Canvas provides `viewer`, `_nodes` and `lazy`)."""

    def items_rect(self) -> QtCore.QRectF:
        """The scene rectangle of the whole design, nodes not built yet included."""
        rect = QtCore.QRectF()
        for item in self._nodes.values():
            rect = rect.united(item.view.sceneBoundingRect())
        if self.lazy.loading:
            rect = rect.united(self.lazy.stand_ins.boundingRect())
        return rect

    def fit_view(self, margin: float = 60.0, min_scale: float = 0.0) -> None:
        """Frame every node, never magnified beyond 1:1 (a small design stays at its real size).
        With `min_scale`, a design too wide to frame at that scale is shown at that scale from
        its left end (its inputs), so that a freshly opened design is readable."""
        rect = self.items_rect()
        if rect.isNull():
            self.viewer.reset_zoom()
            return
        rect = rect.adjusted(-margin, -margin, margin, margin)
        viewport = self.viewer.viewport().rect()
        scale = min(viewport.width() / rect.width(), viewport.height() / rect.height(), 1.0)
        centre = rect.center()
        if scale < min_scale:   # from the left end: the shown width starts at the design's
            scale = min_scale
            centre = QtCore.QPointF(rect.left() + viewport.width() / scale / 2, centre.y())
        self.viewer.show_at(centre, scale)
        self.lazy.build_view()

    def view_state(self) -> dict:
        x, y, w, h = self.viewer.scene_rect()
        return {"scene_rect": [round(x, 1), round(y, 1), round(w, 1), round(h, 1)]}

    def set_view_state(self, state: dict) -> bool:
        """Restore `view_state()`; False (and nothing changed) when the state is unusable."""
        rect = state.get("scene_rect") if isinstance(state, dict) else None
        if (not isinstance(rect, list) or len(rect) != 4
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rect)
                or rect[2] <= 0 or rect[3] <= 0):
            return False
        self.viewer.set_scene_rect([float(v) for v in rect])
        self.lazy.build_view()
        return True

    def visible_rect(self) -> QtCore.QRectF:
        """The part of the scene the view shows."""
        return self.viewer.mapToScene(self.viewer.viewport().rect()).boundingRect()

    def scene_pos_at_view_center(self) -> tuple[float, float]:
        center = self.viewer.mapToScene(self.viewer.viewport().rect().center())
        return (center.x(), center.y())
