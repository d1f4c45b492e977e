"""Locale and time-zone choice, and the display filters (money, dates) every template uses."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import wraps

from flask import current_app, g, has_request_context, request, session
from flask_babel import Domain, format_date, format_datetime, get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

from mktapp.core import clock

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
    if not has_request_context():  # the CLI (demo data, scans): the default language
        return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans")
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


DATETIME_FORMAT = "yyyy-MM-dd HH:mm"
DATE_FORMAT = "yyyy-MM-dd"


def local_datetime(value: datetime | None, fmt: str = DATETIME_FORMAT) -> str:
    """A moment as the company reads it. The default, all digits, is the same in every
    language: written directly (Babel's pattern formatting costs a list of a hundred
    rows a few milliseconds)."""
    if not value:
        return ""
    if fmt == DATETIME_FORMAT:
        return clock.local(value).strftime("%Y-%m-%d %H:%M")
    return format_datetime(value, fmt)


def local_date(value: date | datetime | None, fmt: str = DATE_FORMAT) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if fmt == DATE_FORMAT:
            return clock.local(value).date().isoformat()
        return format_datetime(value, fmt)
    if fmt == DATE_FORMAT:
        return value.isoformat()
    return format_date(value, fmt)


# --- translations, looked up once per request ----------------------------------------
#
# Flask-Babel finds the catalogue anew on every gettext call (the request's context,
# domain and locale, each through Flask's context proxies, and the locale's name as a
# cache key): a page with a hundred strings paid for it a hundred times. The catalogue
# is remembered in Flask-Babel's own per-request namespace together with the locale
# object and domain it was found for, so flask_babel.force_locale() and refresh(),
# which replace or drop that locale, are obeyed.


class RequestCachedDomain(Domain):
    """Flask-Babel's domain, remembering the request's catalogue (lazy_gettext, gettext)."""

    def get_translations(self):
        try:
            ctx = g._flask_babel
            hit = ctx.mktapp_translations
            if hit[0] is ctx.babel_locale and hit[1] is self:
                return hit[2]
        except (AttributeError, RuntimeError):  # first call, or outside a request
            pass
        translations = super().get_translations()
        try:
            g._flask_babel.mktapp_translations = (g._flask_babel.babel_locale, self, translations)
        except (AttributeError, RuntimeError):
            pass
        return translations


def _catalogue():
    try:
        ctx = g._flask_babel
        hit = ctx.mktapp_translations
        if hit[0] is ctx.babel_locale and hit[1] is ctx.babel_domain:
            return hit[2]
    except (AttributeError, RuntimeError):
        pass
    return get_translations()


def per_language(fn):
    """Remember a no-argument function's result per translation catalogue: for lists of
    labels (role names) that only change with the language. Callers get a copy."""
    memo: dict = {}

    @wraps(fn)
    def wrapper():
        key = _catalogue()
        hit = memo.get(key)
        if hit is None:
            if len(memo) >= 16:  # catalogues are few; outside a request each call makes one
                memo.clear()
            hit = memo[key] = fn()
        return hit.copy()

    return wrapper


@pass_eval_context
def template_gettext(eval_ctx, __string: str, **variables) -> str:
    """Templates' _() and gettext(): Jinja's new-style gettext, minus two call layers."""
    rv = _catalogue().ugettext(__string)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    # Like Jinja's: always a format string, so "%%" means "%" with or without variables
    # (a text without "%" and without variables is its own result: no formatting).
    return rv % variables if variables or "%" in rv else rv


def init_app(app) -> None:
    babel = app.extensions["babel"].instance
    babel.domain_instance = RequestCachedDomain(domain=app.config.get("BABEL_DOMAIN", "messages"))
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext)
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["dt"] = local_datetime
    app.jinja_env.filters["d"] = local_date
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.add_extension("jinja2.ext.do")


# --- amounts in Chinese capitals (报销单, 合同) ---------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def _four_digits(value: int) -> str:
    out, zero = "", False
    for place, unit in ((1000, "仟"), (100, "佰"), (10, "拾"), (1, "")):
        digit = value // place % 10
        if digit == 0:
            zero = bool(out)
        else:
            if zero:
                out += "零"
                zero = False
            out += _DIGITS[digit] + unit
    return out


def amount_in_chinese(value: Decimal | int | str) -> str:
    """An amount in Chinese capitals as written on a 报销单.

    1234.5 -> 壹仟贰佰叁拾肆元伍角; 1005 -> 壹仟零伍元整; 100010 -> 壹拾万零壹拾元整;
    0.05 -> 伍分; 0 -> 零元整. Rounded half-up to the fen.
    """
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "负" if amount < 0 else ""
    amount = abs(amount)
    cents = int(amount * 100)
    whole, fraction = divmod(cents, 100)
    jiao, fen = divmod(fraction, 10)
    if whole == 0 and fraction == 0:
        return "零元整"
    text = ""
    if whole:
        yi, rest = divmod(whole, 10**8)
        wan, unit = divmod(rest, 10**4)
        started, gap = False, False
        for part, name in ((yi, "亿"), (wan, "万"), (unit, "")):
            if part == 0:
                gap = gap or started
                continue
            if started and (gap or part < 1000):
                text += "零"
            text += _four_digits(part) + name
            started, gap = True, False
        text += "元"
    if fraction == 0:
        return sign + text + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif whole:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    return sign + text
