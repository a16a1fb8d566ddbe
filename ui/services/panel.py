"""The side panel of the dependency map: what a responder asks about one service.

Owner, on call, description, PagerDuty id and links, the runbooks that name the
service, the open incidents that name it, its blast radius and suspects (each
clickable), and where the catalog entry came from and how old it is.

The **On call** section is its own widget, put in place with
:meth:`ServicePanel.set_on_call_widget` (the map's area uses
:class:`ui.services.on_call.ServiceOnCall`, which reads the on-call cache).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QLabel,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from console.domain.catalog import ServiceDetails, ServiceNode
from console.domain.freshness import describe_age
from console.graph.traversal import Reach
from ui.theme import link_css, theme_notifier

#: services listed per section before "… and N more"
LISTED = 60


class ServicePanel(QWidget):
    #: int service id — a service named in the panel was clicked
    service_requested = Signal(int)
    #: int runbook id — open it in the Runbooks tab
    runbook_requested = Signal(int)
    #: int incident id — show it
    incident_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("servicePanel")
        self.node: ServiceNode | None = None
        self.details: ServiceDetails | None = None
        self.title = QLabel(self)
        self.title.setObjectName("paneTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = QLabel(self)
        self.subtitle.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle.setWordWrap(True)
        self.subtitle.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.on_call: QWidget = QWidget(self)  # replaced by set_on_call_widget
        self.browser = QTextBrowser(self)
        self.browser.setObjectName("serviceDetails")
        self.browser.setOpenLinks(False)
        self.browser.setAccessibleName("Service details")
        self.browser.anchorClicked.connect(self._on_anchor)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 0, 0, 0)
        self._layout.addWidget(self.title)
        self._layout.addWidget(self.subtitle)
        self._layout.addWidget(self.on_call)
        self._layout.addWidget(self.browser, 1)
        self._now: datetime | None = None
        self._message = ""
        self.show_nothing("Select a service on the map, or type its name above.")
        theme_notifier().changed.connect(self._restyle)

    def set_on_call_widget(self, widget: QWidget) -> None:
        """Put the real on-call answer where the placeholder is."""
        self._layout.replaceWidget(self.on_call, widget)
        self.on_call.deleteLater()
        self.on_call = widget

    # ------------------------------------------------------------------ content

    def show_nothing(self, message: str) -> None:
        self.node = self.details = None
        self.title.setText("No service selected")
        self.subtitle.setText(message)
        self._message = message
        self._set_html(f"<p>{html.escape(message)}</p>")
        self._dependents: list[Reach[int]] = []
        self._suspects: list[Reach[int]] = []
        self._nodes: dict[int, ServiceNode] = {}

    def show_selection(
        self,
        node: ServiceNode,
        dependents: Sequence[Reach[int]],
        suspects: Sequence[Reach[int]],
        nodes: dict[int, ServiceNode],
        now: datetime,
    ) -> None:
        """At once, from the map's graph; the details follow from the reader lane."""
        self.node, self.details = node, None
        self._dependents, self._suspects, self._nodes = list(dependents), list(suspects), nodes
        self.title.setText(node.title or node.label)
        facts = [node.kind + (f" ({node.spec_type})" if node.spec_type else "")]
        if node.system_label:
            facts.append(f"system {node.system_label}")
        if node.tier:
            facts.append(node.tier)
        if node.lifecycle:
            facts.append(node.lifecycle)
        self.subtitle.setText(" · ".join(facts) + f"\n{node.display_ref}")
        self._render(now)

    def show_details(self, details: ServiceDetails, now: datetime) -> None:
        if self.node is None or details.node.id != self.node.id:
            return  # the selection moved on while it loaded
        self.details = details
        self._render(now)

    def _set_html(self, text: str) -> None:
        # links in the palette's link colour: the document bakes it in at setHtml
        self.browser.document().setDefaultStyleSheet(link_css())
        self.browser.setHtml(text)

    @Slot(bool)
    def _restyle(self, _dark: bool) -> None:
        """A live theme switch: the text again, with the new link colour."""
        if self.node is not None and self._now is not None:
            self._render(self._now)
        else:
            self._set_html(f"<p>{html.escape(self._message)}</p>")

    def _render(self, now: datetime) -> None:
        self._now = now
        node, details = self.node, self.details
        assert node is not None
        parts: list[str] = []
        owner = _owner_html(node, details)
        parts.append(f"<p><b>Owner:</b> {owner}</p>")
        if details is None:
            parts.append("<p><i>Loading details…</i></p>")
        else:
            if details.description:
                parts.append(f"<p>{html.escape(details.description)}</p>")
            parts.append(_incidents_html(details))
            parts.append(_runbooks_html(details))
        parts.append(self._reach_html("Blast radius", "depends on it", self._dependents))
        parts.append(self._reach_html("Suspects", "it depends on", self._suspects))
        if details is not None:
            parts.append(_facts_html(details, now))
        self._set_html("".join(parts))

    def _reach_html(self, title: str, meaning: str, reached: Sequence[Reach[int]]) -> str:
        head = f"<h3>{title} — {len(reached)} {html.escape(meaning)}</h3>"
        if not reached:
            return head + "<p><i>None.</i></p>"
        rows = []
        for item in reached[:LISTED]:
            node = self._nodes.get(item.node)
            if node is None:
                continue
            owner = f" <small>({html.escape(node.owner)})</small>" if node.owner else ""
            rows.append(
                f"<li>{item.depth} · <a href='service:{node.id}'>{html.escape(node.label)}</a>"
                f" <small>{html.escape(node.kind)}</small>{owner}</li>"
            )
        more = len(reached) - LISTED
        tail = f"<p>… and {more} more.</p>" if more > 0 else ""
        return f"{head}<ul>{''.join(rows)}</ul>{tail}"

    # ------------------------------------------------------------------ links

    @Slot(QUrl)
    def _on_anchor(self, url: QUrl) -> None:
        kind, _, value = url.toString().partition(":")
        if kind == "service" and value.isdigit():
            self.service_requested.emit(int(value))
        elif kind == "runbook" and value.isdigit():
            self.runbook_requested.emit(int(value))
        elif kind == "incident" and value.isdigit():
            self.incident_requested.emit(int(value))
        elif kind in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)  # shown in full before it is clicked


