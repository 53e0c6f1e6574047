"""Application calls (申报通知): windows, the call's materials, reviewers' marks, and the loader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications import calls_loader, selectors, services
from applications.models import Action, Application, Call, CallMaterial, CallWindow, MaterialCheck, State
from applications.tests.support import PDF, attach_material, draft, fresh, lease_benefit
from policies.loader import LoadError

pytestmark = pytest.mark.django_db

SH = calls_loader.SHANGHAI


def at(text: str) -> dt.datetime:
    return calls_loader.parse_time(text)


def make_call(benefit, *, opens="2026-06-05 00:00", closes="2026-07-05 24:00", materials=()) -> Call:
    call = Call.objects.create(
        key=f"call-{benefit.pk}", title="测试申报通知", issuer="测试区发改委", methods=["online"]
    )
    call.benefits.add(benefit)
    CallWindow.objects.create(
        call=call, opens_at=at(opens), closes_at=calls_loader.parse_time(closes, end=True)
    )
    for order, (key, name, required) in enumerate(materials):
        CallMaterial.objects.create(
            call=call, key=key, order=order, name=name, required=required, file_types=["pdf"]
        )
    return call


def pdf(name="材料.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def under_review(world, material_name: str) -> tuple[Application, CallMaterial]:
    """The world's application under a call open far into the future that asks for one required material
    (`material_name`): the material attached, submitted and taken into review; with the material."""
    call = make_call(
        world.benefit,
        opens="2026-01-01 00:00",
        closes="2099-12-31 24:00",
        materials=[("report", material_name, True)],
    )
    material = call.materials.get()
    application = draft(world)
    services.add_attachment(
        actor=world.user, application_id=application.pk, upload=pdf(), material_id=material.pk
    )
    application = fresh(application)
    services.submit(actor=world.user, application_id=application.pk, expected_version=application.version)
    application = fresh(application)
    services.start_review(
        actor=world.reviewer, application_id=application.pk, expected_version=application.version
    )
    return fresh(application), material


# ---------------------------------------------------------------- windows


def test_24_00_is_the_end_of_the_day_in_shanghai():
    assert calls_loader.parse_time("2026-07-05 24:00") == dt.datetime(2026, 7, 6, tzinfo=SH)
    assert calls_loader.parse_time("2026-07-05", end=True) == dt.datetime(2026, 7, 6, tzinfo=SH)


def test_open_window_allows_applying_and_says_days_left(world):
    make_call(world.benefit)
    now = at("2026-06-20 10:00")
    application = draft(world, now=now)
    assert application.state == State.DRAFT
    info = selectors.next_windows([world.benefit.pk], now)[world.benefit.pk]
    assert info.is_open and info.period == "2026-06-05 至 2026-07-05" and info.days_left == 15


def test_closed_window_refuses_with_its_dates_and_writes_nothing(world):
    make_call(world.benefit)
    with pytest.raises(services.InvalidTransition) as refused:
        draft(world, now=at("2026-07-06 00:00"))  # 7月5日24:00 has passed
    assert "已截止" in str(refused.value.messages) and "2026-06-05 至 2026-07-05" in refused.value.messages[0]
    assert not world.enterprise.applications.exists()
    assert selectors.next_windows([world.benefit.pk], at("2026-07-06 00:00"))[world.benefit.pk] is None


def test_upcoming_window_refuses_and_is_shown_as_upcoming(world):
    make_call(world.benefit)
    now = at("2026-06-04 23:59")
    with pytest.raises(services.InvalidTransition, match="尚未开始"):
        draft(world, now=now)
    assert selectors.next_windows([world.benefit.pk], now)[world.benefit.pk].state == "upcoming"


def test_submission_outside_the_window_is_refused(world):
    make_call(world.benefit)
    application = draft(world, now=at("2026-07-05 23:00"))
    attach_material(world.user, application)
    application = fresh(application)
    with pytest.raises(services.InvalidTransition, match="已截止"):
        services.submit(
            actor=world.user,
            application_id=application.pk,
            expected_version=application.version,
            now=at("2026-07-06 00:01"),
        )
    assert fresh(application).state == State.DRAFT


def test_benefit_without_call_keeps_todays_rules(world):
    application = draft(world)
    assert selectors.next_windows([world.benefit.pk], at("2026-06-20 10:00"))[world.benefit.pk] is None
    with pytest.raises(services.ApplicationError, match="至少一份"):
        services.submit(actor=world.user, application_id=application.pk, expected_version=application.version)
    attach_material(world.user, application)
    application = fresh(application)
    services.submit(actor=world.user, application_id=application.pk, expected_version=application.version)
    assert fresh(application).state == State.SUBMITTED


# ---------------------------------------------------------------- materials


def test_missing_required_material_refused_then_accepted(world):
    call = make_call(
        world.benefit,
        opens="2026-01-01 00:00",
        closes="2099-12-31 24:00",
        materials=[
            ("report", "项目资金申请报告", True),
            ("licence", "营业执照", True),
            ("extra", "获奖证明", False),
        ],
    )
    report, licence, _extra = call.materials.all()
    application = draft(world)
    services.add_attachment(
        actor=world.user, application_id=application.pk, upload=pdf(), material_id=report.pk
    )
    application = fresh(application)
    with pytest.raises(services.ApplicationError) as refused:
        services.submit(actor=world.user, application_id=application.pk, expected_version=application.version)
    assert "营业执照" in refused.value.message_dict["attachments"][0]
    assert "项目资金申请报告" not in refused.value.message_dict["attachments"][0]
    assert fresh(application).state == State.DRAFT
    lines = selectors.material_checklist(application, call)
    assert [(line.material.key, line.present, line.missing) for line in lines] == [
        ("report", True, False),
        ("licence", False, True),
        ("extra", False, False),
    ]
    services.add_attachment(
        actor=world.user, application_id=application.pk, upload=pdf("执照.pdf"), material_id=licence.pk
    )
    application = fresh(application)
    services.submit(actor=world.user, application_id=application.pk, expected_version=application.version)
    assert fresh(application).state == State.SUBMITTED


def test_material_file_type_and_call_are_enforced(world):
    call = make_call(
        world.benefit,
        opens="2026-01-01 00:00",
        closes="2099-12-31 24:00",
        materials=[("report", "报告", True)],
    )
    other = make_call(
        lease_benefit(),
        materials=[("x", "别的材料", True)],
    )
    application = draft(world)
    png = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, content_type="image/png")
    with pytest.raises(services.ApplicationError, match="只接受 PDF"):
        services.add_attachment(
            actor=world.user, application_id=application.pk, upload=png, material_id=call.materials.get().pk
        )
    with pytest.raises(services.ApplicationError, match="不属于"):
        services.add_attachment(
            actor=world.user,
            application_id=application.pk,
            upload=pdf(),
            material_id=other.materials.get().pk,
        )
    assert not application.attachments.exists()


def test_reviewer_marks_materials_audited_and_permission_checked(world):
    application, material = under_review(world, "报告")
    common = {
        "application_id": application.pk,
        "expected_version": application.version,
        "material_id": material.pk,
    }
    with pytest.raises(services.PermissionDenied):
        services.check_material(actor=world.staff_without_permission, verdict="accepted", **common)
    with pytest.raises(services.ApplicationError, match="说明"):
        services.check_material(actor=world.reviewer, verdict="replace", **common)
    services.check_material(actor=world.reviewer, verdict="replace", comment="请加盖公章", **common)
    check = MaterialCheck.objects.get()
    assert check.verdict == "replace" and check.reviewer == world.reviewer
    event = application.events.filter(action=Action.CHECK_MATERIAL).get()
    assert "需重新提交" in event.comment and event.actor_name == "reviewer1"
    with pytest.raises(services.StaleVersion):
        services.check_material(actor=world.reviewer, verdict="accepted", **common)


# ---------------------------------------------------------------- pages


def test_detail_page_shows_checklist_and_marks(world, client):
    call = make_call(
        world.benefit,
        opens="2026-01-01 00:00",
        closes="2099-12-31 24:00",
        materials=[("report", "项目资金申请报告", True), ("licence", "营业执照", True)],
    )
    application = draft(world)
    report = call.materials.get(key="report")
    services.add_attachment(
        actor=world.user, application_id=application.pk, upload=pdf(), material_id=report.pk
    )
    MaterialCheck.objects.create(
        application=application, material=report, verdict="replace", comment="请加盖公章"
    )
    client.force_login(world.user)
    html = client.get(reverse("applications:detail", args=[application.pk])).content.decode()
    assert "申报材料清单" in html and "已上传" in html and "缺少" in html
    assert "需重新提交" in html and "请加盖公章" in html
    assert "测试申报通知" in html and "2026-01-01 至 2099-12-31" in html
    response = client.post(
        reverse("applications:detail", args=[application.pk]),
        {"action": "submit", "version": fresh(application).version},
    )
    assert response.status_code == 400 and "营业执照" in response.content.decode()
    assert fresh(application).state == State.DRAFT


def test_dashboard_shows_window_or_no_call(world, client):
    make_call(world.benefit, opens="2026-01-01 00:00", closes="2099-12-31 24:00")
    client.force_login(world.user)
    html = client.get(reverse("applications:dashboard")).content.decode()
    assert "申报时间：2026-01-01 至 2099-12-31" in html and "还剩" in html


# ---------------------------------------------------------------- loader


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calls.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
calls:
  - key: test-call
    demo: true
    title: （演示）测试通知
    issuer: 测试局
    benefits: [{ref}]
    methods: [online, auto_grant]
    windows:
      - {{opens: 2026-06-05 00:00, closes: 2026-07-05 24:00}}
    levels:
      - {{name: 街镇预审, deadline: 2026-07-24 00:00}}
    materials:
      - {{key: report, name: 报告, file_types: [pdf], per_item: true}}
"""


