"""The enterprises admin. Its writes record what changed for re-evaluation (changes.py) in the
admin's transaction, as the services do: the row, each inline row, a deletion."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from enterprises import changes
from enterprises.models import Enterprise, EnterpriseMembership, FactValue, Project, Recognition, YearlyFigure


class FigureInline(admin.TabularInline):
    model = YearlyFigure
    extra = 0


class RecognitionInline(admin.TabularInline):
    model = Recognition
    extra = 0


class ProjectInline(admin.StackedInline):
    model = Project
    extra = 0
    classes = ["collapse"]


class FactValueInline(admin.TabularInline):
    model = FactValue
    extra = 0


class MembershipInline(admin.TabularInline):
    model = EnterpriseMembership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Enterprise)
class EnterpriseAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "credit_code",
        "district",
        "scale",
        "above_scale",
        "source",
        "version",
        "updated_at",
    ]
    list_filter = ["district", "scale", "above_scale", "listing_exchange", "source"]
    search_fields = ["name", "credit_code"]
    readonly_fields = ["version", "created_at", "updated_at"]
    inlines = [FigureInline, RecognitionInline, ProjectInline, FactValueInline, MembershipInline]
    show_full_result_count = False  # counting 100,000 rows on every page is slow

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1  # edits in admin also invalidate forms opened before them
        super().save_model(request, obj, form, change)
        changes.record_rows([obj], created=not change)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        changes.record_rows(
            [
                *formset.new_objects,
                *(obj for obj, _fields in formset.changed_objects),
                *formset.deleted_objects,
            ]
        )

    def delete_model(self, request, obj):
        changes.record_deleted_enterprises([obj.pk])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):  # the "delete selected" action
        changes.record_deleted_enterprises(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)


class EnterpriseRowAdmin(SimpleHistoryAdmin):
    raw_id_fields = ["enterprise"]
    list_select_related = ["enterprise"]
    search_fields = ["enterprise__name", "enterprise__credit_code"]
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changes.record_rows([obj])
        if change and "enterprise" in form.changed_data:  # moved: the former enterprise changed too
            changes.record([form.initial["enterprise"]], changes.source_of(obj))

    def delete_model(self, request, obj):
        changes.record_rows([obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):  # the "delete selected" action
        changes.record_rows(list(queryset))
        super().delete_queryset(request, queryset)


@admin.register(YearlyFigure)
class YearlyFigureAdmin(EnterpriseRowAdmin):
    list_display = ["enterprise", "year", "output_value", "revenue", "employees", "source"]
    list_filter = ["year", "source"]


@admin.register(Recognition)
class RecognitionAdmin(EnterpriseRowAdmin):
    list_display = ["enterprise", "kind", "level", "year", "first_time", "grade", "source"]
    list_filter = ["kind", "level", "year", "source"]


@admin.register(Project)
class ProjectAdmin(EnterpriseRowAdmin):
    list_display = ["enterprise", "kind", "year", "level", "title", "source"]
    list_filter = ["kind", "year", "level", "source"]


@admin.register(FactValue)
class FactValueAdmin(EnterpriseRowAdmin):
    list_display = ["enterprise", "fact", "value", "year", "valid_from", "source"]
    list_filter = ["fact", "source"]


@admin.register(EnterpriseMembership)
class EnterpriseMembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "enterprise", "role", "created_at"]
    raw_id_fields = ["user", "enterprise"]
    search_fields = ["user__username", "enterprise__name"]
