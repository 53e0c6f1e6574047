"""manage.py load_demo_grants: an approved demo application with its payout under way (idempotent).

The demo enterprise account's enterprise applies for 科创属性强、高成长型企业租房补贴 (分三年: a plan
of three instalments from the benefit's own schedule), a demo reviewer approves it, and the first
stage is recorded 到账, the second publicised with its payment order. Everything goes through the
services, so the trail, the notices and the plan are what a real run leaves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from applications import selectors, services
from applications.models import Application
from enterprises.demo import DEMO_USER
from enterprises.selectors import enterprise_for_user
from policies.models import Benefit

BENEFIT = "mh-2024-new-industrialization/8/high-growth-rent"
APPROVED = Decimal("3600000")  # 30% of the 1200 万元 rent, within the 500 万元 cap
REVIEWER = "reviewer"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


class Command(BaseCommand):
    help = "An approved demo application with a payout plan, one stage paid and one publicised."

    @transaction.atomic
    def handle(self, *args, **options):
        users = get_user_model().objects
        user = users.filter(username=DEMO_USER[0]).first()
        reviewer = users.filter(username=REVIEWER).first()
        enterprise = enterprise_for_user(user) if user else None
        if enterprise is None or reviewer is None:
            raise CommandError("run load_demo and create the demo reviewer first (manage.py setup_portal)")
        benefit = next(
            (b for b in Benefit.objects.select_related("clause__document") if b.global_key == BENEFIT), None
        )
        if benefit is None:
            raise CommandError(f"benefit {BENEFIT} is not loaded (load_policies)")
        if Application.objects.filter(enterprise=enterprise, benefit=benefit).exists():
            self.stdout.write("演示申报已存在 / demo application exists")
            return
        application = services.create_draft(
            actor=user,
            enterprise_id=enterprise.pk,
            benefit_id=benefit.pk,
            requested_amount=APPROVED,
            project_summary="马桥镇新租赁厂房，租房总额1200万元，按30%分三年申请补贴。",
            contact_name="王经理",
            contact_phone="021-64000000",
        )
        # the materials the benefit's call requires (one file each), else the contract alone
        call = selectors.call_for(benefit.pk, timezone.now())
        required = [m for m in call.materials.all() if m.required] if call else []
        for name, material_id in [(m.name, m.pk) for m in required] or [("厂房租赁合同", None)]:
            services.add_attachment(
                actor=user,
                application_id=application.pk,
                upload=SimpleUploadedFile(f"{name}.pdf", PDF, content_type="application/pdf"),
                description=name,
                material_id=material_id,
            )
        application.refresh_from_db()
        steps = (
            lambda v: services.submit(actor=user, application_id=application.pk, expected_version=v),
            lambda v: services.start_review(
                actor=reviewer, application_id=application.pk, expected_version=v
            ),
            lambda v: services.approve(
                actor=reviewer,
                application_id=application.pk,
                expected_version=v,
                amount=APPROVED,
                comment="经认定符合科创属性强、高成长型企业条件。",
            ),
        )
        for step in steps:
            application = step(application.version)
        today = timezone.localdate()
        first, second = application.payout_stages.order_by("order")[:2]
        services.record_payout_stage(
            actor=reviewer,
            stage_id=first.pk,
            expected_version=first.version,
            publicised_on=today - dt.timedelta(days=30),
            payment_order="MH-ZF-2026-0001",
            paid_on=today - dt.timedelta(days=10),
        )
        services.record_payout_stage(
            actor=reviewer,
            stage_id=second.pk,
            expected_version=second.version,
            publicised_on=today - dt.timedelta(days=3),
            payment_order="MH-ZF-2026-0002",
            paid_on=None,
        )
        self.stdout.write(
            f"演示申报 {application.reference}：已批准，拨付 {application.payout_stages.count()} 期（第1期已到账，第2期已下达支付）"
        )
