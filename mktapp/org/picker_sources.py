"""The organisation's record picker (core/pickers): the people who work here.

Registered with the app when the org blueprint is (`register`, from routes); a form field
names it: PickerField(source="people").
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from mktapp.core import pickers
from mktapp.core.permissions import visible
from mktapp.models import User


def _people(user):
    """Active accounts (record rule: everyone signed in sees the organisation)."""
    return visible(select(User).where(User.active.is_(True)), user, User).options(
        joinedload(User.post), joinedload(User.group)
    )


def _detail(person: User) -> str:
    parts = [person.username]
    if person.post is not None:
        parts.append(person.post.name)
    if person.group is not None:
        parts.append(person.group.name)
    return " · ".join(parts)


PEOPLE = pickers.PickerSource(
    name="people",
    model=User,
    query=_people,
    label=lambda u: u.display_name,
    columns=(User.display_name, User.username),
    detail=_detail,
)


def register(state) -> None:
    """Called once when the org blueprint is registered on an app."""
    pickers.register(state.app, PEOPLE)
