"""People and organisation (P1, P7): users, roles, groups, posts, policy, training."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    true,
)
from sqlalchemy import true as sql_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mktapp.core.permissions import can, owner_rule
from mktapp.extensions import db
from mktapp.models.base import (
    ArchivableMixin,
    OwnedMixin,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
)

ROLE_CODES = (
    "admin",
    "marketing_manager",
    "market_specialist",
    "sales_rep",
    "service_agent",
    "finance",
    "executive",
)

user_roles = Table(
    "user_roles",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class Role(db.Model):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<Role {self.code}>"


class Group(VersionedMixin, TimestampMixin, db.Model):
    """市场组 / 业务组 / 客服组: a group of the marketing department, with its leader."""

    __tablename__ = "groups"
    __fragment_versions__ = ("people",)  # shown in cached lists (core/fragments.py)
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, name="fk_groups_leader_id_users"), nullable=True
    )
    sort: Mapped[int] = mapped_column(Integer, default=0)

    leader: Mapped[User | None] = relationship(foreign_keys=[leader_id], post_update=True)
    members: Mapped[list[User]] = relationship(
        back_populates="group", foreign_keys="User.group_id", order_by="User.display_name"
    )

    @classmethod
    def visible_to(cls, user):
        """Every signed-in person may see the organisation (P1)."""
        return sql_true()


class Post(VersionedMixin, TimestampMixin, db.Model):
    """岗位: a post in the department and its duties (P1.2)."""

    __tablename__ = "posts"
    __fragment_versions__ = ("people",)  # shown in cached lists (core/fragments.py)
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    duties: Mapped[str] = mapped_column(Text, default="")
    sort: Mapped[int] = mapped_column(Integer, default=0)

    holders: Mapped[list[User]] = relationship(back_populates="post")

    @classmethod
    def visible_to(cls, user):
        """Every signed-in person may see the organisation (P1)."""
        return sql_true()

    @property
    def duty_lines(self) -> list[str]:
        return [line.strip() for line in self.duties.splitlines() if line.strip()]


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __fragment_versions__ = ("people",)  # shown in cached lists (core/fragments.py)
    __audited__ = True
    __audit_exclude__ = ("password_hash", "last_login_at", "updated_at", "locale")
    __audit_relations__ = {"roles": "code"}

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(80), index=True)
    email: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10), nullable=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    joined_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    roles: Mapped[list[Role]] = relationship(
        secondary=user_roles, lazy="selectin", order_by="Role.sort"
    )
    group: Mapped[Group | None] = relationship(back_populates="members", foreign_keys=[group_id])
    post: Mapped[Post | None] = relationship(back_populates="holders")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    @property
    def role_codes(self) -> set[str]:
        # load_user reads the codes with the user (one query); once the roles
        # relationship is loaded (or changed) it is the truth.
        loaded = self.__dict__.get("_loaded_role_codes")
        if loaded is not None and "roles" not in self.__dict__:
            return set(loaded)
        return {r.code for r in self.roles}

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes.intersection(codes))

    @property
    def leads_group(self) -> Group | None:
        if self.group is not None and self.group.leader_id == self.id:
            return self.group
        return None

    def __repr__(self) -> str:
        return f"<User {self.username}>"

    @classmethod
    def visible_to(cls, user):
        """Every signed-in person may see the organisation (P1)."""
        return sql_true()


# The few deactivated accounts, indexed on their own: the directory counts the active
# people as all minus these, which both databases answer from indexes alone, instead
# of reading every row to test `active`. A plain index on `active` would not help:
# without statistics SQLite would use it to find the active rows and sort them.
Index(
    "ix_users_inactive",
    User.id,
    sqlite_where=User.active.is_(False),
    postgresql_where=User.active.is_(False),
)


class PolicyChapter(VersionedMixin, TimestampMixin, db.Model):
    """One chapter of the marketing policy (P0–P7), its text editable."""

    __tablename__ = "policy_chapters"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    sort: Mapped[int] = mapped_column(Integer, default=0)


class PolicyVersion(TimestampMixin, db.Model):
    """A released version of the policy with its effective date (P7.3)."""

    __tablename__ = "policy_versions"
    __audited__ = True
    __audit_label__ = "version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(20), unique=True)
    effective_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User | None] = relationship()


class TrainingRecord(VersionedMixin, OwnedMixin, ArchivableMixin, TimestampMixin, db.Model):
    """培训记录 (P7.1): a course a person attended. owner = the trainee."""

    __tablename__ = "training_records"
    __audited__ = True
    __label__ = _l("Training records")
    # A course stays with the person who took it: never part of a hand-over.
    __handover__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    course: Mapped[str] = mapped_column(String(120))
    provider: Mapped[str] = mapped_column(String(120), default="")
    taken_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    result: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    @classmethod
    def visible_to(cls, user):
        """Own records; a group leader the group's; manager and executives all (owner_rule);
        and whoever manages training (the administrator too, who sees no business data)."""

        if can(user, "training.manage"):
            return true()
        return owner_rule(cls, user)
