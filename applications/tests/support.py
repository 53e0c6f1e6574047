"""Test set-up: two enterprises with their users, reviewers, and a benefit with a cap and conditions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from applications import services
from applications.models import Application, State
from enterprises.models import Enterprise, Project
from enterprises.tests.factories import EnterpriseFactory, MembershipFactory, ProjectFactory, UserFactory
from policies.models import Benefit
from policies.tests.factories import BenefitFactory, ClauseFactory, PolicyDocumentFactory
from portal.roles import ensure_roles

PASSWORD = "pw-for-tests-2026"
CAP = Decimal("10000000")  # 1000 万元
LEASE_CONDITION = {
    "all": [
        {
            "fact": "new_factory_lease_area_m2",
            "op": "gte",
            "value": 5000,
            "quote": "租赁面积超过5000平方米（含）以上",
        },
        {"fact": "located_in_minhang", "op": "eq", "value": True, "quote": "对新租赁自用工业厂房"},
    ]
}


def this_year() -> int:
    return timezone.localdate().year


def lessee(
    *,
    area: str = "6000",
    name: str | None = None,
    source: str = "self_declared",
    project_source: str | None = None,
) -> Enterprise:
    """An enterprise in Minhang that newly leased `area` m² of factory space this year."""
    extra = {"name": name} if name else {}
    enterprise = EnterpriseFactory(projects_declared=True, recognitions_declared=True, source=source, **extra)
    ProjectFactory(
        enterprise=enterprise,
        kind=Project.Kind.FACTORY_LEASE,
        year=this_year(),
        area_m2=Decimal(area),
        rent_total=Decimal("10000000"),
        is_new=True,
        self_use=True,
        source=project_source or source,
    )
    return enterprise


def lease_benefit(**overrides) -> Benefit:
    clause = ClauseFactory(document=overrides.pop("document", None) or PolicyDocumentFactory())
    values = {
        "clause": clause,
        "name": "新租赁自用工业厂房补贴",
        "cap": CAP,
        "condition": LEASE_CONDITION,
        "requires_recognition": False,
    }
    return BenefitFactory(**(values | overrides))


@dataclass
class World:
    enterprise: Enterprise
    user: object  # enterprise A's user
    other_enterprise: Enterprise
    other_user: object  # enterprise B's user
    reviewer: object
    second_reviewer: object
    staff_without_permission: object
    benefit: Benefit


def reviewer_user(username: str):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(ensure_roles()["reviewer"])
    return user


def build_world() -> World:
    enterprise = lessee(name="上海甲精密制造有限公司")
    other = lessee(name="上海乙航空部件有限公司")
    return World(
        enterprise=enterprise,
        user=MembershipFactory(enterprise=enterprise, user__username="alpha").user,
        other_enterprise=other,
        other_user=MembershipFactory(enterprise=other, user__username="beta").user,
        reviewer=reviewer_user("reviewer1"),
        second_reviewer=reviewer_user("reviewer2"),
        staff_without_permission=UserFactory(username="clerk", is_staff=True),
        benefit=lease_benefit(),
    )


def fresh(application: Application) -> Application:
    return Application.objects.get(pk=application.pk)


def draft(world: World, **kwargs) -> Application:
    return services.create_draft(
        actor=world.user, enterprise_id=world.enterprise.pk, benefit_id=world.benefit.pk, **kwargs
    )


def bring_to(world: World, state: str, application: Application | None = None) -> Application:
    """An application of enterprise A in `state`, reached through the services only."""
    app = application or draft(world, requested_amount=Decimal("5000000"))
    steps = {
        State.DRAFT: [],
        State.SUBMITTED: ["submit"],
        State.UNDER_REVIEW: ["submit", "start"],
        State.RETURNED: ["submit", "start", "return"],
        State.RESUBMITTED: ["submit", "start", "return", "resubmit"],
        State.APPROVED: ["submit", "start", "approve"],
        State.REJECTED: ["submit", "start", "reject"],
        State.WITHDRAWN: ["withdraw"],
    }[State(state)]
    for step in steps:
        app = fresh(app)
        common = {"application_id": app.pk, "expected_version": app.version}
        if step == "submit":
            attach_material(world.user, app)
            app = fresh(app)
            services.submit(actor=world.user, application_id=app.pk, expected_version=app.version)
        elif step == "start":
            services.start_review(actor=world.reviewer, **common)
        elif step == "return":
            services.return_for_information(actor=world.reviewer, needed="请补充租赁合同。", **common)
        elif step == "resubmit":
            services.resubmit(actor=world.user, answer="已上传租赁合同。", **common)
        elif step == "approve":
            services.approve(actor=world.reviewer, amount=Decimal("3000000"), **common)
        elif step == "reject":
            services.reject(actor=world.reviewer, reason="不符合自用要求。", **common)
        elif step == "withdraw":
            services.withdraw(actor=world.user, **common)
    app = fresh(app)
    assert app.state == state
    return app


PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def attach_material(actor, application: Application, name: str = "租赁合同.pdf"):
    """A small real PDF attached through the service (submission needs at least one material)."""
    return services.add_attachment(
        actor=actor,
        application_id=application.pk,
        upload=SimpleUploadedFile(name, PDF, content_type="application/pdf"),
    )


def with_material(actor, application: Application) -> Application:
    """The application, fresh, after a material was attached (ready to be submitted)."""
    attach_material(actor, application)
    return fresh(application)


def days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def permission(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="applications", codename=codename)
