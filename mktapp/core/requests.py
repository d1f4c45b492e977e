"""What a request may carry to the database, checked at one place for every route.

- Text: a NUL byte or a lone surrogate ("a\\x00b", "\\ud800") is something no person
  typed and PostgreSQL refuses to store (a 500). The query string is cleaned of them
  (a search for "a\\x00b" searches "ab"); so is a posted form, and the names of the fields
  that carried one are kept in `request.refused_fields` for core.forms.AppForm, which
  answers them with a message at the field instead of saving the cleaned text.
- Whole numbers: `request.args.get("page", type=int)` (and getlist, and the same on
  request.form) gives a number within the database's integer range, so an id of
  9999999999999999999999999 is "not found" and page 99999999999999999999 the last page,
  never an overflow; an `<int:…>` in a URL past that range is a 404.
"""

from __future__ import annotations

import re

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter
from werkzeug.utils import cached_property

INT_MAX = 2**31 - 1  # the integer columns (ids, counts, pages) of both databases
UNSAVEABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: str) -> str:
    """`value` without NUL bytes and lone surrogates."""
    return UNSAVEABLE.sub("", value)


def bounded_int(value) -> int:
    """int(value) brought within INT_MAX either way (ValueError when it is no number)."""
    number = int(value)
    return max(-INT_MAX, min(INT_MAX, number))


class BoundedValues(ImmutableMultiDict):
    """A query string or a posted form: `type=int` conversions stay in the integer range."""

    def get(self, key, default=None, type=None):  # noqa: A002  (werkzeug's signature)
        if type is int:
            return super().get(key, default, bounded_int)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        return super().getlist(key, bounded_int if type is int else type)


def _cleaned(values, refused: set[str] | None = None) -> BoundedValues:
    pairs = []
    for key, value in values.items(multi=True):
        if isinstance(value, str) and UNSAVEABLE.search(value):
            if refused is not None:
                refused.add(clean_text(key))
            value = clean_text(value)
        pairs.append((clean_text(key) if isinstance(key, str) else key, value))
    return BoundedValues(pairs)


class SafeRequest(Request):
    """The app's request class (Flask.request_class)."""

    parameter_storage_class = BoundedValues

    @cached_property
    def args(self) -> BoundedValues:
        return _cleaned(super().args)

    @cached_property
    def refused_fields(self) -> set[str]:
        """Names of posted fields whose text carried what cannot be saved (see above)."""
        self.form  # noqa: B018  (loading the form fills this in)
        return self.__dict__.get("_refused", set())

    def _load_form_data(self) -> None:
        super()._load_form_data()
        refused: set[str] = set()
        self.__dict__["form"] = _cleaned(self.__dict__["form"], refused)
        self.__dict__["_refused"] = refused


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` in a URL: a number past the integer columns' range does not match (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=INT_MAX, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app) -> None:
    app.request_class = SafeRequest
    app.url_map.converters["int"] = BoundedIntConverter
