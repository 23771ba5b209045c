"""The `runsTable` (app/tuning/runs_table.py): every run of the design, training runs and search
trials, from their folders; sortable; the settings that differ between selected runs marked;
the selected runs' curves overlaid on the plots."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from tests.conftest import EXAMPLES


def _write_run(folder: Path, project_file: Path, *, started: str, lr: float, accuracy: float,
               search: dict | None = None) -> None:
    """A run folder as engine.training.outputs.RunWriter writes it (run.json, metrics.csv, steps.csv)."""
    folder.mkdir(parents=True)
    doc = {"format": "layerloom-run", "status": "finished", "reason": "completed", "started": started,
           "epochs_done": 2, "seconds": 1.5, "device_name": "CPU", "project": "Spiral search",
           "project_file": str(project_file.resolve()),
           "final": {"train_loss": 0.5, "val_loss": 1.0 - accuracy, "val_accuracy": accuracy},
           "settings": {"epochs": 2, "batch_size": 64, "learning_rate": lr},
           "data": {"section": {"dataset": "spiral", "samples": 300}}}
    if search is not None:
        doc["search"] = search
    (folder / "run.json").write_text(json.dumps(doc), encoding="utf-8")
    (folder / "metrics.csv").write_text(f"epoch,train_loss,val_loss,val_accuracy\n1,0.9,0.8,0.5\n"
                                        f"2,0.5,{1.0 - accuracy},{accuracy}\n", encoding="utf-8")
    (folder / "steps.csv").write_text("epoch,batch,loss\n1,1,1.0\n1,2,0.9\n2,1,0.7\n2,2,0.5\n", encoding="utf-8")


def _design_with_runs(tmp_path: Path) -> Path:
    loom = tmp_path / "spiral_search.loom"
    shutil.copy(EXAMPLES / "spiral_search.loom", loom)
    runs = tmp_path / "runs"
    _write_run(runs / "spiral_search-20250101-100000", loom, started="2025-01-01T10:00:00", lr=0.0005, accuracy=0.40)
    for n, (lr, acc, width) in enumerate([(0.01, 0.95, 64), (0.001, 0.70, 8)]):
        _write_run(runs / "spiral-search" / f"trial-{n:03d}", loom, started=f"2025-01-02T10:0{n}:00", lr=lr,
                   accuracy=acc, search={"study": "spiral-search", "trial": n, "metric": "val_accuracy",
                                         "params": {"nodes.body.width": width, "training.learning_rate": lr}})
    other = tmp_path / "other.loom"  # a run of another design in the same folder is not listed
    _write_run(runs / "other-20250101-100000", other, started="2025-01-03T10:00:00", lr=0.1, accuracy=0.2)
    return loom


def _column(table: QtWidgets.QTableWidget, name: str) -> int:
    return [table.horizontalHeaderItem(j).text() for j in range(table.columnCount())].index(name)


def test_runs_table_lists_sorts_marks_and_overlays(make_window, qtbot, tmp_path):
    window = make_window(_design_with_runs(tmp_path))
    window.show()
    table = window.findChild(QtWidgets.QTableWidget, "runsTable")
    assert table is not None
    qtbot.waitUntil(lambda: table.rowCount() == 3)
    kinds = sorted(table.item(i, _column(table, "kind")).text() for i in range(3))
    assert kinds == ["spiral-search #0", "spiral-search #1", "training"]
    headers = [table.horizontalHeaderItem(j).text() for j in range(table.columnCount())]
    assert {"val_loss", "val_accuracy", "epochs", "seconds"} <= set(headers)
    assert {"training.learning_rate", "nodes.body.width"} <= set(headers)
    assert "training.batch_size" not in headers        # the same in every run: not a column

    accuracy = _column(table, "val_accuracy")
    table.sortItems(accuracy, QtCore.Qt.SortOrder.DescendingOrder)
    assert [table.item(i, accuracy).text() for i in range(3)] == ["95.00%", "70.00%", "40.00%"]

    # two trials selected: only what differs between them is marked, and both are overlaid
    width, lr = _column(table, "nodes.body.width"), _column(table, "training.learning_rate")
    table.selectRow(0)
    table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.MultiSelection)
    table.selectRow(1)
    panel = window.tuning.table
    assert sorted(panel.differing_columns()) == ["nodes.body.width", "training.learning_rate"]
    assert table.item(0, width).background().style() != QtCore.Qt.BrushStyle.NoBrush
    assert table.item(2, width).background().style() == QtCore.Qt.BrushStyle.NoBrush   # not selected
    assert table.horizontalHeaderItem(lr).font().bold()
    plots = window.training.plots
    assert plots is not None
    assert sorted(o.name for o in plots.loss_plot.overlays) == ["trial-000", "trial-001"]
    assert list(plots.loss_plot.overlays[0].val_loss) == [0.8, plots.loss_plot.overlays[0].val_loss[1]]

    # a trial and the training run: the width (searched in one only) differs too
    table.clearSelection()
    table.selectRow(0)
    table.selectRow(2)
    assert "nodes.body.width" in panel.differing_columns()
    assert sorted(o.name for o in plots.loss_plot.overlays) == ["spiral_search-20250101-100000", "trial-000"]