def test_loader_is_idempotent(world, tmp_path):
    path = write(tmp_path, GOOD.format(ref=world.benefit.global_key))
    first = calls_loader.load_file(path)
    assert first.tally("calls").created == 1
    call = Call.objects.get(key="test-call")
    assert call.windows.get().closes_at == dt.datetime(2026, 7, 6, tzinfo=SH)
    assert call.levels.get().deadline == dt.datetime(2026, 7, 24, tzinfo=SH)
    material_pk = call.materials.get().pk
    again = calls_loader.load_file(path)
    assert again.tally("calls").unchanged == 1 and not again.changed
    assert call.materials.get().pk == material_pk


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("methods: [online, auto_grant]", "methods: [by_fax]"), "call test-call: methods[0]"),
        (("closes: 2026-07-05 24:00", "closes: 2026-06-01 00:00"), "call test-call: windows[0]"),
        (("file_types: [pdf]", "file_types: [docx]"), "call test-call: materials[0].file_types[0]"),
        (("benefits: [", "benefits: [nope/1/none, "), "call test-call: benefits[0]: no benefit nope/1/none"),
        (("deadline: 2026-07-24 00:00", "deadline: 2026-06-01 00:00"), "levels[0].deadline"),
        (("title:", "titel:"), "call test-call: titel"),
    ],
)
def test_bad_fixture_is_refused_naming_file_and_field(world, tmp_path, change, expected):
    path = write(tmp_path, GOOD.format(ref=world.benefit.global_key).replace(*change))
    with pytest.raises(LoadError) as refused:
        calls_loader.load_file(path)
    text = "\n".join(refused.value.messages)
    assert expected in text and "calls.yaml" in text
    assert not Call.objects.exists()


