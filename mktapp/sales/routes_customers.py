"""Customer views (P4.1 step 1): the lists (all, mine, the pool) and their export, the
customer form with its duplicate warning, the customer page (contacts, panels, the
timeline), hand-off (assign, release, claim), merge, archive, and the import of leads.
"""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from mktapp.core import clock, fragments, nav
from mktapp.core.actions import act, record_action
from mktapp.core.forms import ConfirmForm, put_error
from mktapp.core.htmx import is_partial, redirect_to, render
from mktapp.core.lists import list_page
from mktapp.core.permissions import get_visible_or_404, permissions_of, require
from mktapp.extensions import db
from mktapp.models.sales import (
    CUSTOMER_GRADES,
    CUSTOMER_STATUSES,
    LEAD_SOURCES,
    Contact,
    Customer,
)
from mktapp.sales import bp, customer_page, importing, picker_sources
from mktapp.sales import customers as svc
from mktapp.sales.followups import may_follow_up
from mktapp.sales.forms_customers import (
    AssignForm,
    ContactForm,
    CustomerFilters,
    CustomerForm,
    FollowupForm,
    ImportOptionsForm,
    MergeForm,
    UploadForm,
)

# The customer and product pickers (core/pickers), registered with the app.
bp.record_once(picker_sources.register)

TIMELINE_PAGE = 50
VIEW_ENDPOINTS = {
    "all": "sales.customers",
    "mine": "sales.customers_mine",
    "pool": "sales.customers_pool",
}


# --- lists -------------------------------------------------------------------------------------


def _listing(view: str):
    owner_filter = CustomerFilters(request.args) if view == "all" else None
    args = owner_filter.values(request.args) if owner_filter else request.args
    query = svc.CustomerQuery.from_args(args)
    endpoint = VIEW_ENDPOINTS[view]
    # An owner typed but not made out (its message, the matches) is drawn as typed.
    typed = (
        (owner_filter.owner.text, tuple(owner_filter.owner.errors))
        if owner_filter is not None and owner_filter.owner.errors
        else None
    )
    return list_page(
        "sales/customers.html",
        "customer_rows",
        query,
        lambda user, query, page_size: svc.list_customers(user, query, page_size, view=view),
        url_for(endpoint, **query.args()),
        # The rows offer "new customer" and "import" by permission.
        key=(view, current_user.id if view == "mine" else None, permissions_of(current_user)),
        view=view,
        page_title={"all": _("Customers"), "mine": _("My customers"), "pool": _("Customer pool")}[
            view
        ],
        list_endpoint=endpoint,
        # The filter form (five selects, a province list) changes only with the people.
        filters=""
        if is_partial()
        else fragments.cached_block(
            "sales/customers.html",
            "customer_filters",
            key=(view, repr(query), typed, permissions_of(current_user)),
            depends=("people",),
            reader=current_user,
            rules=(Customer,),
            context=lambda: {
                "query": query,
                "view": view,
                "list_endpoint": endpoint,
                "grades": CUSTOMER_GRADES,
                "sources": LEAD_SOURCES,
                "statuses": CUSTOMER_STATUSES,
                "provinces": svc.PROVINCES,
                "owner_filter": owner_filter,
            },
        ),
    )


@bp.get("/customers/")
@require("sales.view")
def customers():
    """Every customer this user may see: search, filters, sort, paging."""
    return _listing("all")


@bp.get("/customers/mine")
@require("sales.view")
def customers_mine():
    """The customers the user owns."""
    return _listing("mine")


@bp.get("/customers/pool")
@require("sales.view")
def customers_pool():
    """The shared pool: customers with no owner, which a rep may claim."""
    return _listing("pool")


@bp.get("/customers.xlsx")
@require("sales.view")
def customers_xlsx():
    """The filtered customer list (every page) as an Excel workbook."""
    query = svc.CustomerQuery.from_args(request.args)
    view = request.args.get("view", "all")
    view = view if view in VIEW_ENDPOINTS else "all"
    return svc.CUSTOMERS.xlsx(svc.export_rows(current_user, query, view=view), _("Customers"))


# --- the form -------------------------------------------------------------------------------------


def _form_page(form: CustomerForm, customer: Customer | None, status: int = 200, matches=()):
    form.source_activity_id.choices = [(0, _("— none —"))] + svc.source_activity_choices(
        current_user, clock.today(), customer.source_activity_id if customer else None
    )
    return render(
        "sales/customer_form.html",
        block="customer_form",
        status=status,
        form=form,
        customer=customer,
        matches=list(matches),
        may_choose_owner=svc.is_assigner(current_user),
    )


