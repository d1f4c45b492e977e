"""All models; importing this module registers every table with the metadata."""

from mktapp.models.approvals import ApprovalEvent, ApprovalRequest, ApprovalStep, Setting
from mktapp.models.base import ArchivableMixin, OwnedMixin, TimestampMixin, utcnow
from mktapp.models.core import Attachment, AuditLog, LoginAttempt, Notification
from mktapp.models.org import (
    ROLE_CODES,
    Group,
    PolicyChapter,
    PolicyVersion,
    Post,
    Role,
    TrainingRecord,
    User,
    user_roles,
)

__all__ = [
    "ApprovalEvent",
    "ApprovalRequest",
    "ApprovalStep",
    "Setting",
    "ROLE_CODES",
    "ArchivableMixin",
    "Attachment",
    "AuditLog",
    "Group",
    "LoginAttempt",
    "Notification",
    "OwnedMixin",
    "PolicyChapter",
    "PolicyVersion",
    "Post",
    "Role",
    "TimestampMixin",
    "TrainingRecord",
    "User",
    "user_roles",
    "utcnow",
]
