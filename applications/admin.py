"""Read-only admin: state changes go through applications/services.py (checks, locking, audit trail)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from applications.models import Application, ApplicationEvent, Attachment, Confirmation, PayoutStage


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


@admin.register(Confirmation)
class ConfirmationAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ("enterprise", "benefit", "state", "estimated_amount", "requested_at", "responded_at")
    list_filter = ("state",)
    search_fields = ("enterprise__name", "enterprise__credit_code", "benefit__name")
    list_select_related = ("enterprise", "benefit")


@admin.register(PayoutStage)
class PayoutStageAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ("application", "order", "amount", "publicised_on", "payment_order", "paid_on")
    search_fields = ("application__enterprise__name", "payment_order")
    list_select_related = ("application",)
