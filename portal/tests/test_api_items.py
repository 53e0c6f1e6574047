# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""Items through the API: an enterprise's key reads and writes its own only, values are checked against
the kind's facts, a stale version is a 409 problem, and a read-only key writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from enterprises.models import Item
from portal.models import Scope
from portal.tests.api_support import (  # noqa: F401 - fixtures
    api_data,
    api_world,
    assert_problem,
    fresh_throttle_counts,
    key_client,
    new_key,
)

pytestmark = pytest.mark.django_db
KIND = "energy_saving_project"
URL = "/api/v1/items/"


def create(client, **body):
    return client.post(
        URL, {"kind": KIND, "title": "空压机节能改造", **body}, content_type="application/json"
    )


def test_an_enterprise_key_writes_and_reads_its_own_items(api_world):
    a = key_client(api_world.key_a)
    response = create(a, values={"energy_project_investment": "4500000", "annual_energy_saving_tce": 320})
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    assert body["enterprise"] == api_world.a.pk and body["version"] == 1 and body["source"] == "self_declared"
    assert body["values"] == {"energy_project_investment": "4500000", "annual_energy_saving_tce": "320"}
    assert body["kind_label"] == "节能降碳项目"
    assert {"fact": "energy_project_investment", "label": "节能降碳项目投资额", "display": "450 万元"} in (
        body["values_display"]
    )
    assert response["Location"].endswith(f"{URL}{body['id']}/")
    listed = a.get(URL, {"enterprise": api_world.a.pk}).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]

    patched = a.patch(
        f"{URL}{body['id']}/",
        {"version": 1, "values": {"annual_energy_saving_tce": "350", "energy_project_investment": None}},
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content.decode()
    assert patched.json()["values"] == {"annual_energy_saving_tce": "350"} and patched.json()["version"] == 2
    stale = a.patch(f"{URL}{body['id']}/", {"version": 1, "title": "旧"}, content_type="application/json")
    assert_problem(stale, 409, "stale_version")
    assert_problem(a.delete(f"{URL}{body['id']}/?version=1"), 409, "stale_version")
    assert a.delete(f"{URL}{body['id']}/?version=2").status_code == 204
    assert not Item.objects.filter(pk=body["id"]).exists()


def test_another_enterprises_items_are_404_and_cannot_be_created(api_world):
    b = key_client(api_world.key_b)
    theirs = create(b).json()
    a = key_client(api_world.key_a)
    assert_problem(a.get(f"{URL}{theirs['id']}/"), 404)
    assert_problem(a.patch(f"{URL}{theirs['id']}/", {"version": 1}, content_type="application/json"), 404)
    assert_problem(a.delete(f"{URL}{theirs['id']}/"), 404)
    assert_problem(a.get(URL, {"enterprise": api_world.b.pk}), 404)
    assert a.get(URL).json()["results"] == []
    assert_problem(create(a, enterprise=api_world.b.pk), 404)
    assert Item.objects.filter(enterprise=api_world.a).count() == 0
    machine = key_client(api_world.machine_key)
    assert [row["id"] for row in machine.get(URL, {"kind": KIND}).json()["results"]] == [theirs["id"]]


def test_bad_input_is_a_problem_naming_the_field(api_world):
    machine = key_client(api_world.machine_key)
    assert_problem(create(machine), 400, field="enterprise")  # a machine key names the enterprise
    a = key_client(api_world.key_a)
    assert_problem(create(a, values={"no_such_fact": 1}), 400, field="values")
    assert_problem(create(a, values={"energy_project_investment": "很多"}), 400, field="values")
    assert_problem(create(a, kind="no_such_kind"), 400)
    assert_problem(create(a, colour="red"), 400, field="colour")
    assert_problem(create(a, title=5), 400, field="title")
    item = create(a).json()
    assert_problem(
        a.patch(f"{URL}{item['id']}/", {"title": "x"}, content_type="application/json"), 400, field="version"
    )
    assert_problem(a.delete(f"{URL}{item['id']}/?version=abc"), 400, field="version")


def test_a_read_only_key_cannot_write_items(api_world):
    _key, raw = new_key(Scope.READ_MATCHES, user=api_world.user_a)
    client = key_client(raw)
    assert client.get(URL).status_code == 200
    assert_problem(create(client), 403)
    assert not Item.objects.exists()


def test_an_item_lists_the_stored_verdicts_of_per_item_benefits(api_world):
    from matching import services as matching_services
    from policies.tests.factories import BenefitFactory

    benefit = BenefitFactory(
        name="测试按项目补贴",
        per_item=KIND,
        requires_recognition=False,
        amount=500000,
        cap=None,
        condition={
            "fact": "energy_project_investment",
            "op": "gte",
            "value": 1000000,
            "quote": "对新租赁自用工业厂房",
        },
    )
    a = key_client(api_world.key_a)
    big = create(a, title="大项目", values={"energy_project_investment": "4500000"}).json()
    small = create(a, title="小项目", values={"energy_project_investment": "200000"}).json()
    assert big["match_results"] == []  # not evaluated yet: additive, an empty list
    matching_services.evaluate_enterprise(enterprise_id=api_world.a.pk, as_of=dt.date(2025, 6, 1))
    rows = {row["id"]: row for row in a.get(URL, {"enterprise": api_world.a.pk}).json()["results"]}
    (mine,) = [r for r in rows[big["id"]]["match_results"] if r["benefit_id"] == benefit.pk]
    assert mine["status"] == "eligible" and mine["status_label"] == "符合条件"
    assert mine["amount"] == "500000.00" and mine["leaf_outcomes"] == "v" and mine["as_of"] == "2025-06-01"
    (theirs,) = [r for r in rows[small["id"]]["match_results"] if r["benefit_id"] == benefit.pk]
    assert theirs["status"] == "not_eligible" and theirs["amount"] is None
    assert a.get(f"{URL}{big['id']}/").json()["match_results"] == rows[big["id"]]["match_results"]
