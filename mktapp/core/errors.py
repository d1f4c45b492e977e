"""Domain errors, and the error pages in the layout: 400 (incl. CSRF), 403, 404, 413, 422, 500.

`DomainError` is the one base of every "this cannot be done" a service raises: the
approval engine's and each chapter's (ContractError, ClaimError ...). It carries the
message for the user, the form field it belongs to (or None), every problem found as
(field, message) pairs, and an HTTP status: 422 by default, 403 not allowed, 404 not
found, 409 somebody else changed it first, 410 gone. A chapter's error class is one line
(`class ContractError(DomainError): ...`), a subclass sets only its `status`. A route
catches DomainError; one that escapes a route is answered with its status and message
(the 403 and 404 pages for those), after the session is rolled back.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from mktapp.extensions import db


class DomainError(Exception):
    """Something a user asked that cannot be done; str() is the message for the user."""

    status = 422

    def __init__(
        self,
        message: Any = "",
        field: str | None = None,
        problems: list[tuple[str | None, str]] | None = None,
        *,
        status: int | None = None,
    ):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        # Every problem found, as (field, message); the first is `field`/`message`.
        self.problems: list[tuple[str | None, str]] = problems or [(field, self.message)]
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


def _page(status: int, title: str, message: str):
    return render_template("errors/error.html", status=status, title=title, message=message), status


def register_error_handlers(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _page(
            400,
            _("The form has expired"),
            _(
                "The page was open too long or came from elsewhere, so nothing was saved. "
                "Go back, reload the page and try again."
            ),
        )

    @app.errorhandler(400)
    def bad_request(error):
        return _page(400, _("Bad request"), _("The request could not be understood."))

    @app.errorhandler(403)
    def forbidden(error):
        return _page(
            403,
            _("Not allowed"),
            _("Your role does not allow this. Ask your manager if you need it."),
        )

    @app.errorhandler(404)
    def not_found(error):
        return _page(404, _("Not found"), _("There is no such page, or it is not yours to see."))

    @app.errorhandler(405)
    def method_not_allowed(error):
        return _page(405, _("Not allowed"), _("This address does not accept that kind of request."))

    @app.errorhandler(413)
    def too_large(error):
        return _page(
            413,
            _("File too large"),
            _("The upload is larger than %(mb)s MB.", mb=app.config["MAX_UPLOAD_MB"]),
        )

    @app.errorhandler(422)
    def unprocessable(error):
        return _page(422, _("Check your input"), _("Some of what was entered is not valid."))

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        if error.status == 403:
            return forbidden(error)
        if error.status == 404:
            return not_found(error)
        return _page(error.status, _("This cannot be done"), error.message)

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return _page(
            500,
            _("Something went wrong"),
            _("Nothing was saved. The error has been logged; please try again."),
        )

    @app.errorhandler(HTTPException)
    def other_http(error):
        return _page(error.code or 500, error.name, error.description or "")
