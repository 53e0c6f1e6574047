"""Pages of an enterprise's items (projects, facilities, …): add (choose a kind, then its facts), edit and
delete. The enterprise's own users and staff with enterprises.change_enterprise only (404 otherwise);
the writes are enterprises/items.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from enterprises import forms, items, selectors
from enterprises.models import Item
from enterprises.presentation import item_text
from enterprises.views import _source_for
from policies.models import ItemKind


def _profile_items(pk: int) -> str:
    return reverse("enterprises:profile", kwargs={"pk": pk}) + "#items"


def _item_or_404(enterprise, item_id: int) -> Item:
    item = Item.objects.filter(pk=item_id, enterprise=enterprise).first()
    if item is None:
        raise Http404
    return item


def _kind_or_404(code: str) -> ItemKind:
    kind = ItemKind.objects.filter(code=code).first()
    if kind is None or not items.item_facts(code):
        raise Http404
    return kind


def _form_page(request: HttpRequest, enterprise, kind: ItemKind, item: Item | None) -> HttpResponse:
    facts = items.item_facts(kind.code)
    form = forms.ItemForm(request.POST or None, facts=facts, item=item)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            items.save_item(
                enterprise_id=enterprise.pk,
                kind=kind.code,
                title=data["title"],
                values=data["values"],
                item_id=item.pk if item else None,
                external_ref=item.external_ref if item else "",
                source=_source_for(request.user),
                expected_version=data["version"] if item else None,
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("已保存。"))
            return redirect(_profile_items(enterprise.pk))
    title = (_("编辑%(kind)s") if item else _("添加%(kind)s")) % {"kind": kind.label}
    return render(
        request,
        "enterprises/item_form.html",
        {"enterprise": enterprise, "form": form, "title": title, "kind": kind, "item": item},
    )


@login_required
def add_item(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose the kind of the new item."""
    enterprise = selectors.enterprise_editable_by(request.user, pk)
    return render(
        request, "enterprises/item_kinds.html", {"enterprise": enterprise, "kinds": items.item_kinds()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def add_item_of_kind(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    enterprise = selectors.enterprise_editable_by(request.user, pk)
    return _form_page(request, enterprise, _kind_or_404(kind), None)


@login_required
@require_http_methods(["GET", "POST"])
def edit_item(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    enterprise = selectors.enterprise_editable_by(request.user, pk)
    item = _item_or_404(enterprise, item_id)
    return _form_page(request, enterprise, _kind_or_404(item.kind), item)


@login_required
@require_http_methods(["GET", "POST"])
def delete_item(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    """GET: the confirmation page naming the item; POST (from it): the delete."""
    enterprise = selectors.enterprise_editable_by(request.user, pk)
    item = _item_or_404(enterprise, item_id)
    if request.method == "GET":
        kind = ItemKind.objects.filter(code=item.kind).first()
        text = item_text(item, kind.label if kind else _("事项"), items.item_facts(item.kind))
        return render(
            request,
            "enterprises/confirm_delete.html",
            {
                "enterprise": enterprise,
                "text": text,
                "version": item.version,
                "cancel_url": _profile_items(enterprise.pk),
            },
        )
    form = forms.VersionedForm(request.POST)
    if not form.is_valid():
        raise PermissionDenied
    try:
        items.delete_item(
            enterprise_id=enterprise.pk,
            item_id=item.pk,
            expected_version=form.cleaned_data["version"],
            actor=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("已删除。"))
    return redirect(_profile_items(enterprise.pk))
