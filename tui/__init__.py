"""Textual monitor for the error journal."""
