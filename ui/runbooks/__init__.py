"""The runbooks area: library search, the safe viewer, follow mode and GUI import.

Loaded by ``MainWindow.attach`` (never at start-up): the first paint does not wait for it.
"""
