"""Admin: job records and webhook delivery logs are read-only; staff manage webhook subscriptions."""

from django.contrib import admin

from matching.models import JobChunk, JobRun, WebhookDelivery, WebhookSubscription


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class JobChunkInline(admin.TabularInline):
    model = JobChunk
    extra = 0
    fields = (
        "first_id",
        "last_id",
        "size",
        "state",
        "attempts",
        "failures",
        "published_at",
        "finished_at",
        "error",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "status", "started_at", "finished_at", "items", "total", "failures")
    list_filter = ("kind", "status")
    inlines = [JobChunkInline]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "active", "enterprise", "created_at")
    list_filter = ("active",)
    raw_id_fields = ("enterprise",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "id", "subscription", "state", "change_count", "attempts", "last_status_code", "last_attempt_at",
        "delivered_at", "created_at",
    )  # fmt: skip
    list_filter = ("state", "subscription")
    readonly_fields = (
        "subscription", "event", "payload", "change_count", "state", "attempts", "last_status_code",
        "last_error", "created_at", "last_attempt_at", "delivered_at",
    )  # fmt: skip
