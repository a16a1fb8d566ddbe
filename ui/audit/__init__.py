"""The Readiness tab (the readiness audit, console.audit)."""
