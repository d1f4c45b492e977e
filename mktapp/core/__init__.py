"""Machinery that knows no chapter: htmx rendering, permissions, audit, files, PDF, ..."""
