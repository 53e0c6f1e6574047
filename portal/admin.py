"""Staff create and revoke API keys here. The full key is shown once, in the message after saving."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from portal.api import services
from portal.models import ApiKey, IdempotencyRecord, Scope

# The admin is the portal's back office, named as such (not "Django 管理").
admin.site.site_header = _("闵行区产业政策匹配平台 · 管理后台")
admin.site.site_title = _("政策匹配平台管理后台")
admin.site.index_title = _("管理后台首页")
admin.site.site_url = "/"


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("权限范围"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "user", "enterprises", "rate_limit"]

    def clean(self):
        """A new key for the user of an enterprise staff have not verified yet is refused on the form."""
        cleaned = super().clean()
        if self.instance.pk is None:
            try:
                chosen = [enterprise.pk for enterprise in cleaned.get("enterprises") or []]
                services.refuse_unverified(cleaned.get("user"), chosen)
            except ValidationError as error:
                self.add_error("user", error)
        return cleaned


@admin.register(ApiKey)
class ApiKeyAdmin(SimpleHistoryAdmin):
    form = ApiKeyForm
    list_display = [
        "name",
        "prefix",
        "scope_list",
        "user",
        "created_by",
        "created_at",
        "last_used_at",
        "state",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["enterprises"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.display(description=_("权限范围"))
    def scope_list(self, key: ApiKey) -> str:
        labels = dict(Scope.choices)
        return "、".join(str(labels.get(scope, scope)) for scope in key.scopes)

    @admin.display(description=_("状态"))
    def state(self, key: ApiKey) -> str:
        return _("已撤销") if key.revoked_at else _("有效")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.revoked_at is not None:
            return [*self.readonly_fields, "name", "scopes", "user", "enterprises", "rate_limit"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            obj._history_user = request.user
            super().save_model(request, obj, form, change)
            return
        # A new key goes through the service: it draws the secret and stores only its hash.
        key, raw_key = services.issue_api_key(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            created_by=request.user,
            user=form.cleaned_data.get("user"),
            rate_limit=form.cleaned_data.get("rate_limit", ""),
        )
        obj.pk = key.pk
        obj.__dict__.update(
            {field.attname: getattr(key, field.attname) for field in ApiKey._meta.concrete_fields}
        )
        obj._state.adding = False
        messages.warning(
            request,
            format_html(
                "{}<br><code style='user-select:all'>{}</code>",
                _("API 密钥已创建。请立即复制并安全交给使用方——关闭此页后无法再次查看："),
                raw_key,
            ),
        )

    @admin.action(description=_("撤销所选 API 密钥"), permissions=["change"])
    def revoke(self, request, queryset):
        for key in queryset:
            services.revoke_api_key(key_id=key.pk, actor=request.user)
        self.message_user(request, _("已撤销 %(n)s 个密钥。") % {"n": queryset.count()}, messages.SUCCESS)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["client", "key", "response_status", "created_at"]
    search_fields = ["client", "key"]
    readonly_fields = [field.name for field in IdempotencyRecord._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
