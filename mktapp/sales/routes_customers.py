"""Sales routes: customers."""

from mktapp.sales import bp  # noqa: F401