def test_quote_not_in_the_source_is_refused(world, tmp_path):
    text = (
        GOOD.format(ref=world.benefit.global_key)
        .replace("    demo: true\n", "    source_file: 02_jinshan_service_fund_call_2026_batch2.txt\n")
        .replace("{name: 街镇预审,", "{quote: 原文没有这句话, name: 街镇预审,")
    )
    if calls_loader.source_path("02_jinshan_service_fund_call_2026_batch2.txt") is None:
        pytest.skip("corpus not available")
    with pytest.raises(LoadError, match=r"levels\[0\]\.quote: not found verbatim"):
        calls_loader.load_file(write(tmp_path, text))
    assert not Call.objects.exists()


def test_reviewer_marks_a_material_on_the_review_page_and_the_enterprise_sees_it(world, client):
    application, material = under_review(world, "项目资金申请报告")
    url = reverse("applications:review_detail", args=[application.pk])
    mark = {"action": "check_material", "version": application.version, "material": material.pk}
    client.force_login(world.staff_without_permission)
    assert client.post(url, mark | {"verdict": "accepted"}).status_code == 403
    client.force_login(world.reviewer)
    assert "申报材料清单" in client.get(url).content.decode()
    refused = client.post(url, mark | {"verdict": "replace", "comment": ""})
    assert refused.status_code == 400 and "请说明该材料需要怎样重新提交" in refused.content.decode()
    assert not MaterialCheck.objects.exists()
    assert client.post(url, mark | {"verdict": "replace", "comment": "请加盖公章"}).status_code == 302
    client.force_login(world.user)
    html = client.get(reverse("applications:detail", args=[application.pk])).content.decode()
    assert "需重新提交" in html and "请加盖公章" in html


