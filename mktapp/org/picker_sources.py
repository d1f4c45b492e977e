"""The organisation's record pickers (core/pickers): the people who work here.

Registered with the app when the org blueprint is (`register`, from routes); a form field
names one: PickerField(source="people"). Other chapters build their own lists of people
(the sales reps one may hand a customer to ...) with `people_source`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import false, or_, select
from sqlalchemy.orm import joinedload

from mktapp.core import pickers
from mktapp.core.permissions import visible
from mktapp.models import Group, TrainingRecord, User
from mktapp.org.training import manages_training


def _detail(person: User) -> str:
    parts = [person.username]
    if person.post is not None:
        parts.append(person.post.name)
    if person.group is not None:
        parts.append(person.group.name)
    return " · ".join(parts)


def people_source(
    name: str,
    query: Callable,
    permissions: tuple[str, ...] = (),
    scoped: bool = False,
) -> pickers.PickerSource:
    """A picker source of people: `query(user)` (or `query(user, scope)`) is a select() of
    User narrowed to the ones to choose from; found by name or username, labelled by
    name, with username, post and group beside."""

    def _query(*args):
        return query(*args).options(joinedload(User.post), joinedload(User.group))

    return pickers.PickerSource(
        name=name,
        model=User,
        query=_query,
        label=lambda u: u.display_name,
        columns=(User.display_name, User.username),
        detail=_detail,
        permissions=permissions,
        scoped=scoped,
    )


def _people(user):
    """Active accounts (record rule: everyone signed in sees the organisation)."""
    return visible(select(User).where(User.active.is_(True)), user, User)


def _group_members(user, scope):
    """The active members of one group (its possible leaders)."""
    group_id = pickers.as_id(scope)
    if group_id is None:
        return select(User).where(false())
    groups = visible(select(Group.id).where(Group.id == group_id), user, Group)
    return _people(user).where(User.group_id == group_id, User.group_id.in_(groups))


def _trainees(user, scope):
    """Whom this user may record training for: anyone active (managers), else themself;
    scope: the record's trainee, who stays on it though no longer active."""

    if not manages_training(user):
        return select(User).where(User.id == user.id)
    current = pickers.as_id(scope)
    if current is None:
        return _people(user)
    return visible(select(User).where(or_(User.active.is_(True), User.id == current)), user, User)


def _training_people(user):
    """The people whose training records this user can see (the list's person filter)."""

    owners = visible(select(TrainingRecord.owner_id), user, TrainingRecord)
    return select(User).where(User.id.in_(owners))


PEOPLE = people_source("people", _people)
GROUP_MEMBERS = people_source("group_members", _group_members, scoped=True)
TRAINEES = people_source("trainees", _trainees, scoped=True)
TRAINING_PEOPLE = people_source("training_people", _training_people)


def register(state) -> None:
    """Called once when the org blueprint is registered on an app."""
    for source in (PEOPLE, GROUP_MEMBERS, TRAINEES, TRAINING_PEOPLE):
        pickers.register(state.app, source)
