# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""Access sweep over every route: the URL resolver is walked (pages, API, admin), each route filled
with the ids of enterprise B's objects, and requested as enterprise A's user (session) and, on the
API, as A's key, with every method. No answer may show B's data and no request may change B's rows.
A read-only key writes nothing anywhere. A route whose parameters the sweep does not know fails the
test until it is taught (FILL below), so a new route is covered without editing the test otherwise."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from applications import services as application_services
from applications.models import Application, Call, CallMaterial, CallWindow, Confirmation
from enterprises import items as item_services
from enterprises.models import Enterprise, ImportJob, Item, YearlyFigure
from matching import notifications
from matching.models import MatchChange, MatchResult, WebhookSubscription
from policies.models import Benefit, Clause, FactDefinition, PolicyDocument
from portal.models import ApiKey, Scope
from portal.tests.api_support import (  # noqa: F401 - fixtures
    api_data,
    api_world,
    fresh_throttle_counts,
    key_client,
    new_key,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
METHODS = ("get", "post", "put", "patch", "delete")
PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>|\(\?P<(?P<regex_name>\w+)>[^)]*\)")


def routes() -> list[str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return sorted(set(walk(get_resolver().url_patterns)))


@dataclass
class BWorld:
    ids: dict[str, object]  # what each kind of parameter is filled with: B's objects
    markers: list[str]  # texts only B's data contains

    def snapshot(self) -> dict:
        b = self.ids["enterprise"]
        return {
            "enterprise": list(Enterprise.objects.filter(pk=b).values_list("version", "name")),
            "applications": list(
                Application.objects.filter(enterprise_id=b).values_list("pk", "state", "version")
            ),
            "attachments": list(
                Application.objects.get(pk=self.ids["application"]).attachments.values_list("pk")
            ),
            "figures": list(YearlyFigure.objects.filter(enterprise_id=b).values_list("pk", "year")),
            "items": list(
                Item.objects.filter(enterprise_id=b).values_list("pk", "version", "title", "values")
            ),
            "webhooks": list(
                WebhookSubscription.objects.filter(enterprise_id=b).values_list("pk", "active", "url")
            ),
            "keys": list(ApiKey.objects.filter(user_id=self.ids["user"]).values_list("pk", "revoked_at")),
            "confirmations": list(
                Confirmation.objects.filter(enterprise_id=b).values_list(
                    "pk", "state", "version", "application"
                )
            ),
        }


@pytest.fixture
def b_world(api_world, settings, tmp_path) -> BWorld:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    b = api_world.b
    benefit = Benefit.objects.filter(key="new-factory-lease").first() or Benefit.objects.first()
    application = application_services.create_draft(
        actor=api_world.user_b, enterprise_id=b.pk, benefit_id=benefit.pk
    )
    attachment = application_services.add_attachment(
        actor=api_world.user_b,
        application_id=application.pk,
        upload=SimpleUploadedFile("b.pdf", b"%PDF-1.4 B"),
    )
    figure = YearlyFigure.objects.create(enterprise=b, year=2023, output_value=123456789)
    change = MatchChange.objects.create(
        enterprise=b, benefit=benefit, old_status="needs_info", new_status="eligible",
        cause=MatchChange.Cause.ENTERPRISE_DATA, as_of="2025-06-01",
    )  # fmt: skip
    webhook = notifications.subscribe_webhook(
        name="乙公司专用推送", url="https://b-only.example.cn/hook", enterprise_id=b.pk
    )
    item = item_services.save_item(
        enterprise_id=b.pk,
        kind="energy_saving_project",
        title="乙公司专用节能项目",
        values={"energy_project_investment": "9876543"},
    )
    call = Call.objects.create(
        key="sweep-call", title="扫描用申报通知", issuer="测试区经委", methods=["online"]
    )
    call.benefits.add(benefit)
    CallWindow.objects.create(
        call=call, opens_at="2026-01-01T00:00+08:00", closes_at="2099-12-31T00:00+08:00"
    )
    CallMaterial.objects.create(call=call, key="contract", name="租赁合同", file_types=["pdf"])
    confirmation = Confirmation.objects.create(enterprise=b, benefit=benefit, estimated_amount=87654321)
    job = ImportJob.objects.create(filename="b.csv", sha256="0" * 64, created_by=api_world.staff)
    result = MatchResult.objects.filter(enterprise=b).first()
    document = PolicyDocument.objects.first()
    ids = {
        "enterprise": b.pk,
        "application": application.pk,
        "attachment": attachment.pk,
        "figure": figure.pk,
        "item": item.pk,
        "item_kind": item.kind,
        "change": change.pk,
        "webhook": webhook.pk,
        "import_job": job.pk,
        "result": result.pk if result else 999999,
        "benefit": benefit.pk,
        "clause": Clause.objects.first().pk,
        "document": document.key,
        "fact": FactDefinition.objects.first().code,
        "user": api_world.user_b.pk,
        "call": call.pk,
        "confirmation": confirmation.pk,
    }
    markers = [
        b.name,
        b.credit_code,
        application.reference,
        "乙公司专用推送",
        "b-only.example.cn",
        "123456789",
        "乙公司专用节能项目",
        "87654321",  # B's confirmation's estimate
    ]
    return BWorld(ids=ids, markers=markers)


def fill(route: str, world: BWorld) -> str | None:
    """The route with B's ids, or None when a parameter is unknown (the test then fails)."""
    ids = world.ids
    # (route prefix, parameter) -> value; the first matching prefix wins
    taught = [
        ("enterprises/import/", "job_id", ids["import_job"]),
        ("enterprises/", "pk", ids["enterprise"]),
        ("enterprises/", "table", "figures"),
        ("enterprises/", "row_pk", ids["figure"]),
        ("enterprises/", "item_id", ids["item"]),
        ("enterprises/", "kind", ids["item_kind"]),
        ("matches/benefits/", "pk", ids["benefit"]),
        ("applications/apply/", "benefit_id", ids["benefit"]),
        ("applications/confirmations/", "pk", ids["confirmation"]),
        ("applications/", "pk", ids["application"]),
        ("applications/", "attachment_id", ids["attachment"]),
        ("accounts/reset/", "uidb64", "Mg"),
        ("accounts/reset/", "token", "set-password"),
        ("self-check/step/", "slug", "basic"),
        ("policies/", "key", ids["document"]),
        ("api/v1/^documents/", "key", ids["document"]),
        ("api/v1/^clauses/", "pk", ids["clause"]),
        ("api/v1/^benefits/", "pk", ids["benefit"]),
        ("api/v1/^facts/", "code", ids["fact"]),
        ("api/v1/^enterprises/", "pk", ids["enterprise"]),
        ("api/v1/^matches/", "pk", ids["result"]),
        ("api/v1/^changes/", "pk", ids["change"]),
        ("api/v1/^applications/", "pk", ids["application"]),
        ("api/v1/^webhooks/", "pk", ids["webhook"]),
        ("api/v1/^items/", "pk", ids["item"]),
        ("api/v1/^calls/", "pk", ids["call"]),
        ("api/v1/^confirmations/", "pk", ids["confirmation"]),
        ("admin/", "object_id", ids["enterprise"]),
        ("admin/", "app_label", "enterprises"),
        ("admin/", "content_type_id", 1),
        ("admin/", "user_id", ids["user"]),
        ("admin/", "id", ids["user"]),
        ("admin/", "url", "enterprises/enterprise/"),
    ]
    missing = []

    def value_for(match: re.Match) -> str:
        name = match["name"] or match["regex_name"]
        for prefix, parameter, value in taught:
            if route.startswith(prefix) and parameter == name:
                return str(value)
        missing.append(name)
        return ""

    path = PARAMETER.sub(value_for, route)
    if missing:
        return None
    path = path.replace("^", "").replace("$", "")
    if ".*" in path:
        path = path.replace(".*", "no-such-thing/")
    return "/" + path


def leaks(body: str, world: BWorld) -> list[str]:
    return [marker for marker in world.markers if marker in body]


def sweep(client: Client, paths: list[str], world: BWorld, methods=METHODS) -> tuple[int, list[str]]:
    tried, problems = 0, []
    for path in paths:
        for method in methods:
            response = getattr(client, method)(
                path, **({"content_type": "application/json"} if method != "get" else {})
            )
            tried += 1
            if response.status_code >= 500:
                problems.append(f"{method.upper()} {path}: {response.status_code}")
                continue
            body = b"".join(response.streaming_content) if response.streaming else response.content
            found = leaks(body.decode("utf-8", "replace"), world)
            if found:
                problems.append(f"{method.upper()} {path}: {response.status_code} shows {found}")
    return tried, problems


def test_every_route_as_a_and_as_as_key_shows_nothing_of_b(api_world, b_world, capsys):
    paths, unknown = [], []
    for route in routes():
        path = fill(route, b_world)
        (unknown if path is None else paths).append(route if path is None else path)
    assert not unknown, f"the sweep cannot fill these routes: teach fill() their parameters: {unknown}"
    before = b_world.snapshot()

    session = Client()
    session.force_login(api_world.user_a)
    tried, problems = sweep(session, paths, b_world)
    api_paths = [path for path in paths if path.startswith("/api/")]
    key_tried, key_problems = sweep(key_client(api_world.key_a), api_paths, b_world)
    after = b_world.snapshot()
    with capsys.disabled():
        print(f"\nroute sweep: {len(paths)} routes, {tried + key_tried} requests (routes × methods, "
              f"session and key), {len(problems) + len(key_problems)} leaks")  # fmt: skip
    assert not problems + key_problems
    assert after == before, "a request as A changed B's rows"
    assert len(paths) > 200  # pages, API and admin

    # the control: the same filled routes do show B's data to B, so a leak would have been seen
    own = Client()
    own.force_login(api_world.user_b)
    b_pages = [path for path in paths if path.rstrip("/").endswith((f"/enterprises/{b_world.ids['enterprise']}",
                                                                     f"/applications/{b_world.ids['application']}",
                                                                     f"/api/v1/confirmations/{b_world.ids['confirmation']}"))]  # fmt: skip
    assert len(b_pages) >= 4 and f"/api/v1/confirmations/{b_world.ids['confirmation']}/" in b_pages
    _, seen = sweep(own, b_pages, b_world, methods=("get",))
    assert len(seen) == len(b_pages), seen


def test_a_read_only_key_writes_nowhere(api_world, b_world):
    _key, raw = new_key(Scope.READ_POLICIES, Scope.READ_MATCHES)
    client = key_client(raw)
    counts = {
        model: model.objects.count()
        for model in (Enterprise, Application, WebhookSubscription, ApiKey, Item, Confirmation)
    }
    written = []
    for route in routes():
        path = fill(route, b_world)
        if path is None or not path.startswith("/api/v1/"):
            continue
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(path, {}, content_type="application/json")
            stateless = path == "/api/v1/self-check/"  # computes an answer, stores nothing
            if response.status_code < 400 and not stateless:
                written.append(f"{method.upper()} {path}: {response.status_code}")
    assert not written
    assert counts == {model: model.objects.count() for model in counts}
