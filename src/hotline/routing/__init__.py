"""Dispatch suggestions: which unit should handle a ticket (派单目录 first, then the 兜底 fallback)."""
