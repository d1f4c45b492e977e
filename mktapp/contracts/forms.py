"""Forms of sales contracts (P4.3): the terms (lines, deliveries, instalments), signing,
execution, termination, amendment and archive.

Rows are added and removed by buttons that post the form back (htmx swaps the form
block; without JavaScript the whole page comes back): no inline script.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import FieldList, FormField, HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from mktapp.contracts import services as svc
from mktapp.core.attachments import AttachmentField
from mktapp.core.forms import AppForm, LocalDateField, MoneyField, RowForm, sensible_date
from mktapp.core.pickers import SHORT_LIST, FilterForm, PickerField


def parse_number(raw: str) -> Decimal:
    """A number typed as text ("1,234.50", "¥88"), at most two decimals."""
    text = str(raw).strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValueError(str(_l("Enter a number, like 1234.50."))) from None
    if not value.is_finite() or abs(value) >= svc.MAX_AMOUNT:
        raise ValueError(str(_l("Enter a number, like 1234.50.")))
    if value != value.quantize(svc.CENT):
        raise ValueError(str(_l("Use at most two decimals.")))
    return value


class ContractFilters(FilterForm):
    """The lists' owner filter (?owner=; core/pickers)."""

    owner = PickerField(
        _l("Sales rep"),
        id="f-owner",
        source="contract_owners",
        select_up_to=SHORT_LIST,
        blank=_l("Everyone"),
    )


class LineForm(RowForm):
    # A product of the catalogue, searched by code or name (core/pickers); none: a line
    # of free text.
    product_id = PickerField(
        _l("Product"),
        source="products",
        blank=_l("(free text)"),
        invalid_message=_l("Choose a product from the list, or leave it empty."),
    )
    # The product the row was last filled from: a new choice fills the row again.
    filled_from = HiddenField()
    name = StringField(_l("Product or service"), validators=[Length(max=200)])
    specification = StringField(_l("Specification"), validators=[Length(max=200)])
    unit = StringField(_l("Unit"), validators=[Length(max=20)])
    quantity = MoneyField(
        parse=parse_number, label=_l("Quantity"), render_kw={"inputmode": "decimal"}
    )
    unit_price = MoneyField(
        parse=parse_number, label=_l("Unit price"), render_kw={"inputmode": "decimal"}
    )


class DeliveryForm(RowForm):
    planned_date = LocalDateField(_l("Delivery date"), validators=[Optional(), sensible_date])
    description = StringField(_l("What is delivered"), validators=[Length(max=200)])


class InstalmentForm(RowForm):
    planned_date = LocalDateField(_l("Payment date"), validators=[Optional(), sensible_date])
    amount = MoneyField(parse=parse_number, label=_l("Amount"), render_kw={"inputmode": "decimal"})
    description = StringField(_l("Instalment"), validators=[Length(max=200)])


class TermsForm(AppForm):
    title = StringField(_l("Contract title"), validators=[Length(max=200)])
    tax_rate = MoneyField(
        _l("Tax rate (%)"),
        parse=parse_number,
        default=Decimal("13.00"),
        render_kw={"inputmode": "decimal"},
    )
    payment_method = StringField(
        _l("Payment method"),
        validators=[Length(max=200)],
        description=_l("For example: bank transfer to the company account."),
    )
    after_sales_terms = TextAreaField(
        _l("After-sales terms"),
        validators=[Length(max=5000)],
        description=_l("Warranty period, response time, maintenance and training."),
    )
    other_terms = TextAreaField(_l("Other terms"), validators=[Length(max=10000)])
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=60)
    deliveries = FieldList(FormField(DeliveryForm), min_entries=1, max_entries=30)
    instalments = FieldList(FormField(InstalmentForm), min_entries=1, max_entries=30)

    def prefill_products(self) -> None:
        """Rows whose product changed take that product's name, specification, unit and
        list price. A product typed without choosing (no JavaScript) is looked up first."""
        for entry in self.lines:
            picked = entry.form.product_id
            if picked.data is None and picked.text and not picked.errors:
                picked.resolve()
        products = svc.products_by_id(e.form.product_id.data for e in self.lines)
        for entry in self.lines:
            row = entry.form
            chosen = row.product_id.data
            if chosen in products and str(chosen) != (row.filled_from.data or ""):
                p = products[chosen]
                row.name.data, row.specification.data, row.unit.data = (
                    p.name,
                    p.specification,
                    p.unit,
                )
                row.unit_price.data = p.list_price
                for f in (row.name, row.specification, row.unit, row.unit_price):
                    f.raw_data = None
                row.filled_from.data = str(chosen)

    def load(self, terms: svc.TermsInput) -> None:
        """Fill the form from terms (an amendment starts from the current ones)."""
        self.title.data = terms.title
        self.tax_rate.data = terms.tax_rate
        self.payment_method.data = terms.payment_method
        self.after_sales_terms.data = terms.after_sales_terms
        self.other_terms.data = terms.other_terms
        for lst in (self.lines, self.deliveries, self.instalments):
            while len(lst.entries):
                lst.pop_entry()
        for line in terms.lines:
            self.lines.append_entry(
                {
                    "product_id": str(line.product_id or ""),
                    "filled_from": str(line.product_id or ""),
                    "name": line.name,
                    "specification": line.specification,
                    "unit": line.unit,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                }
            )
        for m in terms.deliveries:
            self.deliveries.append_entry(
                {"planned_date": m.planned_date, "description": m.description}
            )
        for m in terms.instalments:
            self.instalments.append_entry(
                {"planned_date": m.planned_date, "amount": m.amount, "description": m.description}
            )
        for lst in (self.lines, self.deliveries, self.instalments):
            if not lst.entries:
                lst.append_entry()

    def has_problems(self) -> bool:
        """Any error anywhere: a field, a row's cell (also those a service put there after
        validation), a list or the form."""
        if self.form_errors or any((getattr(self, "list_errors", None) or {}).values()):
            return True
        for f in self:
            if isinstance(f, FieldList):
                if any(sub.errors for entry in f.entries for sub in entry.form):
                    return True
            elif f.errors:
                return True
        return False

    def to_terms(self) -> svc.TermsInput:
        return svc.TermsInput(
            title=self.title.data or "",
            tax_rate=self.tax_rate.data,
            payment_method=self.payment_method.data or "",
            after_sales_terms=self.after_sales_terms.data or "",
            other_terms=self.other_terms.data or "",
            lines=[
                svc.LineInput(
                    e.form.product_id.data,
                    e.form.name.data or "",
                    e.form.specification.data or "",
                    e.form.unit.data or "",
                    e.form.quantity.data,
                    e.form.unit_price.data,
                )
                for e in self.lines
            ],
            deliveries=[
                svc.MilestoneInput(e.form.planned_date.data, e.form.description.data or "")
                for e in self.deliveries
            ],
            instalments=[
                svc.MilestoneInput(
                    e.form.planned_date.data, e.form.description.data or "", e.form.amount.data
                )
                for e in self.instalments
            ],
        )


