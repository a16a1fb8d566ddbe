"""Locate the shipped resources/ folder (source tree, installed, or frozen build)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

RESOURCES_ENV = "RESPONDER_CONSOLE_RESOURCES"


def resources_dir() -> Path:
    override = os.environ.get(RESOURCES_ENV)
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"
