"""Saved results live here (the share-link issue); the wizard itself keeps answers in the session."""
