"""Validation images as thumbnails (`sampleGallery`): a click predicts that sample."""
from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

THUMB = 44


def thumbnail(pixels: np.ndarray) -> QtGui.QPixmap:
    """(H, W) or (H, W, 3) in 0..1, scaled up without smoothing (8×8 digits stay crisp)."""
    v = (np.clip(pixels, 0.0, 1.0) * 255).astype(np.uint8)
    if v.ndim == 2:
        v = np.repeat(v[..., None], 3, axis=-1)
    v = np.ascontiguousarray(v)
    image = QtGui.QImage(v.data, v.shape[1], v.shape[0], v.shape[1] * 3, QtGui.QImage.Format.Format_RGB888).copy()
    return QtGui.QPixmap.fromImage(image.scaled(THUMB, THUMB, QtCore.Qt.AspectRatioMode.KeepAspectRatio,
                                                QtCore.Qt.TransformationMode.FastTransformation))


class Gallery(QtWidgets.QListWidget):
    picked = QtCore.Signal(int)

    def __init__(self):
        super().__init__()
        self.setObjectName("sampleGallery")
        self.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.setIconSize(QtCore.QSize(THUMB, THUMB))
        self.setGridSize(QtCore.QSize(THUMB + 10, THUMB + 22))
        self.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.setMovement(QtWidgets.QListView.Movement.Static)
        self.setFixedHeight(2 * (THUMB + 22) + 8)
        self.currentRowChanged.connect(lambda row: row >= 0 and self.picked.emit(row))

    def set_images(self, images: np.ndarray, labels: list[str] | None = None) -> None:
        with QtCore.QSignalBlocker(self):
            self.clear()
            for k, pixels in enumerate(images):
                item = QtWidgets.QListWidgetItem(QtGui.QIcon(thumbnail(pixels)), f"#{k}")
                item.setToolTip(f"validation sample {k}" + (f": {labels[k]}" if labels else ""))
                self.addItem(item)
