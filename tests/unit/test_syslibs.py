"""Fresh Linux (issue 16, item 12): the .deb Depends computed from real ELF files, and
the message a user reads when Qt's xcb plugin lacks a system library."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import PySide6
import pytest

from console.syslibs import (
    DEBIAN_PACKAGES,
    XCB_PLATFORM_LIBRARIES,
    missing_libraries_message,
    missing_platform_libraries,
    qt_platform,
)

ROOT = Path(__file__).resolve().parents[2]
QT = Path(PySide6.__file__).parent / "Qt"
linux_with_binutils = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("objdump") is None,
    reason="reads Linux ELF files with objdump",
)


def _depends_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("depends", ROOT / "packaging" / "depends.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["depends"] = module  # as packaging/build.py imports it
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------- the start-up check


def test_every_xcb_platform_library_has_a_package() -> None:
    assert all(name in DEBIAN_PACKAGES for name in XCB_PLATFORM_LIBRARIES)


def test_the_platform_is_read_as_qt_would_choose_it() -> None:
    assert qt_platform({}, "linux") == "xcb"
    assert qt_platform({"WAYLAND_DISPLAY": "wayland-0"}, "linux") == "wayland"
    assert qt_platform({"QT_QPA_PLATFORM": "xcb;wayland"}, "linux") == "xcb"
    assert qt_platform({"QT_QPA_PLATFORM": "offscreen"}, "linux") == "offscreen"
    assert qt_platform({}, "darwin") is None


def test_missing_libraries_are_named_with_the_apt_command() -> None:
    absent = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    missing = missing_platform_libraries(
        {"DISPLAY": ":0"}, platform="linux", load=lambda name: name not in absent
    )
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    message = missing_libraries_message(missing)
    assert "libxcb-icccm.so.4  (package libxcb-icccm4)" in message
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1\n" in message
    assert "platform plugin" in message


def test_nothing_is_checked_off_xcb() -> None:
    def refuse(name: str) -> bool:
        raise AssertionError(f"loaded {name}")

    assert missing_platform_libraries({"QT_QPA_PLATFORM": "offscreen"}, load=refuse) == []
    assert missing_platform_libraries({}, platform="win32", load=refuse) == []


@linux_with_binutils
def test_the_real_loader_finds_what_is_installed() -> None:
    # what this machine lacks is reported; what it has is not
    from console.syslibs import can_load

    assert can_load("libc.so.6")
    assert not can_load("libresponder-console-absent.so.9")


@linux_with_binutils
def test_the_window_command_says_what_is_missing_instead_of_qt(tmp_path: Path) -> None:
    """The real entry point, with a loader path where one xcb library is hidden: a
    stand-in folder that shadows libxcb-icccm with a file that is not a library."""
    present = [n for n in XCB_PLATFORM_LIBRARIES if _loadable(n)]
    if "libxcb-icccm.so.4" in present:
        pytest.skip("this machine has libxcb-icccm; the message is covered by the unit test")
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": ":99", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "ui.entry", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "libxcb-icccm.so.4  (package libxcb-icccm4)" in result.stderr
    assert "sudo apt install" in result.stderr
    assert "could not load the Qt platform plugin" not in result.stderr


def _loadable(name: str) -> bool:
    from console.syslibs import can_load

    return can_load(name)


# ----------------------------------------------------------- the .deb Depends


@linux_with_binutils
def test_depends_from_real_qt_libraries(tmp_path: Path) -> None:
    """A folder laid out like the frozen build's Qt part (copies of the venv's PySide6
    libraries): its Depends names the xcb helpers it does not bundle, none it does."""
    depends = _depends_module()
    frozen = tmp_path / "frozen"
    (frozen / "platforms").mkdir(parents=True)
    shutil.copy2(QT / "plugins" / "platforms" / "libqxcb.so", frozen / "platforms")
    for name in ("libQt6XcbQpa.so.6", "libQt6Gui.so.6", "libQt6Core.so.6", "libQt6DBus.so.6"):
        shutil.copy2(QT / "lib" / name, frozen / name)
    for icu in (QT / "lib").glob("libicu*.so.*"):  # bundled beside Qt, as PyInstaller does
        shutil.copy2(icu, frozen / icu.name)
    (frozen / "README").write_text("not an ELF file")

    needs = depends.system_needs(frozen)
    assert "libxcb-icccm.so.4" in needs.system
    assert "platforms/libqxcb.so" in needs.system["libxcb-cursor.so.0"]
    assert not any(name.startswith("libQt6") for name in needs.system)  # bundled

    mapped = depends.packages(needs.system)  # dpkg -S where installed, else the map
    line = depends.depends_line(mapped)
    for package in (
        "libxcb-icccm4",
        "libxcb-keysyms1",
        "libxcb-cursor0",
        "libxcb-image0",
        "libxcb-render-util0",
        "libxcb-shape0",
        "libxcb-randr0",
        "libxcb-xkb1",
        "libxkbcommon-x11-0",
        "libgl1",
        "libc6 (>= 2.31)",
    ):
        assert package in line.split(", "), line


def test_dpkg_owner_wins_over_the_map_and_unknown_libraries_stop_the_build() -> None:
    depends = _depends_module()
    mapped = depends.packages(
        ["libxcb.so.1", "libxcb-icccm.so.4"],
        paths={"libxcb.so.1": "/usr/lib/x86_64-linux-gnu/libxcb.so.1"},
        owners=lambda paths: {p: "libxcb1-from-dpkg" for p in paths},
    )
    assert mapped == {"libxcb.so.1": "libxcb1-from-dpkg", "libxcb-icccm.so.4": "libxcb-icccm4"}
    with pytest.raises(depends.DependsError, match=r"libmystery\.so\.3"):
        depends.packages(["libmystery.so.3"], paths={}, owners=lambda paths: {})


def test_a_qt_library_the_build_leaves_out_is_no_debian_package(tmp_path: Path) -> None:
    """The eglfs platform plugin needs libQt6EglFSDeviceIntegration, which PyInstaller
    does not bundle: that is Qt's own library (no Debian package can stand in for the
    wheel's build), so the Depends is still computed and the plugin is named instead of
    the build stopping."""
    depends = _depends_module()
    frozen = tmp_path / "frozen"
    (frozen / "platforms").mkdir(parents=True)
    shutil.copy2(QT / "plugins" / "platforms" / "libqeglfs.so", frozen / "platforms")
    for name in ("libQt6Gui.so.6", "libQt6Core.so.6", "libQt6DBus.so.6"):
        shutil.copy2(QT / "lib" / name, frozen / name)
    for icu in (QT / "lib").glob("libicu*.so.*"):
        shutil.copy2(icu, frozen / icu.name)

    needs = depends.system_needs(frozen)
    assert "platforms/libqeglfs.so" in needs.unbundled_qt["libQt6EglFSDeviceIntegration.so.6"]
    assert not any(name.startswith("libQt6") for name in needs.system)
    assert "libc6 (>= 2.31)" in depends.compute(frozen).split(", ")