def _customer_form(customer: Customer | None = None) -> CustomerForm:
    form = CustomerForm(obj=customer) if request.method == "GET" else CustomerForm()
    if request.method == "GET" and customer is not None:
        form.source_activity_id.data = customer.source_activity_id or 0
    return form


def _save(form: CustomerForm, customer: Customer | None):
    """Write the customer: its page after, or the form again (422) with what is wrong; a
    likely duplicate is shown, and the form offers to save anyway."""
    customer_id = customer.id if customer is not None else None

    def refused(error, form):
        record = get_visible_or_404(Customer, customer_id, current_user) if customer_id else None
        if isinstance(error, svc.DuplicateFound):
            form.confirm_duplicate.data = "1"
            return _form_page(form, record, 422, matches=error.matches)
        return _form_page(put_error(form, error), record, 422)

    confirm_duplicate = form.confirm_duplicate.data == "1"
    return record_action(
        customer,
        lambda customer, form: (
            svc.create_customer(
                current_user,
                form.to_input(),
                form.contact_input(),
                confirm_duplicate=confirm_duplicate,
            )
            if customer is None
            else svc.update_customer(
                current_user, customer, form.to_input(), confirm_duplicate=confirm_duplicate
            )
        ),
        message=lambda saved: (
            _("Customer %(name)s added.", name=saved.name)
            if customer is None
            else _("Customer %(name)s saved.", name=saved.name)
        ),
        then=lambda saved: url_for("sales.customer", customer_id=saved.id),
        on_error=refused,
        form=form,
    )


@bp.route("/customers/new", methods=["GET", "POST"])
@require("sales.edit")
def customer_new():
    """Add a customer or a lead; warns of a likely duplicate before saving."""
    form = _customer_form()
    if request.method == "GET":
        return _form_page(form, None)
    return _save(form, None)


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
@require("sales.edit")
def customer_edit(customer_id: int):
    """Change a customer's details."""
    customer = get_visible_or_404(Customer, customer_id, current_user)
    if not svc.may_edit(current_user, customer):
        abort(403)
    form = _customer_form(customer)
    if request.method == "GET":
        return _form_page(form, customer)
    return _save(form, customer)


# --- the customer's page ---------------------------------------------------------------------------------


def _load(customer_id: int) -> Customer:
    """The customer with its contacts, owner and creator, in one query (404 if not visible)."""
    record = svc.load_visible(current_user, customer_id)
    if record is None:
        abort(404)
    return record


def _detail_context(customer: Customer, followup_form: FollowupForm | None = None, **extra) -> dict:
    user = current_user
    if followup_form is None and can_follow(customer):
        followup_form = _followup_form(customer, fresh=True)
        followup_form.happened_at.data = clock.local_now().replace(
            second=0, microsecond=0, tzinfo=None
        )
    timeline, more = customer_page.timeline_page(customer, user, TIMELINE_PAGE, 0)
    assign_form = None
    if svc.may_assign(user, customer):
        assign_form = AssignForm(formdata=None)
    context = {
        "customer": customer,
        "actions": customer_page.actions_for(customer, user),
        "panels": customer_page.rendered_panels(customer, user),
        "timeline": timeline,
        "timeline_more": more,
        "timeline_offset": TIMELINE_PAGE,
        "may_edit": svc.may_edit(user, customer),
        "may_claim": svc.may_claim(user, customer),
        "may_release": svc.may_release(user, customer),
        "assign_form": assign_form,
        "may_merge": svc.can(user, "sales.merge") and not customer.is_archived,
        "followup_form": followup_form,
        "confirm": ConfirmForm(),
        "contact_form": None,
        "merged_into": db.session.get(Customer, customer.merged_into_id)
        if customer.merged_into_id
        else None,
        "source_activity": svc.source_activity_of(user, customer),
    }
    context.update(extra)
    return context


def can_follow(customer: Customer) -> bool:

    return may_follow_up(current_user, customer)


def _followup_form(customer: Customer, fresh: bool = False) -> FollowupForm:
    form = FollowupForm(formdata=None) if fresh else FollowupForm()
    form.contact_id.scope = customer.id
    form.contact_id.offer(customer.contacts)  # loaded with the customer
    return form


