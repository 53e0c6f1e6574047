"""Read-only admin: state changes go through applications/services.py (checks, locking, audit trail)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from applications.models import (
    Application,
    ApplicationEvent,
    Attachment,
    Call,
    CallDepartment,
    CallIntakeLevel,
    CallMaterial,
    CallWindow,
    Confirmation,
    MaterialCheck,
    PayoutStage,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyMixin, admin.TabularInline):
    model = ApplicationEvent
    fields = ("at", "actor_name", "action", "from_state", "to_state", "amount", "comment")
    readonly_fields = fields
    extra = 0


class AttachmentInline(ReadOnlyMixin, admin.TabularInline):
    model = Attachment
    fields = ("original_name", "kind", "size", "sha256", "uploaded_at")
    readonly_fields = fields
    extra = 0


@admin.register(Application)
class ApplicationAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = (
        "reference",
        "enterprise",
        "benefit",
        "state",
        "requested_amount",
        "approved_amount",
        "submitted_at",
    )
    list_filter = ("state",)
    search_fields = ("enterprise__name", "enterprise__credit_code", "benefit__name")
    list_select_related = ("enterprise", "benefit")
    inlines = [AttachmentInline, EventInline]


# ---------------------------------------------------------------- application calls (申报通知)
# Loaded from fixtures by `manage.py load_calls`; editable here (a later load overwrites a call only
# when its fixture entry changes).


class CallDepartmentInline(admin.TabularInline):
    model = CallDepartment
    fields = ("order", "name", "contact", "phone", "address", "quote")
    extra = 0


class CallWindowInline(admin.TabularInline):
    model = CallWindow
    fields = ("opens_at", "closes_at", "quote")
    extra = 0


class CallIntakeLevelInline(admin.TabularInline):
    model = CallIntakeLevel
    fields = ("order", "name", "department", "deadline", "quote")
    extra = 0


class CallMaterialInline(admin.StackedInline):
    model = CallMaterial
    fields = (
        ("order", "key", "name"),
        "description",
        ("required", "per_item"),
        "file_types",
        "template_url",
        "quote",
    )
    extra = 0


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("title", "issuer", "kind", "is_demo", "fixture_file", "updated_at")
    list_filter = ("kind", "is_demo")
    search_fields = ("title", "issuer", "key")
    filter_horizontal = ("benefits",)
    readonly_fields = ("fixture_file",)
    inlines = [CallDepartmentInline, CallWindowInline, CallIntakeLevelInline, CallMaterialInline]


@admin.register(MaterialCheck)
class MaterialCheckAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("application", "material", "verdict", "reviewer", "at")
    list_filter = ("verdict",)


@admin.register(Confirmation)
class ConfirmationAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = (
        "enterprise", "benefit", "item", "state", "estimated_amount", "requested_at", "responded_at",
    )  # fmt: skip
    list_filter = ("state",)
    search_fields = ("enterprise__name", "enterprise__credit_code", "benefit__name", "item__title")
    list_select_related = ("enterprise", "benefit", "item")


@admin.register(PayoutStage)
class PayoutStageAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ("application", "order", "amount", "publicised_on", "payment_order", "paid_on")
    search_fields = ("application__enterprise__name", "payment_order")
    list_select_related = ("application",)
