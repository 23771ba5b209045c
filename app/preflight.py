"""Can the window open here? Asked before the QApplication is made (`python main.py`).

Qt answers a missing display or a missing system library by aborting the process (exit 134),
and for the xcb plugin with a misleading line ("xcb-cursor0 or libxcb-cursor0 is needed" even
when it is installed and two other libraries are not). So this module looks first, without
importing any Qt binding: which platform plugin Qt will pick, whether it has a display, and, for
xcb, whether every shared library the plugin needs loads. What is missing comes back as one
message with the install line for Debian/Ubuntu and for Fedora. See docs/designer.md.
"""
from __future__ import annotations

import ctypes
import importlib.util
import mmap
import os
import socket
import struct
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

# Plugins that draw without a windowing system: nothing to check for them.
HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"})

# soname -> (Debian/Ubuntu package, Fedora package) for what the xcb plugin and the Qt
# libraries under it load from the system.
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libz.so.1": ("zlib1g", "zlib"),
    "libzstd.so.1": ("libzstd1", "libzstd"),
    "libstdc++.so.6": ("libstdc++6", "libstdc++"),
    "libgcc_s.so.1": ("libgcc-s1", "libgcc"),
    **{lib: ("libc6", "glibc") for lib in ("libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0",
                                          "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1")},
}