@bp.get("/customers/<int:customer_id>")
@require("sales.view")
def customer(customer_id: int):
    """A customer: key facts and actions, contacts, panels, and one timeline."""
    record = _load(customer_id)
    return render("sales/customer_detail.html", **_detail_context(record))


@bp.get("/customers/<int:customer_id>/timeline")
@require("sales.view")
def customer_timeline(customer_id: int):
    """The next entries of the timeline ("show more")."""
    record = get_visible_or_404(Customer, customer_id, current_user)
    try:
        offset = max(0, min(int(request.args.get("offset", 0)), 100_000))
    except ValueError:
        offset = 0
    items, more = customer_page.timeline_page(record, current_user, TIMELINE_PAGE, offset)
    page = {"timeline": items, "timeline_more": more, "timeline_offset": offset + TIMELINE_PAGE}
    if not is_partial():  # without JavaScript: the customer page at this part of its timeline
        return render("sales/customer_detail.html", **_detail_context(record, **page))
    return render(
        "sales/customer_detail.html",
        block="timeline_more",
        customer=record,
        standalone=True,
        **page,
    )


def _detail_page(customer: Customer, status: int = 200, **extra):
    """The customer's page again (`extra`: the refusal to show above its actions)."""
    return render(
        "sales/customer_detail.html",
        status=status,
        **_detail_context(_load(customer.id), **extra),
    )


def _act(customer_id: int, action, message: str):
    """A step of the customer's life (`action(user, customer)`): done, its page."""
    then = url_for("sales.customer", customer_id=customer_id)
    return act(_detail_page, Customer, customer_id, action, message, then)


@bp.post("/customers/<int:customer_id>/archive")
@require("sales.edit")
def customer_archive(customer_id: int):
    """Archive a customer (kept, not deleted)."""
    return _act(customer_id, svc.archive_customer, _("Customer %(name)s archived."))


@bp.post("/customers/<int:customer_id>/restore")
@require("sales.assign")
def customer_restore(customer_id: int):
    """Bring an archived customer back."""
    return _act(customer_id, svc.restore_customer, _("Customer %(name)s restored."))


@bp.post("/customers/<int:customer_id>/claim")
@require("sales.edit")
def customer_claim(customer_id: int):
    """A rep takes a customer from the pool; one another rep took a moment before is a
    409 (the customer is no longer visible to this rep, so not a 404)."""
    try:
        return _act(customer_id, svc.claim, _("%(name)s is now your customer."))
    except NotFound:
        db.session.rollback()
        if svc.taken_from_under(current_user, customer_id):
            raise svc.CustomerError(
                _("Another rep has just taken this customer."), status=409
            ) from None
        raise


@bp.post("/customers/<int:customer_id>/release")
@require("sales.edit")
def customer_release(customer_id: int):
    """Give a customer back to the pool."""
    return _act(customer_id, svc.release, _("%(name)s is back in the customer pool."))


@bp.post("/customers/<int:customer_id>/assign")
@require("sales.edit")
def customer_assign(customer_id: int):
    """Hand a customer to a sales rep (who is notified)."""
    return record_action(
        _load(customer_id),
        lambda record, form: svc.assign(current_user, record, form.owner_id.data or 0),
        message=lambda record: _(
            "%(name)s handed to %(owner)s.",
            name=record.name,
            owner=record.owner.display_name if record.owner else "",
        ),
        then=url_for("sales.customer", customer_id=customer_id),
        on_error=lambda error, form: render(
            "sales/customer_detail.html",
            block="customer_assign",
            status=422,
            **_detail_context(_load(customer_id), assign_form=put_error(form, error)),
        ),
        form=AssignForm(),
    )


@bp.route("/customers/<int:customer_id>/merge", methods=["GET", "POST"])
@require("sales.merge")
def customer_merge(customer_id: int):
    """Merge a duplicate into this customer: its records move here, it is archived."""
    record = _load(customer_id)
    form = MergeForm()
    candidates = svc.merge_candidates(record)
    if request.method == "GET":
        return render(
            "sales/customer_merge.html", customer=record, form=form, candidates=candidates
        )

    def merge(record: Customer, form: MergeForm):
        other_id = form.chosen_id()
        # Through the record rules, like everything a form names by id.
        other = svc.load_visible(current_user, other_id) if other_id else None
        if other is None:
            raise svc.CustomerError(_("Choose the duplicate customer."), "other")
        return other, svc.merge(current_user, record, other)

    def merged(outcome) -> str:
        other, moved = outcome
        return _(
            "%(loser)s merged into %(name)s (%(n)s records moved).",
            loser=other.name,
            name=record.name,
            n=sum(moved.values()),
        )

    return record_action(
        record,
        merge,
        message=merged,
        then=url_for("sales.customer", customer_id=customer_id),
        on_error=lambda error, form: render(
            "sales/customer_merge.html",
            status=422,
            customer=_load(customer_id),
            form=put_error(form, error),
            candidates=candidates,
        ),
        form=form,
    )


