"""``graph_first_paint_2k``'s child: open the Services map on a workspace, print
``first-paint`` once the map (every service laid out and drawn) has been painted,
then one ``map-timings {json}`` line, and exit.

The same path as the window: the workspace is open and the Services tab exists
(as after ``MainWindow.attach``); then the map is opened — ``ServicesArea.start``
on the next event-loop turn, the read, layout and edge paths on the reader lane of
the real task runner, the scene built and painted on the GUI thread — and
``map_open_to_paint_ms`` is the time from that call to the end of the first paint
showing the map. Run as a script: ``python tests/benchmarks/map_window.py DATA_DIR``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

START = time.perf_counter()

from PySide6.QtCore import QTimer  # noqa: E402 - the clock starts before the imports
from PySide6.QtWidgets import QApplication, QMainWindow  # noqa: E402


def main() -> int:
    app = QApplication(sys.argv[:1])
    imported = time.perf_counter()
    from console.domain.clock import utc_now
    from console.ops.workspace import Workspace
    from ui.context import UiContext
    from ui.events import AppEvents
    from ui.services.area import ServicesArea
    from ui.tasks import TaskRunner

    workspace = Workspace.open(Path(sys.argv[1]), actor="bench")
    opened = time.perf_counter()
    runner = TaskRunner()
    context = UiContext(workspace, runner, AppEvents(), utc_now)
    window = QMainWindow()
    area = ServicesArea(context, window)
    window.setCentralWidget(area)
    window.resize(1280, 800)
    marks: dict[str, float] = {"qt_import_and_app_ms": imported, "workspace_open_ms": opened}
    shown: list[float] = []

    def on_shown() -> None:
        shown.append(time.perf_counter())
        area.view.painted.connect(on_painted)
        area.view.viewport().update()

    def on_painted() -> None:
        area.view.painted.disconnect(on_painted)
        QTimer.singleShot(0, done)  # the paint and its flush completed

    def begin() -> None:
        marks["map_opened_ms"] = time.perf_counter()
        area.start()

    def done() -> None:
        painted = time.perf_counter()
        sys.stdout.write("first-paint\n")
        sys.stdout.flush()
        data = area.data
        assert data is not None
        timings = {key: round((value - START) * 1000, 1) for key, value in marks.items()}
        timings.update({key: round(value, 1) for key, value in data.timings.items()})
        timings["map_shown_at_ms"] = round((shown[0] - START) * 1000, 1)
        timings["painted_at_ms"] = round((painted - START) * 1000, 1)
        timings["map_open_to_paint_ms"] = round((painted - marks["map_opened_ms"]) * 1000, 1)
        timings["services"] = len(data.graph.nodes)
        timings["edges"] = len(data.graph.edges)
        sys.stdout.write("map-timings " + json.dumps(timings) + "\n")
        sys.stdout.flush()
        app.exit(0)

    area.map_shown.connect(on_shown)
    window.show()
    QTimer.singleShot(0, begin)
    code = app.exec()
    runner.shutdown()
    workspace.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
