"""The .deb ``Depends`` computed from the frozen build (issue 16, item 12).

    python packaging/depends.py FROZEN_FOLDER      prints the Depends line

Every ELF file in the one-folder build is read for its ``NEEDED`` entries
(``objdump -p``, else ``readelf -d``); what no file in the folder provides is
needed from the system. Each such library is mapped to the Debian package that
holds it: ``dpkg -S`` of the path the build machine's loader finds it at
(``ldconfig -p``), else the checked-in map ``console.syslibs.DEBIAN_PACKAGES``
(the Qt xcb helper libraries are often not installed where the build runs). A
library neither knows stops the build with its name: a Depends that silently
misses a library is how a fresh Debian ends up unable to open the window.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from console.syslibs import DEBIAN_PACKAGES  # noqa: E402 - after the path set-up

ELF_MAGIC = b"\x7fELF"
#: minimum versions kept from the hand-written Depends (glibc symbols PyInstaller's
#: bootloader and CPython were built against)
VERSIONS: Mapping[str, str] = {"libc6": ">= 2.31"}
_NEEDED = re.compile(r"^\s*NEEDED\s+(\S+)\s*$|\(NEEDED\)\s+Shared library: \[(\S+)\]")


class DependsError(Exception):
    """The Depends cannot be complete; the message names the libraries."""


#: Qt's own libraries (the PySide6 wheel's, never a Debian package: Debian's Qt is
#: another build). One the build does not bundle is needed only by a plugin for a
#: platform the app does not use (e.g. eglfs); that plugin cannot load, nothing else.
_QT_OWN = re.compile(r"^lib(Qt6|pyside6|shiboken6)")


@dataclass
class Needs:
    #: soname → the bundled files that need it
    system: dict[str, list[str]] = field(default_factory=dict)
    #: Qt's own libraries the build left out → the bundled files (plugins) that need them
    unbundled_qt: dict[str, list[str]] = field(default_factory=dict)


def elf_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as stream:
                if stream.read(4) == ELF_MAGIC:
                    yield path


def needed_of(path: Path) -> list[str]:
    """The ``NEEDED`` entries of one ELF file."""
    for tool in (["objdump", "-p"], ["readelf", "-d"]):
        if shutil.which(tool[0]) is None:
            continue
        result = subprocess.run([*tool, str(path)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            continue
        names = []
        for line in result.stdout.splitlines():
            match = _NEEDED.search(line)
            if match:
                names.append(match.group(1) or match.group(2))
        return names
    raise DependsError("neither objdump nor readelf is installed (Debian package binutils)")


def system_needs(folder: Path) -> Needs:
    """What the ELF files in ``folder`` need that no file in ``folder`` provides."""
    files = list(elf_files(folder))
    bundled = {p.name for p in folder.rglob("*")}
    needs = Needs()
    for path in files:
        for name in needed_of(path):
            if name not in bundled:
                into = needs.unbundled_qt if _QT_OWN.match(name) else needs.system
                into.setdefault(name, []).append(str(path.relative_to(folder)))
    return needs


def loader_paths() -> dict[str, str]:
    """soname → path, as the build machine's dynamic loader resolves it (x86-64 first)."""
    if shutil.which("ldconfig") is None and not Path("/sbin/ldconfig").exists():
        return {}
    command = shutil.which("ldconfig") or "/sbin/ldconfig"
    result = subprocess.run([command, "-p"], capture_output=True, text=True, check=False)
    found: dict[str, str] = {}
    for line in result.stdout.splitlines():
        name, _, rest = line.strip().partition(" (")
        if "=>" in rest and (name not in found or "x86-64" in rest):
            found[name] = rest.split("=>", 1)[1].strip()
    return found


def dpkg_owners(paths: Iterable[str]) -> dict[str, str]:
    """path → the installed package that owns it (one ``dpkg -S`` for all), without its
    architecture; paths no package owns are left out."""
    wanted = sorted(set(paths))
    if not wanted or shutil.which("dpkg") is None:
        return {}
    resolved = {str(Path(p).resolve()): p for p in wanted}
    result = subprocess.run(
        ["dpkg", "-S", *wanted, *(r for r in resolved if r not in wanted)],
        capture_output=True,
        text=True,
        check=False,
    )
    owners: dict[str, str] = {}
    for line in result.stdout.splitlines():  # "libxcb1:amd64: /usr/lib/…/libxcb.so.1"
        head, sep, path = line.partition(": ")
        if sep:
            package = head.split(",")[0].split(":")[0].strip()
            owners[resolved.get(path.strip(), path.strip())] = package
    return owners


def packages(
    sonames: Iterable[str],
    *,
    paths: Mapping[str, str] | None = None,
    owners: Callable[[Iterable[str]], Mapping[str, str]] = dpkg_owners,
    fallback: Mapping[str, str] = DEBIAN_PACKAGES,
) -> dict[str, str]:
    """soname → Debian package; raises :class:`DependsError` naming any left unmapped."""
    where = loader_paths() if paths is None else paths
    names = sorted(set(sonames))
    owned = owners([where[n] for n in names if n in where])
    mapped: dict[str, str] = {}
    unknown = []
    for name in names:
        path = where.get(name)
        package = (owned.get(path) if path else None) or fallback.get(name)
        if package is None:
            unknown.append(name)
        else:
            mapped[name] = package
    if unknown:
        raise DependsError(
            "no Debian package is known for "
            + ", ".join(unknown)
            + ": install it on the build machine (dpkg -S finds it) or add it to "
            "console/syslibs.py DEBIAN_PACKAGES"
        )
    return mapped


def depends_line(mapped: Mapping[str, str]) -> str:
    names = sorted(set(mapped.values()))
    return ", ".join(f"{n} ({VERSIONS[n]})" if n in VERSIONS else n for n in names)


def compute(folder: Path) -> str:
    """The Depends line for the frozen build in ``folder``."""
    needs = system_needs(folder)
    for name, users in sorted(needs.unbundled_qt.items()):
        print(
            f"depends: {name} is Qt's own and not bundled; {', '.join(sorted(users))} "
            "will not load (a plugin for a platform the app does not use)",
            file=sys.stderr,
        )
    return depends_line(packages(needs.system))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        print(compute(Path(argv[0])))
    except DependsError as error:
        print(f"packaging/depends.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