# --- contacts (htmx on the customer page) ------------------------------------------------------------------


def _contacts_block(customer: Customer, form=None, editing: Contact | None = None, status=200):
    if not is_partial():  # without JavaScript: the customer page with the contact form open
        context = _detail_context(customer, contact_form=form, editing=editing)
        return render("sales/customer_detail.html", status=status, **context)
    return render(
        "sales/customer_detail.html",
        block="customer_contacts",
        status=status,
        customer=customer,
        contact_form=form,
        editing=editing,
        may_edit=svc.may_edit(current_user, customer),
    )


def _contact_saved(customer_id: int):
    """After a contact is saved: the customer's page, or its contacts block (htmx)."""
    if not is_partial():
        return url_for("sales.customer", customer_id=customer_id)
    return _contacts_block(_load(customer_id))


def _contact_of(record: Customer, contact_id: int) -> Contact:
    contact = next((c for c in record.contacts if c.id == contact_id), None)
    if contact is None:
        abort(404)
    return contact


@bp.route("/customers/<int:customer_id>/contacts/new", methods=["GET", "POST"])
@require("sales.edit")
def contact_new(customer_id: int):
    """Add a contact to a customer (the contacts block comes back)."""
    record = _load(customer_id)
    if not svc.may_edit(current_user, record):
        abort(403)
    form = ContactForm()
    if request.method == "GET":
        return _contacts_block(record, form)
    return record_action(
        record,
        lambda record, form: svc.add_contact(current_user, record, form.to_input()),
        message=_("Contact added."),
        then=lambda _contact: _contact_saved(customer_id),
        on_error=lambda error, form: _contacts_block(
            _load(customer_id), put_error(form, error), status=422
        ),
        form=form,
    )


