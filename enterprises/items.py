"""An enterprise's items (projects, facilities, products, events): writes and reads.

An item's values are catalog facts of its kind (`FactDefinition.item_kind`), typed and stored by the
same codec as stored facts (enterprises/catalog.py). Writes are keyword-only, atomic, bump the
item's and the enterprise's versions (a stale edit is refused), and are announced like every
enterprise row so the enterprise is re-evaluated (changes.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from enterprises import catalog, changes
from enterprises.models import Enterprise, Item, Source
from enterprises.services import StaleEditError, _attribute, _bump_version, _lock
from policies.models import FactDefinition, ItemKind


class StaleItemError(StaleEditError):
    """The item changed since the writer loaded it (its `version`)."""

    def __init__(self) -> None:
        ValidationError.__init__(
            self,
            _("该事项已被他人修改（或本次提交已处理过），请刷新页面后重新编辑。本次修改未保存。"),
            code="stale",
        )


def item_facts(kind: str) -> dict[str, FactDefinition]:
    """The catalog facts of one item kind, by code."""
    return {fact.code: fact for fact in FactDefinition.objects.filter(item_kind=kind).order_by("pk")}


def typed_values(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """JSON values of an item after checking each against its fact; blank values are left out (unknown).

    Raises ValidationError naming the fact (by its label) for an unknown kind or fact, or a bad value."""
    if not ItemKind.objects.filter(code=kind).exists():
        raise ValidationError(_("未知的事项类型：%(kind)s。") % {"kind": kind}, code="unknown_item_kind")
    facts = item_facts(kind)
    errors: dict[str, list[str]] = {}
    stored: dict[str, Any] = {}
    for code, raw in values.items():
        definition = facts.get(code)
        if definition is None:
            errors.setdefault("values", []).append(_("“%(code)s”不是此类事项的信息项。") % {"code": code})
            continue
        try:
            typed = catalog.coerce_fact_value(definition, raw)
        except ValidationError as exc:
            errors.setdefault("values", []).extend(exc.messages)
            continue
        if typed is not None:
            stored[code] = catalog.to_json(definition.type, typed)
    if errors:
        raise ValidationError(errors)
    return stored


@transaction.atomic
def save_item(
    *,
    enterprise_id: int,
    kind: str,
    title: str,
    values: Mapping[str, Any],
    item_id: int | None = None,
    external_ref: str = "",
    source: str = Source.SELF_DECLARED,
    expected_version: int | None = None,
    actor: User | None = None,
) -> Item:
    """Create an item, or replace the values of one (`item_id`; `expected_version` is the item's)."""
    enterprise = _lock(enterprise_id, None)
    stored = typed_values(kind, values)
    if item_id is None:
        item = Item(enterprise=enterprise, kind=kind)
    else:
        item = Item.objects.select_for_update().filter(pk=item_id, enterprise=enterprise).first()
        if item is None:
            raise ValidationError(_("该事项不存在或不属于本企业。"), code="unknown_item")
        if expected_version is not None and item.version != expected_version:
            raise StaleItemError()
        if item.kind != kind:
            raise ValidationError({"kind": _("事项类型不能修改，请新建事项。")})
        item.version += 1  # the row is locked: no F() (history would record the expression)
    item.title, item.external_ref, item.values, item.source = title.strip(), external_ref, stored, source
    item.full_clean(exclude=["version"])
    _attribute(item, actor)
    item.save()
    changes.record([enterprise.pk], changes.ITEMS)
    item.refresh_from_db()
    _bump_version(enterprise)
    return item


@transaction.atomic
def delete_item(
    *, enterprise_id: int, item_id: int, expected_version: int | None = None, actor: User | None = None
) -> None:
    """Delete one item (`expected_version` is the item's: a stale delete is refused)."""
    enterprise = _lock(enterprise_id, None)
    item = Item.objects.select_for_update().filter(pk=item_id, enterprise=enterprise).first()
    if item is None:
        raise ValidationError(_("该事项不存在或不属于本企业。"), code="unknown_item")
    if expected_version is not None and item.version != expected_version:
        raise StaleItemError()
    _attribute(item, actor)
    try:
        with transaction.atomic():
            item.delete()
    except ProtectedError as exc:  # an application was made for it (applications keep their item)
        raise ValidationError(
            _("“%(title)s”已有申报记录，不能删除；如信息有误请修改该事项。") % {"title": item.title},
            code="item_in_use",
        ) from exc
    changes.record([enterprise.pk], changes.ITEMS)
    _bump_version(enterprise)


def items_of(enterprise: Enterprise) -> list[Item]:
    return list(enterprise.items.order_by("kind", "pk"))


def item_kinds() -> list[ItemKind]:
    """The kinds a person may add an item of: those with at least one fact."""
    kinds = set(FactDefinition.objects.exclude(item_kind="").values_list("item_kind", flat=True))
    return [kind for kind in ItemKind.objects.order_by("code") if kind.code in kinds]
