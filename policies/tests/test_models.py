"""Models: database constraints, validation in clean(), validity by date, version and history via services."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from policies import services
from policies.models import Benefit, PolicyDocument
from policies.tests.factories import (
    BenefitFactory,
    ClauseFactory,
    FactDefinitionFactory,
    PolicyDocumentFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def lease_area():
    return FactDefinitionFactory(code="lease_area_m2", type="decimal", unit="平方米", label_zh="新租赁面积")


@pytest.mark.parametrize(
    "field_values",
    [{"cap": -1}, {"amount": -5}, {"ratio": Decimal("-0.1")}, {"ratio": Decimal("10.5")}, {"instalments": 0},
     {"valid_from": D(2025, 1, 2), "valid_to": D(2025, 1, 1)}, {"version": 0}],
)  # fmt: skip
def test_database_refuses_impossible_benefits(field_values):
    benefit = BenefitFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Benefit.objects.filter(pk=benefit.pk).update(**field_values)


def test_database_refuses_effective_from_after_effective_to():
    document = PolicyDocumentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyDocument.objects.filter(pk=document.pk).update(
            effective_from=D(2025, 1, 1), effective_to=D(2024, 1, 1)
        )


def test_duplicate_clause_number_and_benefit_key_are_refused():
    clause = ClauseFactory(number="7")
    with pytest.raises(IntegrityError), transaction.atomic():
        ClauseFactory(document=clause.document, number="7")
    benefit = BenefitFactory(clause=clause, key="lease")
    with pytest.raises(IntegrityError), transaction.atomic():
        BenefitFactory(clause=benefit.clause, key="lease")


@pytest.mark.parametrize(
    ("values", "field"),
    [({"cap": Decimal(-1)}, "cap"), ({"ratio": Decimal(11)}, "ratio"), ({"instalments": 0}, "instalments"),
     ({"amount_quote": "给予上限2000万元"}, "amount_quote"), ({"recognition_phrase": "经综合评定"}, "recognition_phrase"),
     ({"base_fact": "no_such_fact"}, "base_fact"), ({"kind": "non_monetary"}, "kind"),
     ({"amount": Decimal(20_000_000)}, "amount")],
)  # fmt: skip
def test_full_clean_names_the_field(values, field):
    benefit = BenefitFactory.build(clause=ClauseFactory(), key="x", **values)
    with pytest.raises(ValidationError) as error:
        benefit.full_clean()
    assert field in error.value.message_dict, error.value.message_dict


def test_condition_is_validated_against_the_catalog_and_its_quotes_against_the_clause(lease_area):
    clause = ClauseFactory()
    good = {
        "all": [
            {"fact": "lease_area_m2", "op": "gte", "value": 5000, "quote": "租赁面积超过5000平方米（含）以上"}
        ]
    }
    BenefitFactory.build(clause=clause, key="ok", condition=good).full_clean()

    unknown = {"all": [{"fact": "no_such_fact", "op": "gte", "value": 1, "quote": "租赁面积"}]}
    with pytest.raises(ValidationError) as error:
        BenefitFactory.build(clause=clause, key="bad", condition=unknown).full_clean()
    assert "no_such_fact" in " ".join(error.value.message_dict["condition"])

    misquoted = {
        "all": [{"fact": "lease_area_m2", "op": "gte", "value": 5000, "quote": "面积超过3000平方米"}]
    }
    with pytest.raises(ValidationError) as error:
        BenefitFactory.build(clause=clause, key="bad", condition=misquoted).full_clean()
    assert "面积超过3000平方米" in " ".join(error.value.message_dict["condition"])


def test_a_condition_quoting_another_clause_is_checked_against_that_clause(lease_area):
    own = ClauseFactory(number="第五条", text="符合第四条条件的，经认定，给予上限1000万元的补贴。")
    ClauseFactory(document=own.document, number="第四条", text="租赁面积超过5000平方米（含）以上的企业。")
    leaf = {"fact": "lease_area_m2", "op": "gte", "value": 5000, "quote": "租赁面积超过5000平方米（含）以上"}
    BenefitFactory.build(clause=own, key="ok", condition={**leaf, "clause": "第四条"}).full_clean()
    with pytest.raises(ValidationError) as error:  # without `clause` the quote is looked for in 第五条
        BenefitFactory.build(clause=own, key="bad", condition=leaf).full_clean()
    assert "租赁面积超过5000平方米" in " ".join(error.value.message_dict["condition"])
    with pytest.raises(ValidationError):  # the named clause does not hold these words
        BenefitFactory.build(
            clause=own, key="bad", condition={**leaf, "quote": "给予上限1000万元", "clause": "第四条"}
        ).full_clean()


def test_figures_not_benefits_must_quote_the_clause():
    clause = ClauseFactory.build(
        document=PolicyDocumentFactory(), figures_not_benefits=[{"phrase": "9999亩", "why": "x"}]
    )
    with pytest.raises(ValidationError) as error:
        clause.full_clean()
    assert "figures_not_benefits" in error.value.message_dict


@pytest.mark.parametrize(
    ("status", "start", "end", "as_of", "expected"),
    [
        ("in_force", D(2024, 4, 1), D(2029, 3, 31), D(2024, 3, 31), (False, "not_yet_effective")),
        ("in_force", D(2024, 4, 1), D(2029, 3, 31), D(2024, 4, 1), (True, "in_force")),
        ("in_force", D(2024, 4, 1), D(2029, 3, 31), D(2029, 3, 31), (True, "in_force")),
        ("in_force", D(2024, 4, 1), D(2029, 3, 31), D(2029, 4, 1), (False, "expired")),
        ("in_force", D(2022, 10, 1), None, D(2099, 1, 1), (True, "in_force")),
        ("draft", None, None, D(2025, 1, 1), (False, "draft")),
        ("expired", D(2018, 1, 1), D(2020, 12, 31), D(2019, 6, 1), (True, "in_force")),
        ("expired", D(2018, 1, 1), D(2020, 12, 31), D(2021, 1, 1), (False, "expired")),
        ("expired", None, None, D(2019, 6, 1), (False, "expired")),
        ("superseded", D(2018, 1, 1), None, D(2019, 6, 1), (False, "superseded")),
    ],
)
def test_document_validity_on_a_date(status, start, end, as_of, expected):
    document = PolicyDocument(status=status, effective_from=start, effective_to=end)
    assert document.validity_on(as_of) == expected


def test_benefit_validity_narrows_the_document():
    benefit = BenefitFactory(valid_from=D(2025, 1, 1), valid_to=D(2025, 12, 31))
    assert benefit.validity_on(D(2024, 6, 1)) == (False, "not_yet_effective")
    assert benefit.validity_on(D(2025, 6, 1)) == (True, "in_force")
    assert benefit.validity_on(D(2026, 1, 1)) == (False, "expired")
    assert benefit.global_key == f"{benefit.clause.document.key}/{benefit.clause.number}/{benefit.key}"


def test_service_bumps_version_only_on_content_change_and_keeps_history(lease_area):
    benefit = BenefitFactory()
    before = benefit.history.count()
    assert services.save_benefit(benefit=benefit) == services.UNCHANGED
    assert benefit.history.count() == before

    benefit.cap = Decimal("5000000")
    benefit.condition = {"all": [{"fact": "lease_area_m2", "op": "gte", "value": 5000, "quote": "租赁面积"}]}
    assert services.save_benefit(benefit=benefit, reason="test edit") == services.UPDATED
    benefit.refresh_from_db()
    assert benefit.version == 2
    assert benefit.fact_codes == ["lease_area_m2"]
    latest = benefit.history.first()
    assert (latest.history_type, latest.history_change_reason, latest.cap) == (
        "~",
        "test edit",
        Decimal("5000000"),
    )
    assert benefit.history.count() == before + 1
    assert benefit.history.last().cap == Decimal("10000000")  # what it said before is kept

    benefit.cap = Decimal("5000000.00")  # the same amount, written differently
    assert services.save_benefit(benefit=benefit) == services.UNCHANGED
    assert Benefit.objects.get(pk=benefit.pk).version == 2


def test_service_refuses_invalid_benefit_and_writes_nothing():
    benefit = BenefitFactory()
    benefit.condition = {"all": [{"fact": "ghost", "op": "eq", "value": 1, "quote": "租赁面积"}]}
    with pytest.raises(ValidationError):
        services.save_benefit(benefit=benefit)
    assert Benefit.objects.get(pk=benefit.pk).condition is None


def test_changing_a_fact_type_that_breaks_conditions_is_refused(lease_area):
    benefit = BenefitFactory()
    benefit.condition = {"all": [{"fact": "lease_area_m2", "op": "gte", "value": 5000, "quote": "租赁面积"}]}
    services.save_benefit(benefit=benefit)
    lease_area.type = "bool"
    with pytest.raises(ValidationError) as error:
        services.save_fact_definition(fact=lease_area)
    assert benefit.global_key in str(error.value)
    lease_area.refresh_from_db()
    assert lease_area.type == "decimal"
    lease_area.label_zh = "新租赁自用工业厂房面积"  # a harmless edit goes through
    assert services.save_fact_definition(fact=lease_area) == services.UPDATED


def test_enum_fact_needs_choices():
    fact = FactDefinitionFactory.build(code="some_enum", type="enum", choices=[])
    with pytest.raises(ValidationError) as error:
        fact.full_clean()
    assert "choices" in error.value.message_dict
