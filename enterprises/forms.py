"""Forms of the enterprise profile. They validate input; the services in services.py write."""

from __future__ import annotations

from django import forms
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from enterprises import catalog, services, taxonomy
from enterprises.models import Enterprise, Project, Recognition, YearlyFigure
from policies import facttypes, money
from policies.conditions import unit_text
from policies.i18n import english
from policies.models import FactDefinition, Region


def catalog_choices(code: str) -> list[tuple[str, str]]:
    definition = FactDefinition.objects.filter(code=code).first()
    return definition.choice_pairs() if definition else []  # labels in the reader's language


def wan_label(label) -> str:
    """A model's yuan label as the form's 万元 label: 工业总产值（元） → 工业总产值（万元）."""
    return str(label).replace("（元）", "（万元）").replace("(yuan)", "(10,000 yuan)")


class WanFieldsMixin:
    """Money is typed in 万元 (as everywhere people enter it) and stored in Decimal yuan, to the fen:
    the listed model fields become 万元 fields here and are converted back when cleaned."""

    wan_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.wan_fields:
            model_field = self._meta.model._meta.get_field(name)
            self.fields[name] = forms.DecimalField(
                label=wan_label(model_field.verbose_name),
                required=False,
                min_value=0,
                max_digits=14,  # below the column's 16 digits once in yuan
                decimal_places=6,  # 万元 to the fen
                help_text=_("单位：万元（1 万元 = 10000 元）。"),
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )

    def clean(self):
        cleaned = super().clean()
        for name in self.wan_fields:
            value = cleaned.get(name)
            if value is not None:
                cleaned[name] = money.yuan_from_wan(value)
        return cleaned


class VersionedForm(forms.Form):
    """Carries the profile version the user saw, for the optimistic lock."""

    version = forms.IntegerField(widget=forms.HiddenInput)


def region_select_choices() -> list[tuple[str, str]]:
    """The region tree for a select: "same as registered" first, then regions indented by depth."""
    from policies.regions import region_choices

    rows = Region.objects.values("code", "name_zh", "name_en", "level", parent_code=F("parent__code"))
    choices = [("", _("与注册地相同"))]
    lang_en = english()
    for choice in region_choices(rows):
        if choice["level"] == "national":
            continue
        indent = "\u3000" * max(len(choice["within"]) - 1, 0)
        choices.append((choice["value"], indent + (choice["label_en"] if lang_en else choice["label_zh"])))
    return choices


class EnterpriseForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    industry_tracks = forms.MultipleChoiceField(
        label=_("重点产业领域"), required=False, widget=forms.CheckboxSelectMultiple
    )
    industry_subtracks = forms.MultipleChoiceField(
        label=_("细分赛道"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=lambda: list(taxonomy.subtrack_labels().items()),  # a callable: worded per request
    )

    class Meta:
        model = Enterprise
        fields = [name for name in services.ENTERPRISE_FIELDS if name != "source"]
        widgets = {
            "registered_on": forms.DateInput(attrs={"type": "date"}),
            "listed_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, can_change_identity: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["industry_tracks"].choices = catalog_choices("industry_tracks")
        regions = region_select_choices()
        self.fields["registered_region"].widget = forms.Select(
            choices=[("", _("按所在区和街镇")), *regions[1:]]
        )
        self.fields["operating_region"].widget = forms.Select(choices=regions)
        if not can_change_identity:  # the credit code identifies the company: staff change it
            self.fields["credit_code"].disabled = True

    def changes(self) -> dict:
        """The edited fields for services.update_enterprise (disabled fields are not the user's to change)."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields if not self.fields[name].disabled}


class YearlyFigureForm(WanFieldsMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    wan_fields = ("output_value", "revenue", "rd_expense", "tax_paid")

    class Meta:
        model = YearlyFigure
        fields = ["year", "output_value", "revenue", "rd_expense", "employees", "tax_paid"]

    def validate_unique(self) -> None:
        pass  # saving an existing year updates it (services.save_yearly_figure)


class RecognitionForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("认定类型"))

    class Meta:
        model = Recognition
        fields = ["kind", "year", "level", "certificate_no", "first_time", "grade"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = catalog_choices("recognitions")


class ProjectForm(WanFieldsMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    wan_fields = (
        "total_investment",
        "new_equipment_investment",
        "municipal_funding_granted",
        "rent_total",
        "contract_amount",
        "cost",
        "interest_paid",
        "guarantee_fee_paid",
    )

    class Meta:
        model = Project
        fields = [
            "kind",
            "title",
            "year",
            "level",
            "total_investment",
            "new_equipment_investment",
            "municipal_funding_granted",
            "area_m2",
            "rent_total",
            "contract_amount",
            "cost",
            "interest_paid",
            "guarantee_fee_paid",
            "is_new",
            "self_use",
            "key_industry_new_project",
            "policy_guaranteed",
        ]


def wan_text_to_yuan(text: str) -> str:
    """A money value typed in 万元 as the yuan text the catalog stores; other text unchanged (the catalog
    check then says what is wrong)."""
    yuan = money.parse_wan(text)
    return text if isinstance(yuan, str) or yuan is None else str(yuan)


def fact_field(definition: FactDefinition) -> forms.Field:
    """The form field that asks one catalog fact: money in 万元, units in the label, choices by label."""
    Type = FactDefinition.Type
    label = definition.label
    help_parts = [definition.description] if definition.description else []
    if definition.type == Type.MONEY:
        label = f"{label}（{_('万元')}）"
        help_parts.append(str(_("单位：万元（1 万元 = 10000 元）。")))
    elif definition.unit:
        label = f"{label}（{unit_text(definition.unit)}）"
    common = {"label": label, "required": False, "help_text": " ".join(help_parts)}
    if definition.type == Type.BOOL:
        return forms.ChoiceField(choices=facttypes.BOOL_CHOICES, **common)
    if definition.type in (Type.ENUM, Type.REGION):
        return forms.ChoiceField(choices=[("", _("不清楚"))] + definition.choice_pairs(), **common)
    if definition.type == Type.SET and definition.choices:
        return forms.MultipleChoiceField(
            choices=definition.choice_pairs(), widget=forms.CheckboxSelectMultiple, **common
        )
    attrs = {"autocomplete": "off"}
    if definition.type in (Type.MONEY, Type.INT, Type.DECIMAL):
        attrs["inputmode"] = "decimal"
    if definition.type == Type.DATE:
        attrs["type"] = "date"
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **common)


class ItemForm(forms.Form):
    """An item's title and the facts of its kind; `values()` gives them in catalog units for
    enterprises.items.save_item (blank: unknown). `version` is the item's, for the optimistic lock."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label=_("名称"), max_length=200)

    def __init__(self, *args, facts: dict[str, FactDefinition], item=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.facts = facts
        stored = item.values if item is not None else {}
        if item is not None:
            self.fields["version"].initial = item.version
            self.fields["title"].initial = item.title
        for code, definition in facts.items():
            name = self.field_name(code)
            self.fields[name] = fact_field(definition)
            self.fields[name].initial = facttypes.form_value(definition, stored.get(code))

    @staticmethod
    def field_name(code: str) -> str:
        return f"fact_{code}"

    def clean(self):
        cleaned = super().clean()
        values = {}
        for code, definition in self.facts.items():
            name = self.field_name(code)
            raw = cleaned.get(name)
            if isinstance(raw, str):
                raw = raw.strip()
                if definition.type == FactDefinition.Type.MONEY:
                    raw = wan_text_to_yuan(raw)
            if raw in ("", None, []):
                continue
            try:
                catalog.coerce_fact_value(definition, raw)
            except forms.ValidationError as error:
                self.add_error(name, error)
                continue
            values[code] = raw
        cleaned["values"] = values
        return cleaned


class FactValueForm(VersionedForm):
    fact = forms.ChoiceField(label=_("事实"))
    value = forms.CharField(
        label=_("值"),
        required=False,
        help_text=_("金额以万元填写；多选用分号分隔；日期格式 YYYY-MM-DD；留空表示删除（未知）。"),
    )
    year = forms.IntegerField(label=_("年度"), required=False, min_value=1949)
    valid_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = FactDefinition.objects.filter(derived=FactDefinition.Derivation.STORED).order_by("code")
        self.definitions = {row.code: row for row in stored}
        self.fields["fact"].choices = [(row.code, row.label) for row in stored]  # no code shown

    def clean_value(self):
        """Money facts are typed in 万元, like every amount a person enters."""
        text = (self.cleaned_data.get("value") or "").strip()
        definition = self.definitions.get(self.data.get("fact", ""))
        if definition is None or definition.type != FactDefinition.Type.MONEY:
            return text
        return wan_text_to_yuan(text)

    def clean(self):
        cleaned = super().clean()
        definition = self.definitions.get(cleaned.get("fact"))
        if definition is not None:
            try:
                cleaned["typed_value"] = catalog.coerce_fact_value(definition, cleaned.get("value"))
            except forms.ValidationError as error:
                self.add_error("value", error)
        if cleaned.get("year") and cleaned.get("valid_from"):
            self.add_error("valid_from", _("年度与起始日期只填一项。"))
        return cleaned
