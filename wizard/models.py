"""Saved results will live here; the wizard itself keeps answers in the session."""
