"""Locale and time-zone choice, and the display filters (money, dates) every template uses."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app, request, session
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

SUPPORTED = ("zh_Hans", "en")
LANGUAGE_NAMES = {"zh_Hans": "简体中文", "en": "English"}


def normalise(tag: str | None) -> str | None:
    """Map a browser language tag (zh-CN, zh, en-GB ...) to a supported locale."""
    if not tag:
        return None
    tag = tag.replace("-", "_")
    if tag in SUPPORTED:
        return tag
    lower = tag.lower()
    if lower.startswith("zh"):
        return "zh_Hans"
    if lower.startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    """The user's preference, then the session's choice, then Accept-Language."""
    if current_user and getattr(current_user, "is_authenticated", False):
        chosen = normalise(current_user.locale)
        if chosen:
            return chosen
    chosen = normalise(session.get("locale"))
    if chosen:
        return chosen
    for tag, _quality in request.accept_languages:
        chosen = normalise(tag)
        if chosen:
            return chosen
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans")


def select_timezone() -> str:
    return current_app.config.get("TIMEZONE", "Asia/Shanghai")


def html_lang() -> str:
    """The <html lang> value for the current locale (BCP 47)."""
    return str(get_locale()).replace("_", "-")


def money(value, currency: str = "¥") -> str:
    """¥1,234.50 — money is Decimal, rounded half-up to cents for display."""
    if value is None or value == "":
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}{currency}{abs(amount):,.2f}"


def local_datetime(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    return format_datetime(value, fmt) if value else ""


def local_date(value: date | datetime | None, fmt: str = "yyyy-MM-dd") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, fmt)
    return format_date(value, fmt)


def init_app(app) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["dt"] = local_datetime
    app.jinja_env.filters["d"] = local_date
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.add_extension("jinja2.ext.do")
