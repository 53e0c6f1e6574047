"""Enterprise pages. An enterprise user sees and edits only its own enterprise (404 for any other);
staff see all with enterprises.view_enterprise and edit with enterprises.change_enterprise."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from enterprises import forms, items, selectors, services
from enterprises.catalog import load_catalog
from enterprises.facts import facts_for
from enterprises.models import FactValue, Project, Recognition, Source, YearlyFigure
from enterprises.presentation import display_value, item_values, row_text
from enterprises.query import SearchQuery, read_query
from policies.models import ItemKind

SOURCE_LABELS = dict(Source.choices) | {"derived": gettext_lazy("系统计算")}  # lazy: read per request


def _source_for(user) -> str:
    return Source.STAFF if user.has_perm("enterprises.change_enterprise") else Source.SELF_DECLARED


def _save(request: HttpRequest, form, write) -> bool:
    """Run a service write; put its validation errors (stale edits included) on the form."""
    try:
        write()
    except ValidationError as error:
        form.add_error(None, error)
        return False
    messages.success(request, _("已保存。"))
    return True


@login_required
def index(request: HttpRequest) -> HttpResponse:
    own = selectors.enterprise_for_user(request.user)
    if own is not None:
        return redirect("enterprises:profile", pk=own.pk)
    if not request.user.has_perm("enterprises.view_enterprise"):
        raise Http404
    values, refused = read_query(SearchQuery, request.GET)
    if refused:
        return refused
    query = values["q"]
    enterprises = selectors.search_enterprises(query)[:100]
    return render(request, "enterprises/index.html", {"enterprises": enterprises, "query": query})


@login_required
def profile(request: HttpRequest, pk: int) -> HttpResponse:
    enterprise = selectors.enterprise_visible_to(request.user, pk)
    catalog = load_catalog()
    as_of = timezone.localdate()
    sheet = facts_for(enterprise, as_of, catalog=catalog)
    facts = [
        {
            "definition": definition,
            "display": display_value(definition, sheet.values[code]),
            "known": sheet.values[code] is not None,
            "source": SOURCE_LABELS.get(sheet.sources.get(code, ""), ""),
        }
        for code, definition in catalog.items()
        if code in sheet.values  # item facts are shown with their items, not as the enterprise's
    ]
    context = selectors.profile(enterprise)
    recognitions = catalog.get("recognitions")
    recognition_labels = dict(recognitions.choice_pairs()) if recognitions else {}
    for row in context["recognitions"]:
        row.kind_label = recognition_labels.get(row.kind, row.kind)
    context |= {
        "facts": facts,
        "as_of": as_of,
        "can_edit": selectors.can_edit(request.user, enterprise),
        "item_groups": item_groups(enterprise),
        "history": enterprise.history.select_related("history_user").order_by("-history_date")[:10],
    }
    return render(request, "enterprises/profile.html", context)


def item_groups(enterprise) -> list[dict]:
    """The enterprise's items grouped by kind (in the kinds' order), each with its values as people read them."""
    facts_of: dict[str, dict] = {}
    kinds = {kind.code: kind for kind in ItemKind.objects.all()}
    groups: dict[str, dict] = {}
    for item in items.items_of(enterprise):
        if item.kind not in facts_of:
            facts_of[item.kind] = items.item_facts(item.kind)
        kind = kinds.get(item.kind)
        group = groups.setdefault(item.kind, {"label": kind.label if kind else _("其他事项"), "items": []})
        group["items"].append(
            {
                "item": item,
                "values": item_values(item, facts_of[item.kind]),
                "source": SOURCE_LABELS.get(item.source, ""),
            }
        )
    return [groups[code] for code in sorted(groups)]


@login_required
def edit_profile(request: HttpRequest, pk: int) -> HttpResponse:
    enterprise = selectors.enterprise_editable_by(request.user, pk)
    staff = request.user.has_perm("enterprises.change_enterprise")
    form = forms.EnterpriseForm(
        request.POST or None,
        instance=enterprise,
        initial={"version": enterprise.version},
        can_change_identity=staff,
    )
    if request.method == "POST" and form.is_valid():

        def write():
            services.update_enterprise(
                enterprise_id=pk,
                expected_version=form.cleaned_data["version"],
                changes={**form.changes(), "source": _source_for(request.user)},
                actor=request.user,
            )

        if _save(request, form, write):
            return redirect("enterprises:profile", pk=pk)
    return render(
        request, "enterprises/edit.html", {"enterprise": enterprise, "form": form, "title": _("编辑基本信息")}
    )


def _related_page(request: HttpRequest, pk: int, *, form_class, title: str, write, rows) -> HttpResponse:
    enterprise = selectors.enterprise_editable_by(request.user, pk)
    form = form_class(request.POST or None, initial={"version": enterprise.version})
    saved = (
        request.method == "POST"
        and form.is_valid()
        and _save(request, form, lambda: write(enterprise, form.cleaned_data))
    )
    if saved:
        return redirect(request.path)
    table = request.resolver_match.url_name
    catalog = load_catalog()
    return render(
        request,
        "enterprises/related.html",
        {
            "enterprise": enterprise,
            "form": form,
            "title": title,
            "rows": [{"row": row, "text": row_text(table, row, catalog)} for row in rows(enterprise)],
            "table": table,
        },
    )


@login_required
def figures(request: HttpRequest, pk: int) -> HttpResponse:
    def write(enterprise, data):
        values = {
            name: data[name] for name in ("output_value", "revenue", "rd_expense", "employees", "tax_paid")
        }
        services.save_yearly_figure(
            enterprise_id=enterprise.pk,
            year=data["year"],
            values={**values, "source": _source_for(request.user)},
            expected_version=data["version"],
            actor=request.user,
        )

    return _related_page(
        request,
        pk,
        form_class=forms.YearlyFigureForm,
        title=_("年度经营数据"),
        write=write,
        rows=lambda enterprise: enterprise.figures.order_by("-year"),
    )


def _kind_and_year_rows(add_row, *, form_class, title, rows):
    """The page of a table whose rows are added by kind and year (recognitions, projects)."""

    @login_required
    def page(request: HttpRequest, pk: int) -> HttpResponse:
        def write(enterprise, data):
            values = {name: value for name, value in data.items() if name not in {"kind", "year", "version"}}
            add_row(
                enterprise_id=enterprise.pk,
                kind=data["kind"],
                year=data["year"],
                values={**values, "source": _source_for(request.user)},
                expected_version=data["version"],
                actor=request.user,
            )

        return _related_page(request, pk, form_class=form_class, title=title, write=write, rows=rows)

    return page


recognitions = _kind_and_year_rows(
    services.add_recognition,
    form_class=forms.RecognitionForm,
    title=gettext_lazy("认定与荣誉"),
    rows=lambda enterprise: enterprise.recognitions.order_by("-year", "kind"),
)
projects = _kind_and_year_rows(
    services.add_project,
    form_class=forms.ProjectForm,
    title=gettext_lazy("项目与申报事项"),
    rows=lambda enterprise: enterprise.projects.order_by("-year", "kind"),
)


@login_required
def fact_values(request: HttpRequest, pk: int) -> HttpResponse:
    def write(enterprise, data):
        services.set_fact_value(
            enterprise_id=enterprise.pk,
            code=data["fact"],
            value=data["typed_value"],
            year=data["year"],
            valid_from=data["valid_from"],
            source=_source_for(request.user),
            expected_version=data["version"],
            actor=request.user,
        )

    return _related_page(
        request,
        pk,
        form_class=forms.FactValueForm,
        title=_("其他事实（通用事实存储）"),
        write=write,
        rows=lambda enterprise: enterprise.fact_values.select_related("fact").order_by("fact__code", "-year"),
    )


DELETABLE = {
    "figures": YearlyFigure,
    "recognitions": Recognition,
    "projects": Project,
    "fact_values": FactValue,
}


@login_required
@require_http_methods(["GET", "POST"])
def delete_row(request: HttpRequest, pk: int, table: str, row_pk: int) -> HttpResponse:
    """GET: the confirmation page naming the row; POST (from it): the delete."""
    enterprise = selectors.enterprise_editable_by(request.user, pk)
    model = DELETABLE.get(table)
    row = model.objects.filter(pk=row_pk, enterprise=enterprise).first() if model else None
    if row is None:
        raise Http404
    if request.method == "GET":
        return render(
            request,
            "enterprises/confirm_delete.html",
            {"enterprise": enterprise, "text": row_text(table, row, load_catalog()), "table": table},
        )
    form = forms.VersionedForm(request.POST)
    if not form.is_valid():
        raise PermissionDenied
    try:
        services.delete_related(
            enterprise_id=enterprise.pk,
            instance=row,
            expected_version=form.cleaned_data["version"],
            actor=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("已删除。"))
    return redirect(f"enterprises:{table}", pk=pk)