class ContractForm(TermsForm):
    customer_id = HiddenField()
    opportunity_id = HiddenField()


class AmendmentForm(TermsForm):
    reason = TextAreaField(
        _l("Reason for the change"),
        validators=[Length(max=5000)],
        description=_l("What was negotiated with the customer, and why."),
    )


class SignForm(AppForm):
    signed_on = LocalDateField(_l("Signed on"), validators=[Optional(), sensible_date])
    scan = AttachmentField(
        _l("Signed contract (scan)"),
    )


class MilestoneForm(AppForm):
    actual_date = LocalDateField(_l("Actual date"), validators=[Optional(), sensible_date])
    actual_amount = MoneyField(
        parse=parse_number, label=_l("Amount received"), render_kw={"inputmode": "decimal"}
    )
    note = StringField(_l("Note"), validators=[Length(max=300)])


class TerminateForm(AppForm):
    reason = TextAreaField(_l("Reason for termination"), validators=[Length(max=5000)])


class ArchiveForm(AppForm):
    archive_no = StringField(_l("Archive number"), validators=[Length(max=40)])
    location = StringField(
        _l("Archive location"),
        validators=[Length(max=200)],
        description=_l("Cabinet and shelf, e.g. 档案室 A-03-2."),
    )
    scan = AttachmentField(_l("Signed contract (scan)"))


LISTS = ("lines", "deliveries", "instalments")


def put_problems(form, problems, warnings: bool = False, only_unmarked: bool = False) -> None:
    """Put a service's complaints next to their fields: "lines-0-quantity" is the first
    line's quantity; "instalments" a message above the instalment rows. With
    warnings=True they are warnings (a draft may be saved with them): field_warnings
    and list_warnings, read by the template beside the errors. only_unmarked: leave
    fields that already have an error (a mistyped number) with that one."""
    for attr in ("list_errors", "list_warnings", "field_warnings"):
        if getattr(form, attr, None) is None:
            setattr(form, attr, {})
    for name, message in problems:
        parts = (name or "").split("-")
        target = None
        if name in LISTS:
            lists = form.list_warnings if warnings else form.list_errors
            lists.setdefault(name, []).append(message)
            continue
        if len(parts) == 3 and parts[0] in LISTS and parts[1].isdigit():
            entries = getattr(form, parts[0]).entries
            index = int(parts[1])
            if index < len(entries):
                target = getattr(entries[index].form, parts[2], None)
        elif name:
            target = getattr(form, name, None)
        if target is not None and hasattr(target, "errors"):
            if only_unmarked and target.errors:
                continue
            if warnings:
                form.field_warnings.setdefault(target.name, []).append(message)
                continue
            errors = list(target.errors or [])
            if message not in errors:
                errors.append(message)
            target.errors = errors
        elif warnings:
            form.list_warnings.setdefault("", []).append(message)
        else:
            form.form_errors.append(message)
