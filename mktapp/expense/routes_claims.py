"""Expense claims (P6.2): built by helper F; this placeholder keeps the blueprint importable."""