def test_the_shipped_call_fixtures_load(catalog_loaded, tmp_path):
    from policies.loader import default_paths as policy_paths
    from policies.loader import load_files as load_policies

    _reports, errors = load_policies([path for path in policy_paths() if path.parent.name == "policies"])
    assert not errors, [error.messages for error in errors]
    reports, errors = calls_loader.load_files(calls_loader.default_paths(demo=True))
    assert not errors, [error.messages for error in errors]
    jinshan = Call.objects.get(key="js-2026-service-fund-call-2")
    window = jinshan.windows.get()
    assert (window.opens_at, window.closes_at) == (at("2026-06-05 00:00"), at("2026-07-06 00:00"))
    assert [level.name for level in jinshan.levels.all()][0] == "街镇（园区）预审"
    assert jinshan.levels.first().deadline == at("2026-07-24 00:00")
    assert jinshan.materials.count() == 17 and not jinshan.is_demo
    assert Call.objects.get(key="demo-mh-service-industry-fund").materials.count() == 14
    assert all(call.is_demo for call in Call.objects.exclude(pk=jinshan.pk))
    # the demo shows an open and an upcoming call for years (judged at given moments, not today)
    demo = list(Call.objects.filter(is_demo=True).prefetch_related("windows"))
    for moment in ("2026-12-02 10:00", "2027-06-01 10:00", "2028-12-31 10:00"):
        assert {"open", "upcoming"} <= {info.state for info in selectors.windows_of(demo, at(moment))}, moment
    again, errors = calls_loader.load_files(calls_loader.default_paths(demo=True))
    assert not errors and not any(report.changed for report in again)


def test_resubmission_needs_a_new_file_for_a_material_to_be_replaced(world):
    application, material = under_review(world, "报告")
    for step in ("check", "return"):
        application = fresh(application)
        common = {"application_id": application.pk, "expected_version": application.version}
        if step == "check":
            services.check_material(
                actor=world.reviewer, material_id=material.pk, verdict="replace", comment="盖章", **common
            )
        else:
            services.return_for_information(actor=world.reviewer, needed="请重新提交报告。", **common)
    application = fresh(application)
    with pytest.raises(services.ApplicationError, match="重新提交以下材料"):
        services.resubmit(
            actor=world.user,
            application_id=application.pk,
            expected_version=application.version,
            answer="已补充",
        )
    assert fresh(application).state == State.RETURNED
    services.add_attachment(
        actor=world.user, application_id=application.pk, upload=pdf("新.pdf"), material_id=material.pk
    )
    application = fresh(application)
    services.resubmit(
        actor=world.user, application_id=application.pk, expected_version=application.version, answer="已补充"
    )
    assert fresh(application).state == State.RESUBMITTED