@bp.route("/customers/<int:customer_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@require("sales.edit")
def contact_edit(customer_id: int, contact_id: int):
    """Change a contact (the contacts block comes back)."""
    record = _load(customer_id)
    contact = _contact_of(record, contact_id)
    if not svc.may_edit(current_user, record):
        abort(403)
    if request.method == "GET":
        return _contacts_block(record, ContactForm(obj=contact), editing=contact)

    def refused(error, form):
        record = _load(customer_id)
        editing = _contact_of(record, contact_id)
        return _contacts_block(record, put_error(form, error), editing=editing, status=422)

    return record_action(
        contact,
        lambda contact, form: svc.update_contact(current_user, contact, form.to_input()),
        message=_("Contact saved."),
        then=lambda _contact: _contact_saved(customer_id),
        on_error=refused,
        form=ContactForm(),
    )


# --- import -----------------------------------------------------------------------------------------------


def _options_form() -> ImportOptionsForm:
    form = ImportOptionsForm()
    if not svc.is_assigner(current_user):  # the rows are theirs (importing.run_import)
        del form.owner_id
    return form


@bp.route("/customers/import", methods=["GET", "POST"])
@require("sales.import")
def customers_import():
    """Step 1 of the import: upload an .xlsx or .csv file of leads."""
    form = UploadForm()
    if request.method == "GET":
        return render("sales/import_upload.html", form=form, **_upload_limits())
    upload = request.files.get("file")
    error = None
    if not form.validate_on_submit():
        error = _("The form expired; upload the file again.")
    elif upload is None or not upload.filename:
        error = _("Choose a file to upload.")
    else:
        data = upload.read(importing.MAX_BYTES + 1)
        try:
            token, _table = importing.store_upload(current_user, data, upload.filename)
        except importing.ImportRefused as refused:
            error = str(refused)
        else:
            return redirect_to(url_for("sales.customers_import_map", token=token))
    form.file.errors = [error]
    return render("sales/import_upload.html", form=form, status=422, **_upload_limits())


def _upload_limits() -> dict:
    """What the upload page tells about the file (the limits core.spreadsheets holds it to)."""
    return {
        "max_rows": importing.MAX_ROWS,
        "max_columns": importing.MAX_COLUMNS,
        "max_mb": importing.MAX_BYTES // 2**20,
    }


def _loaded(token: str):
    try:
        loaded = importing.load_upload(current_user, token)
    except importing.ImportRefused:
        loaded = None
    if loaded is None:
        flash(
            _("That upload is gone (imported, expired, or not yours). Upload the file again."),
            "warning",
        )
        return None
    return loaded


def _mapping_from_form(width: int) -> list[str]:
    return [request.form.get(f"col{i}", "") for i in range(width)]


def _map_page(
    token: str,
    filename: str,
    table: importing.Table,
    mapping: list[str],
    options: ImportOptionsForm,
    report: importing.Report | None,
    error: str | None,
    status: int = 200,
):
    """The mapping page: the columns and their preview, then the check's report, if any."""
    return render(
        "sales/import_map.html",
        status=status,
        token=token,
        filename=filename,
        table=table,
        preview=table.rows[: importing.PREVIEW_ROWS],
        mapping=mapping,
        fields=importing.FIELDS,
        options=options,
        report=report,
        error=error,
        confirm=ConfirmForm(),
    )


@bp.route("/customers/import/<token>", methods=["GET", "POST"])
@require("sales.import")
def customers_import_map(token: str):
    """Step 2 and 3: map the columns (guessed from the headers) with a preview; then the
    report of what would be imported, invalid rows and likely duplicates."""
    loaded = _loaded(token)
    if loaded is None:
        return redirect_to(url_for("sales.customers_import"))
    table, filename = loaded
    options = _options_form()
    width = len(table.headers)
    mapping = importing.guess_mapping(table.headers)
    report = None
    error = None
    status = 200
    if request.method == "POST":
        mapping = _mapping_from_form(width)
        if not options.validate_on_submit():
            status = 422
        else:
            try:
                report = importing.analyse(table, mapping, options.source.data)
            except importing.ImportRefused as refused:
                error, status = str(refused), 422
    return _map_page(token, filename, table, mapping, options, report, error, status)


@bp.post("/customers/import/<token>/run")
@require("sales.import")
def customers_import_run(token: str):
    """Step 4: import the valid rows, all in one transaction, and remove the file."""
    loaded = _loaded(token)
    if loaded is None:
        return redirect_to(url_for("sales.customers_import"))
    table, filename = loaded
    options = _options_form()
    mapping = _mapping_from_form(len(table.headers))
    error = None
    report = None
    if options.validate_on_submit():
        try:
            report = importing.analyse(table, mapping, options.source.data)
            owner = options.owner_id.data if "owner_id" in options else None
            count = importing.run_import(
                current_user,
                report,
                options.source.data,
                options.source_detail.data or "",
                owner,
                filename,
            )
        except importing.ImportRefused as refused:
            db.session.rollback()
            error = str(refused)
        else:
            if count == 0:
                error = _("No valid row to import: correct the file and upload it again.")
            else:
                db.session.commit()
                importing.discard_upload(current_user, token)
                flash(
                    _(
                        "%(n)s customers imported; %(skipped)s rows skipped.",
                        n=count,
                        skipped=len(report.rows) - count,
                    ),
                    "success",
                )
                view = (
                    "customers_pool"
                    if svc.is_assigner(current_user) and not owner
                    else "customers_mine"
                )
                if svc.is_assigner(current_user) and owner:
                    view = "customers"
                return redirect_to(url_for(f"sales.{view}"))
    else:
        error = _("The form expired; check the file again.")
    return _map_page(token, filename, table, mapping, options, report, error, 422)


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add(
        "P4", nav.NavEntry("sales.customers", nav._l("Customers"), ("sales.view",), icon="users")
    )
    nav.add(
        "P4",
        nav.NavEntry(
            "sales.customers_mine",
            nav._l("My customers"),
            ("sales.edit",),
            icon="user",
            when=lambda user: "sales_rep" in user.role_codes,
        ),
    )
    nav.add(
        "P4",
        nav.NavEntry(
            "sales.customers_pool", nav._l("Customer pool"), ("sales.view",), icon="inbox"
        ),
    )
    nav.add(
        "P4",
        nav.NavEntry("sales.followups", nav._l("My follow-ups"), ("sales.edit",), icon="clock"),
    )
    nav.add(
        "P4",
        nav.NavEntry(
            "sales.customers_import", nav._l("Import leads"), ("sales.import",), icon="upload"
        ),
    )