def _owner_html(node: ServiceNode, details: ServiceDetails | None) -> str:
    if details is not None and details.owner is not None:
        owner = details.owner
        name = html.escape(owner.title or owner.name)
        extra = f" ({html.escape(owner.name)})" if owner.title else ""
        mail = (
            f" — <a href='mailto:{html.escape(owner.email)}'>{html.escape(owner.email)}</a>"
            if owner.email
            else ""
        )
        return f"{name}{extra}{mail}"
    if node.owner:
        return html.escape(node.owner)
    return "<i>none in the catalog</i>"


def _incidents_html(details: ServiceDetails) -> str:
    head = f"<h3>Open incidents naming it — {len(details.incidents)}</h3>"
    if not details.incidents:
        return head + "<p><i>None.</i></p>"
    rows = "".join(
        f"<li><a href='incident:{i.id}'>{html.escape(i.severity)} · {html.escape(i.title)}</a>"
        f" <small>({html.escape(i.status)})</small></li>"
        for i in details.incidents
    )
    return f"{head}<ul>{rows}</ul>"


def _runbooks_html(details: ServiceDetails) -> str:
    head = f"<h3>Runbooks — {len(details.runbooks)}</h3>"
    if not details.runbooks:
        return head + "<p><i>No runbook names this service.</i></p>"
    rows = "".join(
        f"<li><a href='runbook:{r.id}'>{html.escape(r.title)}</a></li>" for r in details.runbooks
    )
    return f"{head}<ul>{rows}</ul>"


def _facts_html(details: ServiceDetails, now: datetime) -> str:
    rows: list[str] = []
    if details.pagerduty_service_id:
        rows.append(f"PagerDuty service: <b>{html.escape(details.pagerduty_service_id)}</b>")
    for link in details.links:
        url = str(link.get("url", ""))
        title = str(link.get("title", url))
        if url.startswith(("http://", "https://")):
            label = html.escape(title) + (f" — {html.escape(url)}" if title != url else "")
            rows.append(f"<a href='{html.escape(url)}'>{label}</a>")
        else:
            rows.append(f"{html.escape(title)} — {html.escape(url)}")
    for key, value in sorted(details.annotations.items()):
        if key != "pagerduty.com/service-id" and "integration-key" not in key:
            rows.append(f"<small>{html.escape(key)}: {html.escape(value)}</small>")
    if details.tags:
        rows.append("Tags: " + html.escape(", ".join(details.tags)))
    origin = html.escape(details.source_file or details.source)
    age = describe_age(details.imported_at, now)
    rows.append(f"<small>From {origin}, imported {age}</small>")
    items = "".join(f"<li>{row}</li>" for row in rows)
    return f"<h3>Catalog entry</h3><ul>{items}</ul>"
