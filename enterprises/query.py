"""Query parameters of pages, read through a form: anything malformed (a NUL byte, "²" for a number,
February 30th) is a 400 with a message in the reader's language, never a 500 or a query reaching the
database. Pages of other apps use the same helper."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse, QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

FORMATS = [("csv", "CSV"), ("xlsx", "Excel")]


class QueryForm(forms.Form):
    """Base for query-string forms: unknown parameters are ignored, known ones validated."""


def read_query(form_class: type[forms.Form], data: QueryDict) -> tuple[dict | None, HttpResponse | None]:
    """(cleaned values, None), or (None, a 400 naming each bad parameter)."""
    form = form_class(data)
    if form.is_valid():
        return form.cleaned_data, None
    return None, bad_query(form)


def bad_query(form: forms.Form) -> HttpResponse:
    problems = "；".join(
        f"{form.fields[name].label or name}：{' '.join(errors)}" if name in form.fields else " ".join(errors)
        for name, errors in form.errors.items()
    )
    return HttpResponse(
        _("请求参数无效。%(problems)s") % {"problems": problems},
        status=400,
        content_type="text/plain; charset=utf-8",
    )


class SearchQuery(QueryForm):
    q = forms.CharField(label=gettext_lazy("搜索"), required=False, max_length=200)  # NUL refused


class EnterpriseExportQuery(SearchQuery):
    year = forms.IntegerField(label=gettext_lazy("年度"), required=False, min_value=1900, max_value=2100)
    format = forms.ChoiceField(label=gettext_lazy("格式"), required=False, choices=FORMATS)
