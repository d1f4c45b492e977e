"""A search that finds nothing shows the list's empty state, on the whole page and in the
rows fragment htmx swaps in (the fragment is a block of its own: it must import what it
uses). Every list page of the sidebar, as the marketing manager."""

from __future__ import annotations

import pytest

LISTS = [
    "/research/plans/",
    "/research/surveys/",
    "/brand/activities/",
    "/brand/strategy/versions",
    "/sales/customers/",
    "/sales/opportunities",
    "/sales/products",
    "/contracts/",
    "/contracts/archive",
    "/expense/claims",
]


@pytest.mark.parametrize("url", LISTS)
def test_a_search_that_finds_nothing_shows_the_empty_state(login, url):
    client = login("manager")
    for htmx in (False, True):
        response = client.get(url + "?q=无此记录zq", htmx=htmx)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (url, htmx, page[-300:])
        assert "empty-state" in page, (url, htmx)
        assert ("<html" in page) is not htmx
