"""Brand strategy views (P3.1): the current version, the manager's form (a new version on
every save), the history, the comparison of two versions, and the visual-identity files
(uploaded as attachments; a file keeps its versions by name; archived, never deleted)."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from mktapp.brand import bp
from mktapp.brand import strategy as svc
from mktapp.brand.forms_strategy import FileForm, StrategyForm
from mktapp.core import nav
from mktapp.core.actions import edit_page, record_action
from mktapp.core.attachments import register_attachable
from mktapp.core.forms import ConfirmForm, put_error
from mktapp.core.htmx import is_partial, redirect_to, render
from mktapp.core.lists import list_page
from mktapp.core.permissions import require
from mktapp.extensions import db
from mktapp.models import BrandStrategy


def _version_or_404(value) -> BrandStrategy:
    try:
        number = int(value)
    except (TypeError, ValueError):
        abort(404)
    strategy = svc.by_version(number)
    if strategy is None:
        abort(404)
    return strategy


def _page(strategy, file_form=None, status=200, block=None):
    latest = svc.current()
    return render(
        "brand/strategy.html",
        block=block,
        status=status,
        strategy=strategy,
        is_current=strategy is not None and latest is not None and strategy.id == latest.id,
        latest=latest,
        colours=svc.colours_of(strategy),
        logo=svc.logo_of(strategy),
        files=svc.files(),
        file_form=file_form or FileForm(),
        may_write=svc.may_write(current_user),
        versions=svc.version_numbers(),
    )


@bp.get("/strategy")
@require("brand.view")
def strategies():
    """The brand strategy as it stands (or an earlier version with ?version=N)."""
    if request.args.get("version"):
        return _page(_version_or_404(request.args.get("version")))
    return _page(svc.current())


# --- the form ---------------------------------------------------------------------------


ROW_ACTIONS = ("add_channel",)


def _row_action(form: StrategyForm) -> bool:
    """Add or remove a channel row: the form comes back, unsaved."""
    action = request.form.get("action", "")
    if action == "add_channel":
        if len(form.channels.entries) < form.channels.max_entries:
            form.channels.append_entry()
        return True
    if action.startswith("remove_channel-"):
        index = action.rpartition("-")[2]
        if index.isdigit() and int(index) < len(form.channels.entries):
            form.channels.entries.pop(int(index))
            if not form.channels.entries:
                form.channels.append_entry()
        return True
    return False


def _form_page(form, latest, status=200):
    return render(
        "brand/strategy_form.html",
        block="strategy_form",
        status=status,
        form=form,
        latest=latest,
        colours=_preview_colours(form),
    )


def _preview_colours(form):
    try:
        return svc.parse_colours(form.colours.data or "")
    except svc.StrategyError:
        return []


@bp.route("/strategy/edit", methods=["GET", "POST"])
@require("brand.strategy")
def strategy_edit():
    """The manager's form, prefilled from the current version; saving adds a version."""
    latest = svc.current()
    form = StrategyForm()
    if request.method == "GET":
        form.load(svc.StrategyInput.of(latest))
    elif _row_action(form):
        return _form_page(form, latest)
    return edit_page(
        "brand/strategy_form.html",
        "strategy_form",
        form,
        latest,  # read from the latest version: another saved meanwhile is a conflict
        lambda _latest, form: svc.save_version(current_user, form.to_input()),
        message=lambda strategy: _("Brand strategy version %(n)s saved.", n=strategy.version),
        then=url_for("brand.strategies"),
        latest=latest,
        colours=_preview_colours(form),
    )


# --- history and comparison --------------------------------------------------------------


@bp.get("/strategy/versions")
@require("brand.view")
def strategy_versions():
    """Every version of the strategy: who, when, and the change note."""
    query = svc.VersionQuery.from_args(request.args)
    return list_page(
        "brand/strategy_versions.html",
        "version_rows",
        query,
        lambda _user, query, page_size: svc.list_versions(query, page_size),
        url_for("brand.strategy_versions", **query.args()),
    )


@bp.get("/strategy/compare")
@require("brand.view")
def strategy_compare():
    """Two versions side by side, field by field, the changed ones highlighted."""
    numbers = svc.version_numbers()
    if not numbers:
        abort(404)
    default_b = numbers[0]
    default_a = numbers[1] if len(numbers) > 1 else numbers[0]
    a = _version_or_404(request.args.get("a") or default_a)
    b = _version_or_404(request.args.get("b") or default_b)
    return render(
        "brand/strategy_compare.html",
        cmp=svc.compare(a, b),
        versions=numbers,
        colours_a=svc.colours_of(a),
        colours_b=svc.colours_of(b),
    )


# --- visual-identity files --------------------------------------------------------------


@bp.post("/strategy/files")
@require("brand.strategy")
def strategy_file_upload():
    """Upload a visual-identity file (same name: a new version of that file)."""
    return record_action(
        None,
        lambda _none, form: svc.add_file(current_user, form.file.data),
        message=lambda attachment: _("“%(name)s” was uploaded.", name=attachment.filename),
        then=lambda _attachment: _files_done(),
        on_error=lambda error, form: _page(
            svc.current(),
            file_form=put_error(form, error, {None: "file"}),
            status=422,
            block="strategy_files",
        ),
        form=FileForm(),
    )


def _files_done():
    """The files again: the list redrawn in place (htmx), the strategy page otherwise."""
    if is_partial():
        return _page(svc.current(), block="strategy_files")
    return redirect_to(url_for("brand.strategies") + "#strategy_files")


@bp.post("/strategy/files/<int:attachment_id>/archive")
@require("brand.strategy")
def strategy_file_archive(attachment_id: int):
    """Archive a file with its earlier versions (kept, and noted in the history)."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        versions = svc.archive_file(current_user, attachment_id)
    except LookupError:
        abort(404)
    except svc.StrategyError:
        abort(403)
    db.session.commit()
    flash(_("“%(name)s” was archived.", name=versions[0].filename), "success")
    return _files_done()


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add(
        "P3",
        nav.NavEntry("brand.strategies", nav._l("Brand strategy"), ("brand.view",), "doc"),
    )
    # Files hang on a version; everyone with brand.view may download them (the model's rule),
    # only the manager may add and archive them.
    register_attachable(BrandStrategy, can_edit=lambda user, _strategy: svc.may_write(user))
