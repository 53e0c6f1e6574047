"""Staff editing of policy data. Thin: forms validate through the models' clean(), saves go through services,
and every change is kept by django-simple-history (who, when, what: the "历史" button on each page)."""

import json

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from policies import money, services
from policies.models import Benefit, Clause, FactDefinition, Heading, PolicyDocument
from policies.selectors import benefits_reading_fact

ADMIN_REASON = "admin"


class PrettyJSONField(forms.JSONField):
    """JSON shown indented and with Chinese unescaped, so staff can read and edit conditions."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2)


def json_textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "cols": 90, "class": "policy-json", "spellcheck": "false"})


WAN_FIELDS = {"cap": _("金额上限（万元）"), "amount": _("固定金额（万元）")}


def wan_text(yuan) -> str:
    """Yuan shown in 万元 in the admin's lists (the column says 万元): 10000000 → "1000"; None → —."""
    return money.wan_input(yuan) if yuan is not None else "—"


class BenefitForm(forms.ModelForm):
    """Caps and fixed amounts are typed and shown in 万元, as the texts print them; stored in yuan."""

    cap = forms.DecimalField(
        label=WAN_FIELDS["cap"], required=False, min_value=0, max_digits=14, decimal_places=6,
        help_text=_("单位：万元（1 万元 = 10000 元）；原文未给出则留空。"),
    )  # fmt: skip
    amount = forms.DecimalField(
        label=WAN_FIELDS["amount"], required=False, min_value=0, max_digits=14, decimal_places=6,
        help_text=_("单位：万元（1 万元 = 10000 元）；原文未给出则留空。"),
    )  # fmt: skip
    condition = PrettyJSONField(
        label=_("条件"),
        required=False,
        widget=json_textarea(14),
        help_text=_(
            '例如 {"all": [{"fact": "new_factory_lease_area_m2", "op": "gte", "value": 5000, '
            '"quote": "租赁面积超过5000平方米（含）以上"}]}；留空表示无额外条件。保存时按事实目录校验。'
        ),
    )

    class Meta:
        model = Benefit
        fields = [
            "clause", "key", "name", "kind", "cap", "amount", "ratio", "base_fact", "instalments", "recurrence",
            "requires_recognition", "recognition_phrase", "amount_quote", "stacking_group", "valid_from",
            "valid_to", "condition",
        ]  # fmt: skip
        widgets = {"amount_quote": forms.Textarea(attrs={"rows": 2, "cols": 90})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in WAN_FIELDS:  # the instance's yuan, shown in 万元
            value = self.initial.get(name)
            if value is not None and not self.is_bound:
                self.initial[name] = money.wan_number(value)

    def clean(self):
        cleaned = super().clean()
        for name in WAN_FIELDS:
            if cleaned.get(name) is not None:
                cleaned[name] = money.yuan_from_wan(cleaned[name])
        return cleaned


class ClauseForm(forms.ModelForm):
    figures_not_benefits = PrettyJSONField(label=_("非补贴数字"), required=False, widget=json_textarea(5))

    class Meta:
        model = Clause
        fields = ["document", "heading", "number", "order", "kind", "title", "text", "figures_not_benefits"]

    def clean_figures_not_benefits(self):
        return self.cleaned_data["figures_not_benefits"] or []


class HeadingInline(admin.TabularInline):
    model = Heading
    extra = 0


class ClauseInline(admin.TabularInline):
    model = Clause
    form = ClauseForm
    fields = ["number", "order", "kind", "heading", "title", "text"]
    extra = 0
    show_change_link = True

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "text":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 3, "cols": 60})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "heading":  # only this document's headings
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = Heading.objects.filter(document_id=object_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class BenefitInline(admin.StackedInline):
    model = Benefit
    form = BenefitForm
    extra = 0
    readonly_fields = ["version"]
    fieldsets = [
        (None, {"fields": [("key", "name", "kind"), ("cap", "amount", "ratio", "base_fact")]}),
        (None, {"fields": [("instalments", "recurrence", "stacking_group"), ("valid_from", "valid_to")]}),
        (
            None,
            {
                "fields": [
                    ("requires_recognition", "recognition_phrase"),
                    "amount_quote",
                    "condition",
                    "version",
                ]
            },
        ),
    ]


def save_through_service(obj) -> None:
    if isinstance(obj, PolicyDocument):
        services.save_document(document=obj, reason=ADMIN_REASON)
    elif isinstance(obj, Heading):
        services.save_heading(heading=obj, reason=ADMIN_REASON)
    elif isinstance(obj, Clause):
        services.save_clause(clause=obj, reason=ADMIN_REASON)
    elif isinstance(obj, Benefit):
        services.save_benefit(benefit=obj, reason=ADMIN_REASON)
    elif isinstance(obj, FactDefinition):
        services.save_fact_definition(fact=obj, reason=ADMIN_REASON)
    else:
        raise TypeError(f"no save service for {type(obj).__name__}")


class ServiceSavingAdmin(SimpleHistoryAdmin):
    """Every save goes through policies.services (validation, unchanged rows skipped, version moves)."""

    def save_model(self, request, obj, form, change):
        save_through_service(obj)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            services.delete_object(instance=obj, reason=ADMIN_REASON)
        for obj in instances:
            save_through_service(obj)
        formset.save_m2m()

    def delete_model(self, request, obj):
        services.delete_object(instance=obj, reason=ADMIN_REASON)

    def delete_queryset(self, request, queryset):  # the "delete selected" action: one by one, recorded
        for obj in queryset:
            services.delete_object(instance=obj, reason=ADMIN_REASON)


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(ServiceSavingAdmin):
    list_display = ["title", "key", "level", "status", "effective_from", "effective_to", "application_period"]
    list_filter = ["level", "status"]
    search_fields = ["title", "key", "number", "issuer"]
    inlines = [HeadingInline, ClauseInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # the issuer's link: https by default


@admin.register(Clause)
class ClauseAdmin(ServiceSavingAdmin):
    """A clause with its benefits beside the original text (template admin/policies/clause/change_form.html)."""

    form = ClauseForm
    list_display = ["document", "number", "order", "kind", "title"]
    list_filter = ["document", "kind"]
    search_fields = ["number", "title", "text"]
    list_select_related = ["document"]
    inlines = [BenefitInline]


@admin.register(Benefit)
class BenefitAdmin(ServiceSavingAdmin):
    """One benefit beside its clause's original text (template admin/policies/benefit/change_form.html)."""

    form = BenefitForm
    list_display = ["name", "clause", "kind", "cap_wan", "ratio", "requires_recognition", "version"]
    list_filter = ["clause__document", "kind", "requires_recognition"]
    search_fields = ["key", "name", "amount_quote", "clause__text"]
    list_select_related = ["clause__document"]
    readonly_fields = ["version", "fact_codes"]
    autocomplete_fields = ["clause"]

    @admin.display(description=_("金额上限（万元）"), ordering="cap")
    def cap_wan(self, benefit: Benefit) -> str:
        return wan_text(benefit.cap)


class FactDefinitionForm(forms.ModelForm):
    choices = PrettyJSONField(label=_("可选值"), required=False, widget=json_textarea(8))

    class Meta:
        model = FactDefinition
        fields = [
            "code",
            "type",
            "unit",
            "label_zh",
            "label_en",
            "description",
            "choices",
            "derived",
            "source_file",
        ]

    def clean_choices(self):
        return self.cleaned_data["choices"] or []

    def _post_clean(self):
        super()._post_clean()  # the instance now holds the edited values
        if self.instance.pk and not self.errors:
            for problem in services.conditions_broken_by(self.instance):
                self.add_error(None, problem)


@admin.register(FactDefinition)
class FactDefinitionAdmin(ServiceSavingAdmin):
    """The fact catalog: staff add stored facts here (values then live in the generic fact store)."""

    form = FactDefinitionForm
    list_display = ["code", "label_zh", "type", "unit", "derived", "source_file"]
    list_filter = ["type", "derived"]
    search_fields = ["code", "label_zh", "label_en", "description"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj else []  # conditions refer to facts by code

    def has_delete_permission(self, request, obj=None):
        if obj is not None and benefits_reading_fact(obj.code):
            return False  # a condition still reads it
        return super().has_delete_permission(request, obj)
