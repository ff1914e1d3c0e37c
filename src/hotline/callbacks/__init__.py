"""Callbacks (回访): a task per accepted reply, attempts, the not-reached rule, reopening on a bad verdict."""
