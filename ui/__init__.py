"""Qt client of the core: widgets, item models, dialogs and the task runner.

Importing this package must stay cheap and Qt-free so that CLI commands started
through the ``responder-console`` entry point never load Qt.
"""
