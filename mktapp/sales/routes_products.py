"""Product views: the list (search, sort, paging, export), the form (manager), archive."""

from __future__ import annotations

from flask import abort, current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from mktapp.core import nav
from mktapp.core.actions import edit_page, record_action
from mktapp.core.forms import put_error
from mktapp.core.htmx import render
from mktapp.core.permissions import can, require
from mktapp.extensions import db
from mktapp.models.sales import Product
from mktapp.sales import bp
from mktapp.sales import products as svc
from mktapp.sales.forms_products import ProductForm


@bp.app_template_global("product_margin")
def product_margin(product):
    return svc.margin(product)


@bp.get("/products")
@require("sales.view")
def products():
    """The product list: code, name, specification, price, cost and margin."""
    query = svc.ProductQuery.from_args(request.args)
    page = svc.list_products(query, current_app.config["PAGE_SIZE"])
    return render(
        "sales/products.html",
        block="product_rows",
        page=page,
        query=query,
        may_edit=can(current_user, "products.edit"),
        push_url=url_for("sales.products", **query.args()),
    )


@bp.get("/products.xlsx")
@require("sales.view")
def products_xlsx():
    """The filtered product list as an Excel workbook."""
    query = svc.ProductQuery.from_args(request.args)
    return svc.PRODUCTS.xlsx(svc.export_rows(query), _("Products"))


def _get(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    return product


def _form_page(form: ProductForm, product: Product | None, status: int = 200):
    return render(
        "sales/product_form.html", block="product_form", status=status, form=form, product=product
    )


def _edit(product: Product | None):
    """The product form: drawn, or saved (the list after)."""
    form = ProductForm(obj=product) if request.method == "GET" else ProductForm()
    return edit_page(
        "sales/product_form.html",
        "product_form",
        form,
        product,
        lambda product, form: (
            svc.create_product(current_user, form.to_input())
            if product is None
            else svc.update_product(current_user, product, form.to_input())
        ),
        message=lambda product: _("Product %(code)s saved.", code=product.code),
        then=url_for("sales.products"),
        product=product,
    )


@bp.route("/products/new", methods=["GET", "POST"])
@require("products.edit")
def product_new():
    """Add a product to the list."""
    return _edit(None)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@require("products.edit")
def product_edit(product_id: int):
    """Change a product's code, name, specification, price or cost."""
    return _edit(_get(product_id))


@bp.post("/products/<int:product_id>/archive")
@require("products.edit")
def product_archive(product_id: int):
    """Archive a product no longer sold (kept for the contracts that name it)."""
    product = _get(product_id)
    return record_action(
        product,
        lambda product, form: svc.archive_product(current_user, product),
        message=lambda product: _("Product %(code)s archived.", code=product.code),
        then=url_for("sales.products"),
        # Refused only to those who may not keep the list (a 403: the app's page);
        # anything else would show above the product's form, where the button is.
        on_error=lambda error, form: _form_page(
            put_error(ProductForm(formdata=None, obj=product), error), product, 422
        ),
    )


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add("P4", nav.NavEntry("sales.products", _l("Products"), ("sales.view",), icon="box"))
