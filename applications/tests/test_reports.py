"""Reports: applications and amounts by policy, state, industry and month; the Excel export."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from applications import selectors, services
from applications.models import Application
from applications.tests.support import lease_benefit, lessee, with_material
from enterprises.models import Enterprise
from enterprises.tests.factories import MembershipFactory
from policies.tests.factories import PolicyDocumentFactory

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def application(enterprise, benefit, requested, submitted_on, *, decide=None, approved=None, reviewer=None):
    user = MembershipFactory(enterprise=enterprise).user
    app = services.create_draft(
        actor=user, enterprise_id=enterprise.pk, benefit_id=benefit.pk, requested_amount=Decimal(requested)
    )
    app = with_material(user, app)
    app = services.submit(actor=user, application_id=app.pk, expected_version=app.version)
    if decide:
        app = services.start_review(actor=reviewer, application_id=app.pk, expected_version=app.version)
        if decide == "approve":
            services.approve(
                actor=reviewer, application_id=app.pk, expected_version=app.version, amount=Decimal(approved)
            )
        else:
            services.reject(
                actor=reviewer, application_id=app.pk, expected_version=app.version, reason="不符合"
            )
    Application.objects.filter(pk=app.pk).update(submitted_at=submitted_on)
    return app


@pytest.fixture
def data(world):
    city = lease_benefit(document=PolicyDocumentFactory(title="市级政策"))
    district = lease_benefit(document=PolicyDocumentFactory(title="区级政策"))
    machines = lessee(name="机床公司")  # industry 3511 (factory default)
    chips = lessee(name="芯片公司")
    Enterprise.objects.filter(pk=chips.pk).update(industry_code="3973")
    unknown = lessee(name="未填行业公司")
    Enterprise.objects.filter(pk=unknown.pk).update(industry_code="")
    march = dt.datetime(2026, 3, 31, 23, 30, tzinfo=SHANGHAI)  # still March in Shanghai (15:30 UTC)
    april = dt.datetime(2026, 4, 1, 0, 30, tzinfo=SHANGHAI)  # already April in Shanghai, still March in UTC
    application(
        machines, city, "1000000", march, decide="approve", approved="800000", reviewer=world.reviewer
    )
    application(chips, city, "3000000", april, decide="approve", approved="2500000", reviewer=world.reviewer)
    application(unknown, district, "500000", april, decide="reject", reviewer=world.reviewer)
    application(machines, district, "200000", april)
    # a draft is not counted
    services.create_draft(actor=world.user, enterprise_id=world.enterprise.pk, benefit_id=city.pk)
    return {"city": city, "district": district}


def as_dict(table):
    return {row.label: (row.count, row.requested, row.approved_count, row.approved) for row in table.rows}


def test_report_numbers(world, data):
    by_policy, by_state, by_industry, by_month = selectors.reports(Application.objects.all())
    assert as_dict(by_policy) == {
        "市级政策": (2, Decimal("4000000"), 2, Decimal("3300000")),
        "区级政策": (2, Decimal("700000"), 0, Decimal("0")),
    }
    assert as_dict(by_state) == {
        "已提交": (1, Decimal("200000"), 0, Decimal("0")),
        "已批准": (2, Decimal("4000000"), 2, Decimal("3300000")),
        "未通过": (1, Decimal("500000"), 0, Decimal("0")),
    }
    assert as_dict(by_industry) == {
        "35 专用设备制造业": (2, Decimal("1200000"), 1, Decimal("800000")),
        "39 计算机、通信和其他电子设备制造业": (1, Decimal("3000000"), 1, Decimal("2500000")),
        "未填写行业": (1, Decimal("500000"), 0, Decimal("0")),
    }
    assert as_dict(by_month) == {  # months in Asia/Shanghai
        "2026-03": (1, Decimal("1000000"), 1, Decimal("800000")),
        "2026-04": (3, Decimal("3700000"), 1, Decimal("2500000")),
    }
    assert (by_policy.total.count, by_policy.total.approved) == (4, Decimal("3300000"))
    assert [row.count_share for row in by_month.rows] == [33, 100]


def test_report_page_filters_and_excel_export(world, data, client):
    client.force_login(world.reviewer)
    url = reverse("applications:reports")
    page = client.get(url, {"submitted_from": "2026-04-01"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="report-month"' in html and 'class="bar"' in html
    months = as_dict(page.context["tables"][3])
    assert list(months) == ["2026-04"]

    export = client.get(url, {"format": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(export.content))
    assert workbook.sheetnames == ["按政策文件", "按状态", "按行业（国民经济行业大类）", "按提交月份"]
    rows = list(workbook["按政策文件"].iter_rows(values_only=True))
    assert rows[0] == ("分组", "申报数", "申请金额（万元）", "批准数", "批准金额（万元）")
    assert ("市级政策", 2, 400, 2, 330) in rows
    assert rows[-1] == ("合计", 4, 470, 2, 330)
