"""The On call tab: the emergency view (who to call for a service) and the People panel."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from console.oncall import directory_for
from ui.context import UiContext
from ui.oncall.emergency import EmergencyView
from ui.oncall.people import PeoplePanel


class OnCallArea(QWidget):
    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("oncallArea")
        self.directory = directory_for(context.workspace)
        self.emergency = EmergencyView(context, self.directory, self)
        self.people = PeoplePanel(context, self.directory, self)
        self.pages = QTabWidget(self)
        self.pages.setObjectName("oncallPages")
        self.pages.addTab(self.emergency, "Emergency: who to call")
        self.pages.addTab(self.people, "People")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

    def start(self) -> None:
        self.emergency.start()
        self.people.run_search()

    def show_emergency(self) -> None:
        self.pages.setCurrentWidget(self.emergency)
        self.emergency.focus_service()

    def show_people(self) -> None:
        self.pages.setCurrentWidget(self.people)
        self.people.focus_search()

    def print_chain(self) -> None:
        self.pages.setCurrentWidget(self.emergency)
        self.emergency.print_chain()
