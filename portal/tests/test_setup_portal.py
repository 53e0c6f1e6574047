"""setup_portal creates demo accounts and demo enterprises only in the embedded development mode."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from portal.management.commands import setup_portal


@pytest.fixture
def no_data_steps(monkeypatch):
    """Only the demo step stays, so a test sees whether it runs; the policy load is tested elsewhere."""
    ran = []
    monkeypatch.setattr(setup_portal, "DATA_STEPS", [("load_demo", "演示企业")])
    monkeypatch.setattr(setup_portal, "get_commands", lambda: {"load_demo": "enterprises"})
    real = setup_portal.call_command

    def spy(name, *args, **kwargs):
        ran.append(name)
        if name != "load_demo":
            return real(name, *args, **kwargs)

    monkeypatch.setattr(setup_portal, "call_command", spy)
    return ran


@pytest.mark.django_db
def test_production_settings_create_no_demo_account(settings, no_data_steps):
    settings.EMBEDDED = False
    out = io.StringIO()
    call_command("setup_portal", stdout=out)
    assert not get_user_model().objects.filter(username__in=["admin", "reviewer"]).exists()
    assert "load_demo" not in no_data_steps
    assert "admin-demo-2026" not in out.getvalue()
    assert Group.objects.filter(name="reviewer").exists()  # roles are not demo data


@pytest.mark.django_db
def test_embedded_mode_creates_the_demo_accounts(settings, no_data_steps):
    settings.EMBEDDED = True
    out = io.StringIO()
    call_command("setup_portal", stdout=out)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("admin-demo-2026")
    assert "load_demo" in no_data_steps
