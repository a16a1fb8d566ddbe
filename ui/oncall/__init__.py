"""The On call tab: emergency view (escalation chain for a service) and the People panel."""
