"""NodeGraphQt's `Qt.py` shim loads only the Qt modules NodeGraphQt uses (app.qtpy_config): no
`Qt.py [warning]: ImportError(QtMultimedia): libpulse.so.0 ...` lines at launch, no multimedia."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

PROBE = ("import sys, app.canvas, Qt; "
         "print(sorted(m for m in sys.modules if m.split('.')[0] == 'PySide6' and "
         "m.split('.')[-1] in ('QtMultimedia', 'QtMultimediaWidgets', 'QtNetwork', 'QtSql', 'QtQml')))")


def test_nodegraphqt_imports_quietly_and_without_unused_qt_modules():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=False, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Qt.py [warning]" not in out.stderr
    assert out.stdout.strip() == "[]"


def test_a_qtsiteconfig_of_the_users_own_is_left_alone(tmp_path):
    (tmp_path / "QtSiteConfig.py").write_text("def update_members(members):\n    members.pop('QtSql', None)\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(tmp_path)}
    code = "import app, sys; print(sys.modules.get('QtSiteConfig') is None, __import__('QtSiteConfig').__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=False, timeout=60)
    assert out.stdout.split() == ["True", str(tmp_path / "QtSiteConfig.py")], out.stderr
