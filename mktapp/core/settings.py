"""Company settings the administrator may change: thresholds and switches.

A chapter declares each setting once with register(); the settings page lists
them all; get() reads the stored value or the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from mktapp.extensions import db
from mktapp.models import Setting


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: Any
    default: Any
    kind: str = "money"  # money / bool / int
    help: Any = ""
    group: Any = ""


REGISTRY: dict[str, SettingSpec] = {}


class InvalidSetting(ValueError):
    pass


def register(spec: SettingSpec) -> SettingSpec:
    REGISTRY[spec.key] = spec
    return spec


def parse(spec: SettingSpec, raw: Any) -> Any:
    """Turn a stored or submitted text into the setting's type; InvalidSetting if it is not."""
    if spec.kind == "bool":
        return str(raw).strip().lower() in {"1", "true", "yes", "on", "y"}
    if spec.kind == "int":
        try:
            value = int(str(raw).strip())
        except ValueError as error:
            raise InvalidSetting("not a whole number") from error
        if value < 0:
            raise InvalidSetting("negative")
        return value
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation as error:
        raise InvalidSetting("not an amount") from error
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise InvalidSetting("out of range")
    if value != value.quantize(Decimal("0.01")):
        raise InvalidSetting("more than two decimals")
    return value.quantize(Decimal("0.01"))


def get(key: str) -> Any:

    spec = REGISTRY[key]
    raw = db.session.scalar(select(Setting.value).where(Setting.key == key))
    if raw is None:
        return spec.default
    try:
        return parse(spec, raw)
    except InvalidSetting:
        return spec.default


def set_value(key: str, raw: Any) -> Any:
    """Store a setting (validated); the change is in the audit log."""

    spec = REGISTRY[key]
    value = parse(spec, raw)
    row = db.session.scalar(select(Setting).where(Setting.key == key))
    text = ("1" if value else "0") if spec.kind == "bool" else str(value)
    if row is None:
        db.session.add(Setting(key=key, value=text))
    elif row.value != text:
        row.value = text
    return value


def all_settings() -> list[tuple[SettingSpec, Any]]:
    return [(spec, get(spec.key)) for spec in REGISTRY.values()]
