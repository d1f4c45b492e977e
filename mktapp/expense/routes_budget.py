"""Budgets (P6.1): built by helper G; a placeholder until merged."""
