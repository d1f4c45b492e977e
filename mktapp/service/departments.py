"""The departments that take tickets and where each ticket type goes (P5.3 "routed by type
to the department concerned"): the administrator adds a technical or logistics department
beside the service and sales groups, and sets each type's department and default owner."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mktapp.core import clock
from mktapp.core.errors import DomainError
from mktapp.extensions import db
from mktapp.models import Group, ServiceDepartment, TicketRoute, User
from mktapp.models.service import TICKET_TYPES, department_ids_of

# The departments every company starts with: the service and sales groups (their people
# are the group's), and where each type goes until the administrator says otherwise.
DEFAULT_DEPARTMENTS = (("service", "service"), ("sales", "sales"))
DEFAULT_NAMES = {"service": "客服组", "sales": "业务组"}  # data, as a group's name is
DEFAULT_ROUTES = {
    "consult": "service",
    "complaint": "service",
    "repair": "service",
    "return": "sales",
    "dispute": "sales",
}


class DepartmentError(DomainError):
    """A department or a route that cannot be saved."""


def ensure_departments() -> None:
    """Make the service and sales departments from their groups, once (idempotent)."""
    have = set(db.session.scalars(select(ServiceDepartment.code)))
    for sort, (code, group_code) in enumerate(DEFAULT_DEPARTMENTS):
        if code in have:
            continue
        group = db.session.scalar(select(Group).where(Group.code == group_code))
        db.session.add(
            ServiceDepartment(
                code=code,
                name=group.name if group else DEFAULT_NAMES[code],
                group_id=group.id if group else None,
                leader_id=group.leader_id if group else None,
                sort=sort,
            )
        )
    db.session.flush()


def departments(include_archived: bool = False) -> list[ServiceDepartment]:
    """The departments taking tickets (read only: ensure_departments() makes the defaults)."""
    stmt = select(ServiceDepartment).order_by(ServiceDepartment.sort, ServiceDepartment.id)
    if not include_archived:
        stmt = stmt.where(ServiceDepartment.archived_at.is_(None))
    return list(db.session.scalars(stmt))


def people_of(department: ServiceDepartment) -> list[User]:
    """The department's people: its group's (if it is one) and those it lists, leader first."""
    people = {u.id: u for u in department.members if u.is_active}
    if department.group_id is not None:
        for user in db.session.scalars(
            select(User).where(User.group_id == department.group_id, User.active.is_(True))
        ):
            people[user.id] = user
    if department.leader is not None:
        people[department.leader.id] = department.leader
    return sorted(people.values(), key=lambda u: (u.id != department.leader_id, u.id))


def people_choices() -> list[tuple[int, str]]:
    """Everyone a ticket can be passed to, each named with their (first) department."""
    people: dict[int, str] = {}
    for department in departments():
        for person in people_of(department):
            people.setdefault(person.id, f"{person.display_name} · {department.name}")
    return list(people.items())


def works_in(user, department_id: int) -> bool:
    return department_id in set(db.session.scalars(department_ids_of(user)))


def leads(user, department: ServiceDepartment) -> bool:
    return department.leader_id == user.id


def route_for(ticket_type: str) -> tuple[ServiceDepartment, User | None]:
    """The department a ticket of this type goes to, and its default owner (the route's
    person, else the department's leader)."""
    route = db.session.scalar(select(TicketRoute).where(TicketRoute.ticket_type == ticket_type))
    if route is not None and route.department.archived_at is None:
        department = route.department
        owner = route.default_owner or department.leader
        return department, owner
    code = DEFAULT_ROUTES.get(ticket_type, "service")
    department = (
        db.session.scalar(select(ServiceDepartment).where(ServiceDepartment.code == code))
        or departments()[0]
    )
    return department, department.leader


def routes() -> list[tuple[str, ServiceDepartment, User | None]]:
    """Each ticket type with where it goes now."""
    return [(code, *route_for(code)) for code in TICKET_TYPES]


def set_route(user, ticket_type: str, department_id: int, owner_id: int | None) -> TicketRoute:
    """Send tickets of this type to a department (and a default owner of it)."""
    if ticket_type not in TICKET_TYPES:
        raise DepartmentError(_l("Choose a ticket type."), "ticket_type")
    department = db.session.get(ServiceDepartment, department_id or 0)
    if department is None or department.archived_at is not None:
        raise DepartmentError(_l("Choose a department."), "department_id")
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner_id and (owner is None or owner.id not in {u.id for u in people_of(department)}):
        raise DepartmentError(_l("The default owner must work in that department."), "owner_id")
    route = db.session.scalar(select(TicketRoute).where(TicketRoute.ticket_type == ticket_type))
    if route is None:
        route = TicketRoute(ticket_type=ticket_type)
        db.session.add(route)
    route.department_id = department.id
    route.default_owner_id = owner.id if owner else None
    db.session.flush()
    return route


def save_department(
    user,
    department: ServiceDepartment | None,
    *,
    name: str,
    description: str,
    leader_id: int | None,
    member_ids: list[int],
) -> ServiceDepartment:
    """Add a department (department None) or change one: its name, leader and people."""
    name = (name or "").strip()
    if not name:
        raise DepartmentError(_l("Enter the department's name."), "name")
    clash = db.session.scalar(
        select(ServiceDepartment.id).where(
            ServiceDepartment.name == name,
            ServiceDepartment.id != (department.id if department else 0),
        )
    )
    if clash:
        raise DepartmentError(_l("There is already a department of that name."), "name")
    wanted = set(member_ids or [])
    if leader_id:
        wanted.add(leader_id)
    people = list(db.session.scalars(select(User).where(User.id.in_(wanted)))) if wanted else []
    if len(people) != len(wanted) or any(not p.is_active for p in people):
        raise DepartmentError(_l("Choose active people."), "member_ids")
    if department is None:
        ensure_departments()
        count = db.session.scalar(select(db.func.count(ServiceDepartment.id))) or 0
        department = ServiceDepartment(code=f"d{count + 1}", sort=count)
        while db.session.scalar(
            select(ServiceDepartment.id).where(ServiceDepartment.code == department.code)
        ):
            count += 1
            department.code = f"d{count + 1}"
        db.session.add(department)
    department.name = name
    department.description = (description or "").strip()
    department.leader_id = leader_id or None
    department.members = [p for p in people if department.group_id is None or p.id != leader_id]
    db.session.flush()
    return department


def archive_department(user, department: ServiceDepartment) -> None:
    """Take a department out of use; the types routed to it go back to their defaults."""
    if department.code in dict(DEFAULT_DEPARTMENTS):
        raise DepartmentError(_l("The service and sales groups always take tickets."), status=409)
    if department.archived_at is not None:
        raise DepartmentError(_l("This department is already archived."), status=409)
    department.archived_at = clock.now()
    for route in db.session.scalars(
        select(TicketRoute).where(TicketRoute.department_id == department.id)
    ):
        db.session.delete(route)
    db.session.flush()
