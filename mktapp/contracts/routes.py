"""Contract routes."""

from mktapp.contracts import bp  # noqa: F401
