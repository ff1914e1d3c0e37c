"""Bringing requests in from files (工单导入)."""
