"""Sales routes: followups."""

from mktapp.sales import bp  # noqa: F401
