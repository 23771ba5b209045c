"""Take the README's screenshots:

    xvfb-run -a -s "-screen 0 1920x1080x24" python -m app.screenshot docs/screenshot-designer.png \\
        [FILE.loom] [--select NODE] [--center] [--size 1440x900]
    xvfb-run -a -s "-screen 0 1920x1080x24" python -m app.screenshot docs/screenshot-training.png \\
        resources/examples/spiral_mlp.loom --train 120 --epochs 160 --select act1 --size 1920x1080 --hide layerPalette

It opens FILE (the default example when none is given) as `python main.py` would, with fresh
settings (no remembered geometry), selects a node so that the properties panel shows it, lets
the code panel fill, and saves a grab of the window. With `--train N` it presses Train and
takes the grab while the run is going, once N epochs are done (`--epochs` sets the run's length
so that it is still going then); then it stops the run and closes.
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
    parser.add_argument("--train", type=int, metavar="N", help="train, and take the grab after N epochs")
    parser.add_argument("--epochs", type=int, help="with --train: the run's length (default: 4 N)")
    parser.add_argument("--hide", action="append", default=[], metavar="DOCK",
                        help="close a dock for the picture (an object name: layerPalette, codeDock, ...)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    apply_dark_theme(app)
    from app.main_window import MainWindow
    from app.training.controller import badges

    scratch = Path(tempfile.mkdtemp(prefix="layerloom-shot-"))
    settings = QtCore.QSettings(str(scratch / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(None if args.train and args.file else args.file, settings=settings,
                        recovery_dir=scratch / "recovery", runs_dir=scratch / "runs")
    if args.train and args.file:  # an untitled copy: its runs go to the scratch folder, not beside FILE
        window.open_example(args.file)
    window.resize(width, height)
    for name in args.hide:
        window.docks[name].hide()
    window.show()

    def shoot() -> None:
        nodes = window.doc.graph.nodes
        node = args.select or (nodes[1].id if len(nodes) > 1 else nodes[0].id if nodes else None)
        if node is not None:
            window.canvas.select([node])
            if args.center:
                window.canvas.center_on(node)
        window.code.regenerate()
        if args.train:
            train()
        else:
            QtCore.QTimer.singleShot(400, grab)

    def train() -> None:
        training = window.training
        training.panel.ensure_built()
        window.doc.project.training["epochs"] = args.epochs or 4 * args.train  # the view of this run only
        if not training.train():
            print("cannot train:", window.statusBar().currentMessage(), file=sys.stderr)
            app.exit(1)
            return
        window.canvas.fit_view()
        poll = QtCore.QTimer(window)

        def check() -> None:
            store = training.store
            if store.result is not None and store.result.kind == "failed":
                print("the run failed:", store.result.message, file=sys.stderr)
                app.exit(1)
            elif len(store.epochs) >= args.train:
                poll.stop()
                training.session.drain()   # every plot drawn as of now (the run goes on), then the grab
                training.plots.refresh(force=True)
                training.panel.show_progress(store.progress, store.status)
                window.canvas.set_live_badges(badges(store, [n.id for n in window.doc.graph.nodes]))
                QtCore.QTimer.singleShot(60, grab)

        poll.timeout.connect(check)
        poll.start(20)

    def grab() -> None:
        window.grab().save(args.out)
        print("wrote", args.out)
        window.doc.undo_stack.setClean()
        window.close()  # stops a run and waits for it
        app.quit()

    QtCore.QTimer.singleShot(600, shoot)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
