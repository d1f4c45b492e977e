"""Sales routes: pipeline."""

from mktapp.sales import bp  # noqa: F401
