"""Responder Console core: domain, storage, operations and CLI. Never imports Qt."""

__version__ = "0.1.0"
