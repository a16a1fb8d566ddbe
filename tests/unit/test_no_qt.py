"""Importing every core module in a fresh interpreter never loads Qt."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import pkgutil, importlib, sys
import console
for info in pkgutil.walk_packages(console.__path__, 'console.'):
    if info.name.endswith('__main__') or '.migrations' in info.name:
        continue
    importlib.import_module(info.name)
leaked = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'ui'))]
print(','.join(leaked))
"""


def test_core_imports_no_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
