"""An enterprise not verified by staff (a self-registration) keeps its drafts but cannot submit
(issue 16, Build 7): before, every self-registered enterprise could submit at once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from applications import services
from applications.models import State
from applications.tests.support import draft, fresh, with_material
from enterprises.models import Enterprise

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", [Enterprise.Verification.PENDING, Enterprise.Verification.REJECTED])
def test_an_unverified_enterprise_cannot_submit(world, state):
    application = with_material(world.user, draft(world, requested_amount=Decimal("5000000")))
    Enterprise.objects.filter(pk=world.enterprise.pk).update(verification=state)
    with pytest.raises(services.ApplicationError) as refused:
        services.submit(actor=world.user, application_id=application.pk, expected_version=application.version)
    assert refused.value.code == "enterprise_unverified" and "核实" in refused.value.messages[0]
    assert fresh(application).state == State.DRAFT
    Enterprise.objects.filter(pk=world.enterprise.pk).update(verification=Enterprise.Verification.VERIFIED)
    services.submit(actor=world.user, application_id=application.pk, expected_version=application.version)
    assert fresh(application).state == State.SUBMITTED
