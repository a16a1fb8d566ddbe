"""The window side of sync: automatic passes, the Sync tab, the account settings.

Public API: :class:`SyncController` (runs the core's passes off the GUI thread),
:class:`SyncPanel` (the Sync tab) and :class:`AccountDialog`.
"""
