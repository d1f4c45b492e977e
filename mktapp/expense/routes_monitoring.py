"""Monitoring (P6.3): built by helper G; a placeholder until merged."""
