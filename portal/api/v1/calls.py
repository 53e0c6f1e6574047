"""Application calls (申报通知 / 申报指南), read-only (scope read_policies): who issues and receives them,
the benefits they open, their windows (local time, Asia/Shanghai) and whether one is open at the
moment asked (`at`, default now), the intake levels and the materials. Calls are public information:
every caller sees every call. The rules that use them (no application outside a window, the materials
a submission needs) live in applications.services; the windows are read by applications.selectors.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from applications import selectors as application_selectors
from applications.models import Call, CallDepartment, CallIntakeLevel, CallMaterial, CallWindow
from portal.api import examples
from portal.api.base import ReadOnlyApiViewSet, bilingual
from portal.api.serializers import InstantField, InstantFilter, StrictFilterSet
from portal.api.v1.matches.output import BenefitRefSerializer
from portal.models import Scope

TAG = "申报通知 Calls"
WINDOW_STATES = {
    "open": gettext_lazy("受理中"),
    "upcoming": gettext_lazy("即将开始"),
    "closed": gettext_lazy("已截止"),
}
AT_HELP = bilingual(
    "判断窗口是否开放的时刻（ISO 8601），默认现在。",
    "The moment windows are judged at (ISO 8601); default now.",
)


def moment(request) -> dt.datetime:
    """The `at` query parameter as an aware instant, else now; a malformed one is a 400 naming it."""
    raw = request.query_params.get("at") if request is not None else None
    if not raw:
        return timezone.now()
    try:
        value = InstantField().clean(raw)
    except forms.ValidationError as error:
        raise ValidationError({"at": error.messages}) from None
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def open_at(queryset: QuerySet[Call], now: dt.datetime) -> QuerySet[Call]:
    window = CallWindow.objects.filter(call=OuterRef("pk"), opens_at__lte=now, closes_at__gt=now)
    return queryset.filter(Exists(window))


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField  # an id: 0.5 is a 400, not an empty page


class CallFilter(StrictFilterSet):
    benefit = IntegerFilter(
        field_name="benefits", help_text=bilingual("开放申报的扶持项目 id。", "A benefit the call opens.")
    )
    document = django_filters.CharFilter(
        field_name="document__key", help_text=bilingual("所依据的政策文件标识。", "Document key.")
    )
    open = django_filters.BooleanFilter(
        method="filter_open",
        help_text=bilingual(
            "true：只返回在 at 时刻（默认现在）受理中的通知；false：其余的。",
            "true: only calls with a window open at `at` (default now); false: the others.",
        ),
    )
    at = InstantFilter(method="filter_at", help_text=AT_HELP)

    class Meta:
        model = Call
        fields = ["benefit", "document", "open", "at"]

    def filter_at(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset  # read by `open` and by the serializer

    def filter_open(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        now = self.form.cleaned_data.get("at") or timezone.now()
        opened = open_at(queryset, now)
        return opened if value else queryset.exclude(pk__in=opened.values("pk"))


# --- serializers ----------------------------------------------------------------------------------------


class WindowSerializer(serializers.Serializer):
    opens_at = serializers.DateTimeField(
        source="window.opens_at",
        help_text=bilingual("开始受理的时刻（含，当地时间）。", "Opens (local time)."),
    )
    closes_at = serializers.DateTimeField(
        source="window.closes_at",
        help_text=bilingual(
            "停止受理的时刻（不含）：“7月5日24:00”即 7月6日 0:00。",
            "The first moment no longer taken: “5 July 24:00” is 6 July 0:00.",
        ),
    )
    first_day = serializers.DateField(help_text=bilingual("第一天。", "First day."))
    last_day = serializers.DateField(help_text=bilingual("最后一天（含）。", "Last day (inclusive)."))
    state = serializers.ChoiceField(
        choices=list(WINDOW_STATES),
        help_text=bilingual(
            "在 at 时刻：open 受理中、upcoming 即将开始、closed 已截止。",
            "At `at`: open, upcoming or closed.",
        ),
    )
    state_label = serializers.SerializerMethodField(help_text=bilingual("状态名称。", "State label."))
    days_left = serializers.SerializerMethodField(
        help_text=bilingual(
            "受理中时距最后一天的天数（当天为 0），否则 null。", "Days to the last day while open, else null."
        )
    )
    days_to_open = serializers.SerializerMethodField(
        help_text=bilingual("即将开始时距第一天的天数，否则 null。", "Days to the first day if upcoming.")
    )

    @extend_schema_field(OpenApiTypes.STR)
    def get_state_label(self, info) -> str:
        return str(WINDOW_STATES[info.state])

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_days_left(self, info) -> int | None:
        return info.days_left if info.is_open else None

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_days_to_open(self, info) -> int | None:
        return info.days_to_open if info.state == "upcoming" else None


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallDepartment
        fields = ["name", "contact", "phone", "address", "quote"]
        extra_kwargs = {
            "name": {"help_text": bilingual("受理部门。", "Receiving department.")},
            "quote": {"help_text": bilingual("原文（可空）。", "The call's words (may be empty).")},
        }


class LevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallIntakeLevel
        fields = ["order", "name", "department", "deadline", "quote"]
        extra_kwargs = {
            "name": {
                "help_text": bilingual("受理层级，例如街镇预审。", "Intake level, e.g. the town's check.")
            },
            "deadline": {
                "help_text": bilingual("办理期限（不含，当地时间）；null 表示未载明。", "Deadline, or null.")
            },
        }


class MaterialSerializer(serializers.ModelSerializer):
    template_url = serializers.CharField(
        read_only=True, help_text=bilingual("模板下载链接（可空）。", "Template link (may be empty).")
    )
    file_types = serializers.ListField(
        child=serializers.ChoiceField(choices=["pdf", "jpeg", "png"]),
        help_text=bilingual("允许的文件类型。", "File types accepted."),
    )

    class Meta:
        model = CallMaterial
        fields = [
            "id", "key", "order", "name", "description", "required", "file_types", "template_url", "per_item",
            "quote",
        ]  # fmt: skip
        extra_kwargs = {
            "required": {"help_text": bilingual("提交前必须上传。", "Needed before submission.")},
            "per_item": {"help_text": bilingual("每个项目一份。", "One per item.")},
            "key": {"help_text": bilingual("材料标识（通知内唯一）。", "Material key, unique in the call.")},
        }


class CallSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", help_text=bilingual("类型名称。", "Kind."))
    document = serializers.SlugRelatedField(
        slug_field="key", read_only=True, help_text=bilingual("所依据的政策文件标识。", "Document key.")
    )
    document_title = serializers.SerializerMethodField(help_text=bilingual("政策文件标题。", "Title."))
    methods = serializers.ListField(
        child=serializers.ChoiceField(choices=Call.Method.choices),
        help_text=bilingual("申报方式代码。", "Application methods."),
    )
    method_labels = serializers.ListField(
        child=serializers.CharField(),
        help_text=bilingual("申报方式名称。", "Method labels."),
    )
    url = serializers.CharField(
        read_only=True, help_text=bilingual("原文链接（可空）。", "Link to the notice (may be empty).")
    )
    open_now = serializers.SerializerMethodField(
        help_text=bilingual("在 at 时刻（默认现在）是否受理中。", "Whether a window is open at `at`.")
    )
    next_window = serializers.SerializerMethodField(
        help_text=bilingual(
            "受理中的窗口（最早截止的），否则最早开始的将来窗口；都没有时为 null。",
            "The open window closing first, else the next upcoming one; null if neither.",
        )
    )
    windows = serializers.SerializerMethodField(
        help_text=bilingual("全部申报时间窗口。", "Every window, in time order.")
    )
    departments = DepartmentSerializer(many=True, read_only=True)
    levels = LevelSerializer(many=True, read_only=True)
    materials = MaterialSerializer(many=True, read_only=True)
    benefits = BenefitRefSerializer(
        many=True, read_only=True, help_text=bilingual("本通知开放申报的扶持项目。", "Benefits it opens.")
    )

    class Meta:
        model = Call
        fields = [
            "id", "key", "kind", "kind_label", "title", "issuer", "document", "document_title", "methods",
            "method_labels", "conditions", "url", "is_demo", "open_now", "next_window", "windows",
            "departments", "levels", "materials", "benefits", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {
            "is_demo": {"help_text": bilingual("虚构的演示通知。", "A fictional demo call.")},
            "conditions": {"help_text": bilingual("本批次申报条件（原文）。", "The call's own conditions.")},
        }

    def _infos(self, call: Call) -> list:
        cache = self.context.setdefault("window_infos", {})
        if call.pk not in cache:
            cache[call.pk] = application_selectors.windows_of([call], self.context["now"])
        return cache[call.pk]

    @extend_schema_field(OpenApiTypes.STR)
    def get_document_title(self, call: Call) -> str:
        return call.document.title if call.document else ""

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_open_now(self, call: Call) -> bool:
        return any(info.is_open for info in self._infos(call))

    @extend_schema_field(WindowSerializer(allow_null=True))
    def get_next_window(self, call: Call) -> dict | None:
        info = application_selectors.next_window([call], self.context["now"])
        return WindowSerializer(info).data if info is not None else None

    @extend_schema_field(WindowSerializer(many=True))
    def get_windows(self, call: Call) -> list[dict]:
        return WindowSerializer(self._infos(call), many=True).data


# --- views ----------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="申报通知列表 List calls",
        description=(
            "每份申报通知：发布和受理部门、开放申报的扶持项目、申报时间（当地时间）及在 at 时刻是否受理中、"
            "受理层级和申报材料。可按扶持项目、政策文件、是否受理中筛选。"
            "Each call: issuer and receiving departments, the benefits it opens, its windows (local time) and "
            "whether one is open at `at`, the intake levels and the materials. Filter by benefit, document, "
            "open."
        ),
        examples=[examples.reply("金山区申报通知 A call", examples.CALL)],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="一份申报通知 One call",
        parameters=[
            OpenApiParameter("at", OpenApiTypes.DATETIME, OpenApiParameter.QUERY, description=AT_HELP)
        ],
        description=(
            "窗口状态按 at 查询参数的时刻判断（默认现在）。Window states are judged at the `at` query "
            "parameter (default now)."
        ),
        examples=[examples.reply("金山区申报通知 A call", examples.CALL)],
    ),
)
class CallViewSet(ReadOnlyApiViewSet):
    scopes = (Scope.READ_POLICIES,)
    serializer_class = CallSerializer
    filterset_class = CallFilter

    def get_queryset(self) -> QuerySet[Call]:
        return (
            Call.objects.select_related("document")
            .prefetch_related("windows", "departments", "levels", "materials", "benefits__clause__document")
            .order_by("pk")
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": moment(getattr(self, "request", None))}
