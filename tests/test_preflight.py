"""Before Qt starts (app.preflight): a missing display or a missing system library of the xcb
plugin is a message with the install lines and exit 1, never Qt's abort (exit 134)."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from app import preflight
from tests.conftest import ROOT

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb plugin is Linux's")
QT = preflight.qt_folder()
PLUGIN = QT / "plugins" / "platforms" / "libqxcb.so" if QT is not None else None
has_plugin = pytest.mark.skipif(PLUGIN is None or not PLUGIN.is_file(), reason="no PySide6 xcb plugin here")
# What Debian (and any machine that runs Python) has without asking: left out of README's line.
BASE_DEBIAN = {"libc6", "libstdc++6", "libgcc-s1", "zlib1g", "libzstd1"}


def loads_all_but(*missing):
    return lambda name: name if name in missing else None


def system_libraries() -> list[str]:
    """Every system library the plugin needs, directly or through the bundled Qt libraries."""
    met = []
    preflight.missing_libraries(PLUGIN, QT / "lib", lambda name: met.append(name))
    return met


@pytest.fixture
def x_server():
    """A listening socket where an X server on display :N would be, for N returned."""
    number = 50000 + os.getpid() % 10000
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(f"\0/tmp/.X11-unix/X{number}")
        sock.listen(1)
        yield number


@linux_only
@has_plugin
def test_the_plugins_needs_are_read_from_its_elf_file():
    needed = preflight.needed_libraries(PLUGIN)
    assert {"libQt6XcbQpa.so.6", "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0"} <= set(needed)
    # the walk goes on into the bundled libQt6XcbQpa.so.6 and past it (libQt6Gui needs fontconfig)
    assert "libfontconfig.so.1" in system_libraries()
    assert preflight.needed_libraries(ROOT / "README.md") == []


@linux_only
@has_plugin
def test_every_library_met_has_its_packages_in_the_table():
    assert [lib for lib in system_libraries() if lib not in preflight.PACKAGES] == []


@linux_only
@has_plugin
def test_missing_libraries_are_named_with_one_install_line_each(x_server):
    env = {"DISPLAY": f":{x_server}"}
    message = preflight.window_problem(env, load=loads_all_but("libxcb-icccm.so.4", "libxcb-keysyms.so.1"))
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in message
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1\n" in message
    assert message.rstrip().endswith("sudo dnf install xcb-util-wm xcb-util-keysyms")
    assert "DISPLAY" not in message  # the display is there: only the libraries are said


@linux_only
@has_plugin
def test_all_present_and_a_display_says_nothing(x_server):
    assert preflight.window_problem({"DISPLAY": f":{x_server}"}, load=loads_all_but()) is None
    assert preflight.window_problem({"DISPLAY": f"unix:{x_server}.0"}, load=loads_all_but()) is None


@linux_only
def test_no_display_is_named_with_the_way_round_it(x_server):
    for env, said in (({}, "DISPLAY is not set"),
                      ({"DISPLAY": f":{x_server + 1}"}, f"no X server answers on DISPLAY=:{x_server + 1}")):
        message = preflight.window_problem(env, load=loads_all_but())
        assert said in message and "xvfb-run -a python main.py" in message


@linux_only
def test_a_library_not_in_the_table_is_named_with_how_to_find_its_package(x_server):
    lines = preflight.install_lines(["libxcb-icccm.so.4", "libweird.so.3"])
    assert lines[0].endswith("sudo apt install libxcb-icccm4") and lines[1].endswith("sudo dnf install xcb-util-wm")
    assert "apt-file search libweird.so.3" in lines[2] and "dnf provides '*/libweird.so.3'" in lines[2]
    assert len(preflight.install_lines(["libweird.so.3"])) == 1


@linux_only
def test_headless_and_remote_platforms_need_nothing_here():
    missing_everything = loads_all_but(*preflight.PACKAGES)
    for spec in ("offscreen", "minimal", "offscreen:fontengine=freetype", "vnc", "eglfs"):
        assert preflight.window_problem({"QT_QPA_PLATFORM": spec}, load=missing_everything) is None, spec
    assert preflight.window_problem({"DISPLAY": "remote.host:10.0"}, load=loads_all_but()) is None


@linux_only
def test_the_platforms_qt_will_try():
    assert preflight.platforms({}) == ["xcb"]
    assert preflight.platforms({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}) == ["wayland", "xcb"]
    assert preflight.platforms({"QT_QPA_PLATFORM": "wayland;xcb"}) == ["wayland", "xcb"]


@linux_only
def test_one_platform_of_several_that_works_is_enough(tmp_path):
    (tmp_path / "wayland-1").touch()
    wayland = {"QT_QPA_PLATFORM": "wayland;xcb", "WAYLAND_DISPLAY": "wayland-1", "XDG_RUNTIME_DIR": str(tmp_path)}
    assert preflight.window_problem(wayland, load=loads_all_but("libxcb-icccm.so.4")) is None
    message = preflight.window_problem({**wayland, "WAYLAND_DISPLAY": "gone"}, load=loads_all_but())
    assert "no Wayland display" in message and "DISPLAY is not set" in message


def test_the_check_imports_no_qt():
    code = ("import sys, app.preflight as p; p.window_problem({'QT_QPA_PLATFORM': 'xcb'}); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'shiboken6', 'Qt', 'NodeGraphQt'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False, capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


@linux_only
def test_python_main_py_without_a_display_exits_1_with_the_message_not_qts_abort():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, check=False,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out.stderr
    assert out.stderr.startswith("error: LayerLoom cannot open its window:")
    assert "DISPLAY is not set" in out.stderr and "qt.qpa" not in out.stderr


@linux_only
@has_plugin
def test_readme_installs_what_the_plugin_needs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line for line in readme.splitlines() if line.startswith("sudo apt install ")]
    assert len(lines) == 1, "one apt line in the Quick start"
    listed = set(re.split(r"\s+", lines[0].removeprefix("sudo apt install ").strip()))
    needed = {preflight.PACKAGES[lib][0] for lib in system_libraries()} - BASE_DEBIAN
    assert needed - listed == set()
