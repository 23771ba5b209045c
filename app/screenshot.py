"""Take the README's screenshot of the designer:

    xvfb-run -a -s "-screen 0 1920x1080x24" python -m app.screenshot docs/screenshot-designer.png \
        [FILE.loom] [--select NODE] [--center] [--size 1440x900]

It opens FILE (the default example when none is given) as `python main.py` would, with fresh
settings (no remembered geometry), selects a node so that the properties panel shows it, lets
the code panel fill, and saves a grab of the window.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from app.theme import apply_dark_theme


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.screenshot")
    parser.add_argument("out")
    parser.add_argument("file", nargs="?")
    parser.add_argument("--select", help="node to select (default: the second node)")
    parser.add_argument("--center", action="store_true", help="bring the selected node to the middle")
    parser.add_argument("--size", default="1440x900")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    apply_dark_theme(app)
    from app.main_window import MainWindow

    scratch = Path(tempfile.mkdtemp(prefix="layerloom-shot-"))
    settings = QtCore.QSettings(str(scratch / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(args.file, settings=settings, recovery_dir=scratch / "recovery")
    window.resize(width, height)
    window.show()

    def shoot() -> None:
        nodes = window.doc.graph.nodes
        node = args.select or (nodes[1].id if len(nodes) > 1 else nodes[0].id if nodes else None)
        if node is not None:
            window.canvas.select([node])
            if args.center:
                window.canvas.center_on(node)
        window.code.regenerate()
        QtCore.QTimer.singleShot(400, grab)

    def grab() -> None:
        window.grab().save(args.out)
        print("wrote", args.out)
        window.doc.undo_stack.setClean()
        window.close()
        app.quit()

    QtCore.QTimer.singleShot(600, shoot)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
