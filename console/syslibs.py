"""System libraries the window needs on Linux, and the Debian packages that hold them.

Qt's X11 platform plugin (``libqxcb.so``) links against xcb helper libraries that
PySide6 and the frozen build do not bundle and a fresh Debian with X may lack
(issue 16, item 12). Two users:

* ``ui.entry`` asks :func:`missing_platform_libraries` before Qt is imported: when
  one cannot be loaded, the user reads which and the ``apt`` command that installs
  them (:func:`missing_libraries_message`) instead of Qt's "could not load the Qt
  platform plugin" abort.
* ``packaging/depends.py`` maps what the frozen build needs and does not bundle to
  ``Depends`` packages: ``dpkg -S`` on the build machine first, :data:`DEBIAN_PACKAGES`
  for a library the build machine does not have installed.

No Qt here: the check runs before Qt is loaded.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Final

#: what libqxcb.so / libQt6XcbQpa.so.6 load from the system (objdump -p NEEDED of
#: PySide6 6.11), in the order a reader would install them; libc and libstdc++
#: are left out (nothing runs without them)
XCB_PLATFORM_LIBRARIES: Final = (
    "libxcb-cursor.so.0",
    "libxcb-icccm.so.4",
    "libxcb-keysyms.so.1",
    "libxcb-image.so.0",
    "libxcb-render-util.so.0",
    "libxcb-shape.so.0",
    "libxcb-randr.so.0",
    "libxcb-xkb.so.1",
    "libxkbcommon-x11.so.0",
    "libxkbcommon.so.0",
    "libxcb-util.so.1",
    "libxcb-shm.so.0",
    "libxcb-sync.so.1",
    "libxcb-xfixes.so.0",
    "libxcb-render.so.0",
    "libxcb.so.1",
    "libX11-xcb.so.1",
    "libX11.so.6",
    "libGL.so.1",
)

#: soname → Debian (12) package. Checked in for the libraries Qt's xcb plugin and the
#: rest of the frozen build load from the system, so a build machine without them
#: installed still writes a complete Depends, and the start-up message can name the
#: package. tests/unit/test_syslibs.py checks every xcb platform library is here.
DEBIAN_PACKAGES: Final[Mapping[str, str]] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-dri3.so.0": "libxcb-dri3-0",
    "libxcb-present.so.0": "libxcb-present0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libXext.so.6": "libxext6",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libz.so.1": "zlib1g",
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
    "libc.so.6": "libc6",
    "libm.so.6": "libc6",
    "libdl.so.2": "libc6",
    "libpthread.so.0": "libc6",
    "librt.so.1": "libc6",
    "libutil.so.1": "libc6",
    "ld-linux-x86-64.so.2": "libc6",
}


def can_load(soname: str) -> bool:
    """Whether the dynamic loader finds and loads ``soname`` (as Qt's plugin loader would)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def qt_platform(environ: Mapping[str, str], platform: str = sys.platform) -> str | None:
    """The Qt platform plugin that will be tried first, as far as it can be known without
    Qt: ``QT_QPA_PLATFORM`` (before any ``;`` fallback or ``:`` options), else on Linux
    ``wayland`` in a Wayland session and ``xcb`` otherwise; None off Linux."""
    chosen = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    if not platform.startswith("linux"):
        return None
    if environ.get("WAYLAND_DISPLAY") or environ.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    return "xcb"


def missing_platform_libraries(
    environ: Mapping[str, str] | None = None,
    *,
    platform: str = sys.platform,
    load: Callable[[str], bool] = can_load,
) -> list[str]:
    """The xcb platform plugin's system libraries that cannot be loaded; empty when the
    platform is not xcb (Wayland, offscreen, macOS, Windows) or nothing is missing."""
    chosen = qt_platform(os.environ if environ is None else environ, platform)
    if chosen != "xcb":
        return []
    return [name for name in XCB_PLATFORM_LIBRARIES if not load(name)]


def packages_for(sonames: Sequence[str]) -> list[str]:
    """The Debian packages holding ``sonames``, each once, in the order first needed."""
    found: list[str] = []
    for name in sonames:
        package = DEBIAN_PACKAGES.get(name)
        if package is not None and package not in found:
            found.append(package)
    return found


def missing_libraries_message(missing: Sequence[str]) -> str:
    """What the user reads when the window cannot open: the libraries and the command."""
    packages = packages_for(missing)
    lines = [
        "Responder Console cannot open its window: Qt's X11 (xcb) platform plugin needs "
        "system libraries that are not installed:",
        *(
            f"  {name}"
            + (f"  (package {DEBIAN_PACKAGES[name]})" if name in DEBIAN_PACKAGES else "")
            for name in missing
        ),
        "",
    ]
    if packages:
        lines += [
            "On Debian or Ubuntu, install them with:",
            f"  sudo apt install {' '.join(packages)}",
            "",
        ]
    lines += [
        "then start Responder Console again. (Under Wayland, QT_QPA_PLATFORM=wayland "
        "uses the Wayland plugin instead.) The command-line commands work without them.",
    ]
    return "\n".join(lines)


def _package_note(soname: str) -> str:
    package = DEBIAN_PACKAGES.get(soname)
    return f"  (package {package})" if package else ""
