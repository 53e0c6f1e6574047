"""manage.py load_demo_grants: an approved demo application with its payout under way (idempotent).

What is applied for, by whom and how the payout went is data (fixtures/demo/grants.yaml): the demo
enterprise account's enterprise applies, the demo reviewer approves (the plan comes from the benefit's
own schedule), and the stages listed there are recorded. Everything goes through the services, so the
trail, the notices and the plan are what a real run leaves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import yaml
from django.conf import settings
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

GRANTS = Path(settings.BASE_DIR) / "fixtures" / "demo" / "grants.yaml"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


class Command(BaseCommand):
    help = "An approved demo application with a payout plan, one stage paid and one publicised."

    @transaction.atomic
    def handle(self, *args, **options):
        demo = yaml.safe_load(GRANTS.read_text(encoding="utf-8"))["application"]
        amount = Decimal(str(demo["requested_amount"]))
        users = get_user_model().objects
        user = users.filter(username=DEMO_USER[0]).first()
        reviewer = users.filter(username=demo["reviewer"]).first()
        enterprise = enterprise_for_user(user) if user else None
        if enterprise is None or reviewer is None:
            raise CommandError("run load_demo and create the demo reviewer first (manage.py setup_portal)")
        benefit = next(
            (
                b
                for b in Benefit.objects.select_related("clause__document")
                if b.global_key == demo["benefit"]
            ),
            None,
        )
        if benefit is None:
            raise CommandError(f"benefit {demo['benefit']} is not loaded (load_policies)")
        if Application.objects.filter(enterprise=enterprise, benefit=benefit).exists():
            self.stdout.write("演示申报已存在 / demo application exists")
            return
        application = services.create_draft(
            actor=user,
            enterprise_id=enterprise.pk,
            benefit_id=benefit.pk,
            requested_amount=amount,
            project_summary=demo["project_summary"],
            contact_name=demo["contact_name"],
            contact_phone=demo["contact_phone"],
        )
        # the materials the benefit's call requires (one file each), else the contract alone
        call = selectors.call_for(benefit.pk, timezone.now())
        required = [m for m in call.materials.all() if m.required] if call else []
        for name, material_id in [(m.name, m.pk) for m in required] or [(demo["fallback_material"], None)]:
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
                amount=amount,
                comment=demo["approval_comment"],
            ),
        )
        for step in steps:
            application = step(application.version)
        today = timezone.localdate()
        stages = application.payout_stages.order_by("order")
        for stage, record in zip(stages, demo["stages"], strict=False):
            paid = record["paid_days_ago"]
            services.record_payout_stage(
                actor=reviewer,
                stage_id=stage.pk,
                expected_version=stage.version,
                publicised_on=today - dt.timedelta(days=record["publicised_days_ago"]),
                payment_order=record["payment_order"],
                paid_on=None if paid is None else today - dt.timedelta(days=paid),
            )
        paid = sum(1 for record in demo["stages"] if record["paid_days_ago"] is not None)
        self.stdout.write(
            f"演示申报 {application.reference}：已批准，拨付 {stages.count()} 期（已到账 {paid} 期）"
        )
