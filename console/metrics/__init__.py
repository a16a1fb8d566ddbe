"""Incident metrics: time to detect, acknowledge, mitigate and resolve per incident
and across incidents, counts by severity, service and month, and action items open
and overdue. Computed, never stored: a few SQL reads in one snapshot
(:func:`read_metrics`), then pure Python (:mod:`console.metrics.report`). The
response times are the postmortem's (``console.comms.response``), so both say the
same thing about an incident."""

from console.metrics.read import MetricsFilter, read_metrics
from console.metrics.report import (
    MEASURES,
    ActionCounts,
    IncidentMetrics,
    MetricsReport,
    MonthRow,
    Summary,
    format_span,
    report_json,
    report_text,
)

__all__ = [
    "MEASURES",
    "ActionCounts",
    "IncidentMetrics",
    "MetricsFilter",
    "MetricsReport",
    "MonthRow",
    "Summary",
    "format_span",
    "read_metrics",
    "report_json",
    "report_text",
]
