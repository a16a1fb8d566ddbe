"""The startup floor: the least a PySide6 program does to paint a main window.

QApplication + QMainWindow with a QLabel; after the window's first paint event
it prints ``first-paint`` on the next event-loop turn (the line and the moment
``ui.app.run`` uses when RESPONDER_CONSOLE_BENCH_FIRST_PAINT is set) and quits.
Run it as a script:
``python tests/benchmarks/bare_window.py``.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


class BareWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self._painted = False
        self.setWindowTitle("Responder Console")
        self.setCentralWidget(QLabel("Responder Console", self))
        self.resize(1280, 800)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            # like ui.app's hook: report once this paint (and its flush) completed
            QTimer.singleShot(0, _report)


def _report() -> None:
    print("first-paint", flush=True)
    QApplication.quit()


def main() -> int:
    app = QApplication(sys.argv)
    window = BareWindow()
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
