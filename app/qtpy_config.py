"""Quiet, lean start for NodeGraphQt's `Qt.py` shim.

Qt.py imports every Qt module it knows (multimedia, network, SQL, QML, ...) and prints
`Qt.py [warning]: ImportError(QtMultimedia): libpulse.so.0 ...` for each one the machine cannot
load: two lines on every launch without PulseAudio, although nothing here plays sound. Qt.py has
no switch for those warnings, but it reads a site module, `QtSiteConfig`, whose
`update_members` may trim the modules it wraps. This supplies one that keeps only the modules
NodeGraphQt imports, which also spares about 0.4 s of start-up. A `QtSiteConfig` of the user's
own, or a Qt.py already imported, is left alone.
"""
from __future__ import annotations

import importlib.util
import sys
import types

USED = frozenset({"QtCore", "QtGui", "QtWidgets", "QtSvg"})  # all that NodeGraphQt imports from Qt


def _keep_used(members: dict) -> None:
    for name in [name for name in members if name not in USED]:
        del members[name]


def install() -> None:
    """Call before NodeGraphQt is first imported."""
    if "Qt" in sys.modules or "QtSiteConfig" in sys.modules or importlib.util.find_spec("QtSiteConfig"):
        return
    config = types.ModuleType("QtSiteConfig", "LayerLoom's Qt.py settings (app.qtpy_config)")
    config.update_members = _keep_used
    sys.modules["QtSiteConfig"] = config
