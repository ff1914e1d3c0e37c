"""Supervision (督办): the deadline sweep (warnings, overdue, urging, escalation), manual urging and
supervision orders answered by the unit."""
