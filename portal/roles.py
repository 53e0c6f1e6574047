"""Staff roles as Django groups. Permissions are named here so every environment gets the same."""

from django.contrib.auth.models import Group, Permission

# group name -> permission codenames ("app_label.codename"); missing ones are skipped until their
# app defines them, so the list can name permissions of features still being built.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    "reviewer": [
        "enterprises.view_enterprise",
        "matching.view_jobrun",
        "applications.view_application",
        "applications.review_application",
        "applications.assign_application",
        "applications.record_payout",
        "enterprises.verify_enterprise",
    ],
    "policy_admin": [
        "policies.add_policydocument",
        "policies.change_policydocument",
        "policies.view_policydocument",
        "policies.add_clause",
        "policies.change_clause",
        "policies.view_clause",
        "policies.add_benefit",
        "policies.change_benefit",
        "policies.view_benefit",
        "policies.add_factdefinition",
        "policies.change_factdefinition",
        "policies.view_factdefinition",
        "enterprises.view_enterprise",
        "enterprises.change_enterprise",
        "enterprises.add_enterprise",
        "enterprises.verify_enterprise",
        "matching.view_jobrun",
        "portal.add_apikey",
        "portal.change_apikey",
        "portal.view_apikey",
        "matching.rerun_all",
    ],
}


def ensure_roles() -> dict[str, Group]:
    groups = {}
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission:
                permissions.append(permission)
        group.permissions.set(permissions)
        groups[name] = group
    return groups
