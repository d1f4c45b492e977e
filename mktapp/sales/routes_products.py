"""Sales routes: products."""

from mktapp.sales import bp  # noqa: F401
