"""The demo account's enterprise has a district and a municipal technology-upgrade project (items):
闵府规发〔2024〕1号第10条 pays each project on its own, on both engine paths (figures by hand)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from enterprises.facts import facts_table
from enterprises.models import Enterprise, Item
from matching import selectors
from matching.engine import FactColumns, Status, evaluate_table

AS_OF = dt.date(2026, 6, 1)


@pytest.mark.django_db
def test_the_demo_enterprise_is_paid_for_both_projects(policies_loaded):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    enterprise = Enterprise.objects.get(credit_code="91310112369006023A")
    levels = sorted(
        i.values["tech_project_level"]
        for i in Item.objects.filter(enterprise=enterprise, kind="tech_upgrade_project")
    )
    assert levels == ["district", "municipal"]
    verdicts = {v.spec.global_key: v for v in selectors.verdicts_for(enterprise, AS_OF)}
    municipal = verdicts["mh-2024-new-industrialization/10/municipal-tech-upgrade-matching"]
    district = verdicts["mh-2024-new-industrialization/10/district-tech-upgrade"]
    # municipal project: 600万元 × 0.5 = 300万元; district project: 1.8亿元 × 10% = 1800万元 (cap 2000万元)
    assert (municipal.status, municipal.amount.value) == (Status.PENDING_RECOGNITION, Decimal("3000000.00"))
    assert (district.status, district.amount.value) == (Status.PENDING_RECOGNITION, Decimal("18000000.00"))
    # each benefit counts only its own kind of project: one item each
    assert [entry.verdict.status for entry in municipal.items].count(Status.PENDING_RECOGNITION) == 1
    assert [entry.verdict.status for entry in district.items].count(Status.PENDING_RECOGNITION) == 1
    # the bulk path agrees
    specs = {spec.global_key: spec for spec in selectors.benefit_specs()}
    catalog = selectors.catalog()
    table = facts_table([enterprise.pk], AS_OF, catalog=catalog)
    for key, verdict in (("municipal-tech-upgrade-matching", municipal), ("district-tech-upgrade", district)):
        spec = specs[f"mh-2024-new-industrialization/10/{key}"]
        columns = FactColumns(table.columns, len(table.enterprise_ids), catalog, table.items)
        bulk = evaluate_table(spec, columns, AS_OF)
        assert bulk.amount(0) == verdict.amount


@pytest.mark.django_db
def test_every_demo_technology_upgrade_project_is_also_an_item(policies_loaded):
    """A demo enterprise with a technology-upgrade project (enterprise-level facts) holds it as a
    tech_upgrade_project item too, so 第10条 shows its per-item result."""
    from enterprises.models import Project

    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    with_projects = set(
        Project.objects.filter(kind="tech_upgrade").values_list("enterprise__credit_code", flat=True)
    )
    with_items = set(
        Item.objects.filter(kind="tech_upgrade_project").values_list("enterprise__credit_code", flat=True)
    )
    assert with_projects and with_projects <= with_items


@pytest.mark.django_db
def test_a_2024_project_is_outside_the_enterprise_window_but_its_item_is_judged(policies_loaded):
    """上海德科: its 2024 project is past the two-year window of the enterprise-level facts (there, a
    declared enterprise is known to have no project in the window), while 第10条, which names no project year, judges the item: 3000万元 × 10% = 300万元."""
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    enterprise = Enterprise.objects.get(credit_code="91310112747686311E")
    (item,) = Item.objects.filter(enterprise=enterprise, kind="tech_upgrade_project")
    assert item.values["tech_project_level"] == "district"
    catalog = selectors.catalog()
    table = facts_table([enterprise.pk], AS_OF, catalog=catalog)
    assert table.columns["tech_upgrade_level"][0] == "none"  # the window leaves the 2024 project out
    verdicts = {v.spec.global_key: v for v in selectors.verdicts_for(enterprise, AS_OF)}
    district = verdicts["mh-2024-new-industrialization/10/district-tech-upgrade"]
    assert (district.status, district.amount.value) == (Status.PENDING_RECOGNITION, Decimal("3000000.00"))
    assert [(entry.item_id, entry.verdict.status) for entry in district.items] == [
        (item.pk, Status.PENDING_RECOGNITION)
    ]
    municipal = verdicts["mh-2024-new-industrialization/10/municipal-tech-upgrade-matching"]
    assert municipal.status == Status.NOT_ELIGIBLE  # a district project is not a municipal one
