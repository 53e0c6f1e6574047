"""Policy writes through the services record themselves in their transaction: a PolicyChange per row
that results read, and the `policy` validator counter the API's ETags are made of (policies/changes.py)."""

import pytest

from policies import generations
from policies import services as policy_services
from policies.loader import catalog_paths, load_files
from policies.models import FactDefinition, PolicyChange, Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(db):
    _reports, errors = load_files(catalog_paths())
    assert not errors


def policy_counter() -> int:
    return generations.read(["policy"])[0]


def test_a_fact_saved_is_recorded_and_moves_the_counter(catalog):
    PolicyChange.objects.all().delete()
    before = policy_counter()
    fact = FactDefinition.objects.get(code="is_manufacturing")
    fact.label_zh = "制造业企业（改）"
    policy_services.save_fact_definition(fact=fact, reason="test")
    assert policy_counter() == before + 1
    assert list(PolicyChange.objects.values_list("kind", "key")) == [
        (PolicyChange.Kind.FACT, "is_manufacturing")
    ]


def test_a_region_renamed_moves_the_counter_and_nothing_is_re_evaluated(catalog):
    PolicyChange.objects.all().delete()
    before = policy_counter()
    region = Region.objects.get(code="310112")
    assert policy_services.save_region(region=region, values={"name_en": "Minhang (renamed)"}) == "updated"
    assert policy_counter() == before + 1
    assert not PolicyChange.objects.exists()
    # the same values again write nothing, and move nothing
    assert policy_services.save_region(region=region, values={"name_en": "Minhang (renamed)"}) == "unchanged"
    assert policy_counter() == before + 1
