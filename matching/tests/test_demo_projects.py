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
