"""The brand strategy (P3.1): positioning, image, channels; every change a new version.

The marketing manager writes a version; it is never overwritten: saving makes the next
version, so the history and the field-by-field comparison of any two versions stay
exact. The visual-identity files (logo, VI manual, templates) are attachments on the
version they were uploaded to (record_type "BrandStrategy"); a file keeps its versions by
name: uploading a file with the same name adds a version, and the newest is the current
one. The logo is the current version of the file the strategy version names as its logo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from mktapp.core.attachments import archive_attachment, save_upload
from mktapp.core.errors import DomainError
from mktapp.core.lists import Column, ListPage, ListQuery, ListSpec, contains
from mktapp.core.permissions import can
from mktapp.extensions import db
from mktapp.models import Attachment, BrandChannel, BrandStrategy

RECORD_TYPE = "BrandStrategy"
MAX_CHANNELS = 20
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

# The compared fields, in the order the page shows them.
FIELDS: tuple[tuple[str, Any], ...] = (
    ("positioning", _l("Brand positioning")),
    ("audiences", _l("Target audiences")),
    ("value_proposition", _l("Value proposition")),
    ("slogan", _l("Slogan")),
    ("colours", _l("Standard colours")),
    ("image_notes", _l("Brand image guidelines")),
    ("change_note", _l("Change note")),
)


class StrategyError(DomainError):
    """Input that cannot be saved; `field` names the form field it belongs to."""


def may_write(user: Any) -> bool:
    return can(user, "brand.strategy")


def _check_writer(user: Any) -> None:
    """Raise StrategyError unless the user may change the strategy (its versions, its files)."""
    if not may_write(user):
        raise StrategyError(_("Only the marketing manager may change the brand strategy."))


# --- colours ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Colour:
    hex: str
    name: str


def parse_colours(text: str) -> list[Colour]:
    """ "#0b5cad 品牌蓝,#f5a623 活力橙" -> colours; raises StrategyError on a bad code."""
    out: list[Colour] = []
    for part in re.split(r"[,，;；\n]", text or ""):
        part = part.strip()
        if not part:
            continue
        code, _sep, name = part.partition(" ")
        if not _HEX.match(code):
            raise StrategyError(
                _(
                    "“%(code)s” is not a colour code. Write each colour as #RRGGBB and its "
                    "name, e.g. #0b5cad Brand blue, separated by commas.",
                    code=code,
                ),
                "colours",
            )
        if len(code) == 4:
            code = "#" + "".join(ch * 2 for ch in code[1:])
        out.append(Colour(code.lower(), name.strip()))
    return out


def colours_of(strategy: BrandStrategy | None) -> list[Colour]:
    """The colours of a stored version (stored ones were checked; tolerate old text)."""
    try:
        return parse_colours(strategy.colours if strategy else "")
    except StrategyError:
        return []


# --- reading ----------------------------------------------------------------------------


def _with_parts(query):
    return query.options(selectinload(BrandStrategy.channels))


def current() -> BrandStrategy | None:
    """The current version: the highest number."""
    return db.session.scalars(
        _with_parts(select(BrandStrategy)).order_by(BrandStrategy.version.desc()).limit(1)
    ).first()


def by_version(version: int) -> BrandStrategy | None:
    return db.session.scalars(
        _with_parts(select(BrandStrategy)).where(BrandStrategy.version == version)
    ).first()


def version_numbers() -> list[int]:
    return list(
        db.session.scalars(select(BrandStrategy.version).order_by(BrandStrategy.version.desc()))
    )


VERSIONS = ListSpec(
    "version",
    columns=[
        Column("version", _l("Version"), sort=BrandStrategy.version),
        Column("saved", _l("Saved")),
        Column("by", _l("By")),
        Column("slogan", _l("Slogan")),
        Column("channels", _l("Channels")),
        Column("note", _l("Change note")),
        # A header for screen readers only (the column holds a button).
        Column("compare", _l("Compare"), hide_label=True),
    ],
    default_sort="version",
    default_dir="desc",
)


class VersionQuery(VERSIONS.Query):
    @classmethod
    def from_args(cls, args, **defaults) -> ListQuery:
        # Addresses from before the list kit sorted with sort=version (oldest first) or
        # sort=-version (newest first) and no dir; they still mean that.
        sort = args.get("sort")
        if sort in ("version", "-version") and not args.get("dir"):
            dir = "asc" if sort == "version" else "desc"
            args = {**{k: args.get(k) for k in args}, "sort": "version", "dir": dir}
        return super().from_args(args, **defaults)


VERSIONS.Query = VersionQuery


def list_versions(query: VersionQuery, page_size: int) -> ListPage:
    """The versions: search in the change note, slogan and positioning; newest first."""
    stmt = select(BrandStrategy)
    if query.q:
        stmt = stmt.where(
            contains(
                query.q, BrandStrategy.change_note, BrandStrategy.slogan, BrandStrategy.positioning
            )
        )
    return VERSIONS.page(stmt, query, page_size, options=[selectinload(BrandStrategy.channels)])


# --- writing ----------------------------------------------------------------------------


@dataclass
class ChannelInput:
    name: str = ""
    audience: str = ""
    effect: str = ""

    @property
    def blank(self) -> bool:
        return not (self.name.strip() or self.audience.strip() or self.effect.strip())


@dataclass
class StrategyInput:
    positioning: str = ""
    audiences: str = ""
    value_proposition: str = ""
    slogan: str = ""
    colours: str = ""
    image_notes: str = ""
    change_note: str = ""
    logo_attachment_id: int | None = None
    channels: list[ChannelInput] = field(default_factory=list)

    @classmethod
    def of(cls, strategy: BrandStrategy | None) -> StrategyInput:
        """The input that would save `strategy` again (the edit form starts from it)."""
        if strategy is None:
            return cls()
        return cls(
            positioning=strategy.positioning,
            audiences=strategy.audiences,
            value_proposition=strategy.value_proposition,
            slogan=strategy.slogan,
            colours=strategy.colours,
            image_notes=strategy.image_notes,
            change_note="",
            # The logo file's current version (a newer upload of it replaces the older).
            logo_attachment_id=logo.id if (logo := logo_of(strategy)) else None,
            channels=[ChannelInput(c.name, c.audience, c.effect) for c in strategy.channels],
        )


def save_version(user: Any, data: StrategyInput) -> BrandStrategy:
    """Store `data` as the next version (never changes an earlier one); raises StrategyError."""
    _check_writer(user)
    if not data.positioning.strip():
        raise StrategyError(_("Describe the brand positioning."), "positioning")
    if not data.change_note.strip():
        raise StrategyError(
            _("Say what changed in this version and why (the change note)."), "change_note"
        )
    colours = parse_colours(data.colours)
    channels = [c for c in data.channels if not c.blank]
    for index, channel in enumerate(channels):
        if not channel.name.strip():
            raise StrategyError(_("Channel %(n)s has no name.", n=index + 1), "channels")
    if len(channels) > MAX_CHANNELS:
        raise StrategyError(_("At most %(n)s channels.", n=MAX_CHANNELS), "channels")
    logo_id = data.logo_attachment_id or None
    if logo_id is not None and logo_id not in {a.id for a in logo_choices()}:
        raise StrategyError(_("Choose the logo among the uploaded images."), "logo_attachment_id")
    latest = db.session.scalar(select(func.max(BrandStrategy.version))) or 0
    strategy = BrandStrategy(
        version=latest + 1,
        positioning=data.positioning.strip(),
        audiences=data.audiences.strip(),
        value_proposition=data.value_proposition.strip(),
        slogan=data.slogan.strip(),
        colours=",".join(f"{c.hex} {c.name}".strip() for c in colours),
        image_notes=data.image_notes.strip(),
        change_note=data.change_note.strip(),
        logo_attachment_id=logo_id,
        owner_id=user.id,
    )
    strategy.channels = [
        BrandChannel(
            seq=i,
            name=c.name.strip(),
            audience=c.audience.strip(),
            effect=c.effect.strip(),
        )
        for i, c in enumerate(channels)
    ]
    db.session.add(strategy)
    try:
        db.session.flush()
    except IntegrityError:  # another version was saved at the same moment
        db.session.rollback()
        raise StrategyError(
            _("Someone saved a version at the same moment. Check the current one and save again.")
        ) from None
    return strategy


# --- comparing --------------------------------------------------------------------------


@dataclass
class FieldDiff:
    name: str
    label: Any
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return (self.old or "").strip() != (self.new or "").strip()


@dataclass
class ChannelDiff:
    name: str
    kind: str  # added, removed, changed, same
    old: BrandChannel | None
    new: BrandChannel | None


@dataclass
class Comparison:
    a: BrandStrategy
    b: BrandStrategy
    fields: list[FieldDiff]
    channels: list[ChannelDiff]

    @property
    def changed_count(self) -> int:
        return sum(1 for f in self.fields if f.changed) + sum(
            1 for c in self.channels if c.kind != "same"
        )


def compare(a: BrandStrategy, b: BrandStrategy) -> Comparison:
    """Version a (older) against b field by field; channels matched by name."""
    fields = [
        FieldDiff(name, label, getattr(a, name) or "", getattr(b, name) or "")
        for name, label in FIELDS
    ]
    fields.insert(
        len(fields) - 1,
        FieldDiff(
            "logo",
            _l("Logo"),
            _logo_name(a),
            _logo_name(b),
        ),
    )
    old = {c.name: c for c in a.channels}
    new = {c.name: c for c in b.channels}
    channels: list[ChannelDiff] = []
    for channel in b.channels:
        before = old.get(channel.name)
        if before is None:
            channels.append(ChannelDiff(channel.name, "added", None, channel))
        elif (before.audience, before.effect) != (channel.audience, channel.effect):
            channels.append(ChannelDiff(channel.name, "changed", before, channel))
        else:
            channels.append(ChannelDiff(channel.name, "same", before, channel))
    for channel in a.channels:
        if channel.name not in new:
            channels.append(ChannelDiff(channel.name, "removed", channel, None))
    return Comparison(a, b, fields, channels)


def _logo_name(strategy: BrandStrategy) -> str:
    if not strategy.logo_attachment_id:
        return ""
    attachment = db.session.get(Attachment, strategy.logo_attachment_id)
    return attachment.filename if attachment else ""


# --- visual-identity files --------------------------------------------------------------


@dataclass
class VIFile:
    """One file name with its versions, newest first."""

    name: str
    versions: list[Attachment]

    @property
    def current(self) -> Attachment:
        return self.versions[0]

    @property
    def earlier(self) -> list[Attachment]:
        return self.versions[1:]

    @property
    def is_image(self) -> bool:
        return self.current.content_type in IMAGE_TYPES


def _file_key(name: str) -> str:
    return (name or "").strip().casefold()


def files() -> list[VIFile]:
    """The visual-identity files of all versions, grouped by name (archived ones left out)."""
    rows = db.session.scalars(
        select(Attachment)
        .options(joinedload(Attachment.uploaded_by).lazyload("*"))
        .where(Attachment.record_type == RECORD_TYPE, Attachment.archived_at.is_(None))
        .order_by(Attachment.uploaded_at.desc(), Attachment.id.desc())
    ).all()
    groups: dict[str, VIFile] = {}
    for attachment in rows:
        key = _file_key(attachment.filename)
        if key in groups:
            groups[key].versions.append(attachment)
        else:
            groups[key] = VIFile(attachment.filename, [attachment])
    return sorted(groups.values(), key=lambda f: f.name.casefold())


def _file_of(attachment: Attachment) -> VIFile | None:
    """The visual-identity file (its name, its versions) the attachment is a version of."""
    key = _file_key(attachment.filename)
    return next((f for f in files() if _file_key(f.name) == key), None)


def logo_choices() -> list[Attachment]:
    """The images a version may name as its logo: the current version of each image file."""
    return [f.current for f in files() if f.is_image]


def logo_of(strategy: BrandStrategy | None) -> Attachment | None:
    """The logo to show: the current version of the file the strategy names as its logo."""
    if strategy is None or not strategy.logo_attachment_id:
        return None
    named = db.session.get(Attachment, strategy.logo_attachment_id)
    vi_file = _file_of(named) if named is not None else None
    return vi_file.current if vi_file else None


def add_file(user: Any, file_storage: Any) -> Attachment:
    """Upload a visual-identity file to the current version; raises StrategyError or
    attachments.UploadRejected. A file of the same name becomes that file's new version."""
    _check_writer(user)
    strategy = current()
    if strategy is None:
        raise StrategyError(_("Save the first version of the strategy before adding files."))
    return save_upload(file_storage, strategy, user)


def file_versions(attachment_id: int) -> tuple[BrandStrategy, list[Attachment]] | None:
    """The strategy version a file hangs on and all the versions of its name (not archived)."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.record_type != RECORD_TYPE:
        return None
    if attachment.archived_at is not None:
        return None
    record = db.session.get(BrandStrategy, attachment.record_id)
    vi_file = _file_of(attachment) if record is not None else None
    return (record, vi_file.versions) if vi_file else None


def archive_file(user: Any, attachment_id: int) -> list[Attachment]:
    """Archive a file with all its versions (kept on disk and in the history)."""
    _check_writer(user)
    found = file_versions(attachment_id)
    if found is None:
        raise LookupError(attachment_id)
    _record, versions = found
    for attachment in versions:
        owner = db.session.get(BrandStrategy, attachment.record_id)
        archive_attachment(attachment, owner, user)
    return versions
