"""All models; importing this module registers every table with the metadata."""

from mktapp.models.approvals import ApprovalEvent, ApprovalRequest, ApprovalStep, Setting
from mktapp.models.base import ArchivableMixin, OwnedMixin, TimestampMixin, utcnow
from mktapp.models.core import Attachment, AuditLog, DocumentCounter, LoginAttempt, Notification
from mktapp.models.expense import (
    CATEGORIES,
    PAYMENT_METHODS,
    Budget,
    BudgetAdjustment,
    BudgetLine,
    ExpenseAnomaly,
    ExpenseClaim,
)
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
    "CATEGORIES",
    "PAYMENT_METHODS",
    "Budget",
    "BudgetAdjustment",
    "BudgetLine",
    "DocumentCounter",
    "ExpenseAnomaly",
    "ExpenseClaim",
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