def qt_folder() -> Path | None:
    """PySide6's `Qt` folder, found without importing PySide6 (its import loads Qt)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "Qt"


def needed_libraries(path: Path) -> list[str]:
    """The DT_NEEDED entries of a 64-bit little-endian ELF shared object (what `readelf -d` lists
    as NEEDED): the only kind PySide6 ships for Linux. Anything else gives [] (nothing checked)."""
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as elf:
        if elf[:6] != b"\x7fELF\x02\x01":
            return []
        (table,), (entry_size, count) = struct.unpack_from("<Q", elf, 0x28), struct.unpack_from("<HH", elf, 0x3A)
        headers = [struct.unpack_from("<IIQQQQIIQQ", elf, table + i * entry_size) for i in range(count)]
        sections = [(h[1], h[4], h[5], h[6]) for h in headers]  # type, offset, size, link
        names = []
        for kind, offset, size, link in sections:
            if kind != 6:  # SHT_DYNAMIC; its link is the string table (.dynstr)
                continue
            strings = sections[link][1]
            for at in range(offset, offset + size, 16):
                tag, value = struct.unpack_from("<qQ", elf, at)
                if tag == 0:  # DT_NULL ends the table
                    break
                if tag == 1:  # DT_NEEDED
                    start = strings + value
                    names.append(elf[start:elf.find(b"\0", start)].decode())
        return names


def load_problem(name: str) -> str | None:
    """None when the dynamic loader can load `name` (and what it needs); else the library it
    could not find, which may be one that `name` needs."""
    try:
        ctypes.CDLL(name)
    except OSError as exc:
        return Path(str(exc).split(":", 1)[0].strip()).name or name
    return None


def missing_libraries(root: Path, bundled: Path,
                      load: Callable[[str], str | None] = load_problem) -> list[str]:
    """The system libraries that `root` needs, directly or through the libraries shipped beside
    it in `bundled` (as the RUNPATH finds them), that do not load; in the order met."""
    seen: set[str] = set()
    missing: list[str] = []
    todo = [root]
    while todo:
        for name in needed_libraries(todo.pop(0)):
            if name in seen:
                continue
            seen.add(name)
            if (bundled / name).is_file():
                todo.append(bundled / name)
            elif (problem := load(name)) is not None and problem not in missing:
                missing.append(problem)
    return missing


def install_lines(libraries: Iterable[str]) -> list[str]:
    """One install line for Debian/Ubuntu and one for Fedora; a library the table does not know
    is named with the command that finds its package."""
    debian: list[str] = []
    fedora: list[str] = []
    unknown: list[str] = []
    for lib in libraries:
        if lib not in PACKAGES:
            unknown.append(lib)
            continue
        deb, rpm = PACKAGES[lib]
        debian += [deb] if deb not in debian else []
        fedora += [rpm] if rpm not in fedora else []
    lines = []
    if debian:
        lines += [f"    Debian/Ubuntu: sudo apt install {' '.join(debian)}",
                  f"    Fedora:        sudo dnf install {' '.join(fedora)}"]
    for lib in unknown:
        lines.append(f"    {lib}: find its package with `apt-file search {lib}` or `dnf provides '*/{lib}'`")
    return lines


def platforms(env: Mapping[str, str]) -> list[str]:
    """The platform plugins Qt will try, in order (QT_QPA_PLATFORM, else Qt's own choice)."""
    chosen = [p.split(":", 1)[0].strip() for p in env.get("QT_QPA_PLATFORM", "").split(";")]
    chosen = [p for p in chosen if p]
    if chosen:
        return chosen
    wayland_session = env.get("XDG_SESSION_TYPE") == "wayland" and env.get("WAYLAND_DISPLAY")
    return ["wayland", "xcb"] if wayland_session else ["xcb"]


def x_display_problem(display: str) -> str | None:
    """Why an X server cannot be reached at `display`, or None. Only local displays (`:N`) are
    tried, on their Unix socket (abstract or in /tmp/.X11-unix); remote ones are left to Qt."""
    if not display:
        return "no X display: DISPLAY is not set"
    host, _, number = display.rpartition(":")
    number = number.split(".", 1)[0]
    if host not in ("", "unix") or not number.isdigit():
        return None
    path = f"/tmp/.X11-unix/X{number}"
    for address in ("\0" + path, path):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            try:
                sock.connect(address)
                return None
            except OSError:
                continue
    return f"no X server answers on DISPLAY={display}"


def platform_problems(name: str, env: Mapping[str, str], qt: Path | None,
                      load: Callable[[str], str | None] = load_problem) -> list[str]:
    """What keeps the platform plugin `name` from starting: display and libraries."""
    if name in HEADLESS_PLATFORMS:
        return []
    if name.startswith("wayland"):
        runtime = env.get("XDG_RUNTIME_DIR", "")
        socket_name = env.get("WAYLAND_DISPLAY") or "wayland-0"
        if os.path.isabs(socket_name) or (runtime and os.path.exists(os.path.join(runtime, socket_name))):
            return []
        return ["no Wayland display: WAYLAND_DISPLAY is not set (or its socket is gone)"]
    if name != "xcb":
        return []
    problems = []
    plugin = qt / "plugins" / "platforms" / "libqxcb.so" if qt is not None else None
    if plugin is not None and plugin.is_file():
        missing = missing_libraries(plugin, qt / "lib", load)
        if missing:
            problems.append("Qt's xcb platform plugin needs system libraries that are missing: "
                            + ", ".join(missing) + ". Install them with\n" + "\n".join(install_lines(missing)))
    display = x_display_problem(env.get("DISPLAY", ""))
    if display is not None:
        problems.append(display + ". Run LayerLoom in a desktop session, or in a virtual one:\n"
                        "  xvfb-run -a python main.py\n  (check, export and train need no display.)")
    return problems


def window_problem(env: Mapping[str, str] | None = None, qt: Path | None = None,
                   load: Callable[[str], str | None] = load_problem) -> str | None:
    """None when the window can open; else the message to print before exiting 1."""
    if not sys.platform.startswith("linux"):
        return None
    env = os.environ if env is None else env
    qt = qt_folder() if qt is None else qt
    tried = []
    for name in platforms(env):
        problems = platform_problems(name, env, qt, load)
        if not problems:
            return None
        tried += problems
    return "error: LayerLoom cannot open its window:\n" + "\n".join(f"- {problem}" for problem in tried)
