"""The Services tab: the dependency map (layered, searchable, zoomable), blast radius and
suspects highlighting, the side panel, SVG/PNG export and the GUI catalog import.

Loaded by ``MainWindow.attach`` (never at start-up): the first paint does not wait for it.
"""
