"""Data and page helpers shared by the browser tests.

`load_portal` loads what a real deployment has: every policy fixture, the demo enterprises with the
demo enterprise account, and reviewers (the `reviewer` role of portal/roles.py). The demo data is
calibrated for evaluation dates in 2026 (fixtures/demo/enterprises.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By

from applications import services
from applications.models import Application
from applications.tests.support import with_material
from enterprises.demo import DEMO_USER, load_demo_file
from enterprises.models import Enterprise
from enterprises.services import link_user
from policies.loader import default_paths, load_files
from policies.models import Benefit
from portal.roles import ensure_roles

WINDOW = (1280, 900)  # the browser window; screenshots of this size stay well under 400 KB
LEASE_BENEFIT = "mh-2024-new-industrialization/7/new-factory-lease"  # 新租赁自用工业厂房补贴, cap 1000 万元
REVIEWER = ("shenhe", "shenhe-review-2026")
SECOND_REVIEWER = ("shenhe2", "shenhe2-review-2026")


@dataclass
class Portal:
    enterprise: Enterprise  # the demo account's enterprise: 上海闵智精密机床有限公司
    enterprise_user: object
    enterprise_login: tuple[str, str]
    reviewer: object
    reviewer_login: tuple[str, str]
    lease: Benefit


def load_portal() -> Portal:
    _reports, errors = load_files(default_paths())
    assert not errors, [error.messages for error in errors]
    demo = load_demo_file()
    username, password = DEMO_USER
    user = get_user_model().objects.create_user(username, password=password, first_name="王经理")
    link_user(user=user, enterprise_id=demo.first.pk)
    reviewers = []
    for name, secret in (REVIEWER, SECOND_REVIEWER):
        reviewer = get_user_model().objects.create_user(name, password=secret, is_staff=True)
        reviewer.groups.add(ensure_roles()["reviewer"])
        reviewers.append(reviewer)
    lease = next(
        benefit
        for benefit in Benefit.objects.select_related("clause__document")
        if benefit.global_key == LEASE_BENEFIT
    )
    return Portal(
        enterprise=demo.first,
        enterprise_user=user,
        enterprise_login=DEMO_USER,
        reviewer=reviewers[0],
        reviewer_login=REVIEWER,
        lease=lease,
    )


def application_in_review(portal: Portal, *, started: bool) -> Application:
    """The demo enterprise's lease application, submitted (and taken into review), via the services."""
    application = services.create_draft(
        actor=portal.enterprise_user,
        enterprise_id=portal.enterprise.pk,
        benefit_id=portal.lease.pk,
        requested_amount=Decimal("10000000"),
        project_summary="马桥镇新租赁厂房5000平方米，用于五轴加工中心产线。",
        contact_name="王经理",
        contact_phone="021-64000000",
    )
    application = with_material(portal.enterprise_user, application)
    application = services.submit(
        actor=portal.enterprise_user, application_id=application.pk, expected_version=application.version
    )
    if started:
        application = services.start_review(
            actor=portal.reviewer, application_id=application.pk, expected_version=application.version
        )
    return application


def tiny_pdf(path: Path, text: str = "Lease contract (test)") -> Path:
    """A small but well-formed one-page PDF (header, objects, cross-reference table, trailer)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(body))
    return path


# --- the self-check wizard ----------------------------------------------------------------------


def choose(browser, name: str, value: str) -> None:
    """Tick a radio button or checkbox by clicking its label, as a person would."""
    field = browser.find(f'input[name="{name}"][value="{value}"]')
    browser.driver.find_element(By.CSS_SELECTOR, f'label[for="{field.get_attribute("id")}"]').click()
    assert field.is_selected()


def type_into(browser, name: str, text: str):
    return browser.fill(f'input[name="{name}"]', text)


def next_step(browser, expected_path: str) -> None:
    browser.find("#next-step").click()
    browser.wait_for_path(expected_path)
