"""Communication and postmortem dialogs (issue 6): draft update, postmortem editor with
action items, the overdue action items banner, PDF export."""
