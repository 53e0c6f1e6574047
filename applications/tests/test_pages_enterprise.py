"""The enterprise's pages: dashboard, applying, submitting, answering a return, withdrawing."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications.models import Application, State
from applications.tests.support import PDF, bring_to, draft, fresh, lease_benefit
from policies.tests.factories import ClauseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a(client, world):
    client.force_login(world.user)
    return client


def test_apply_page_is_prefilled_and_shows_the_engines_explanation(world, client_a):
    response = client_a.get(reverse("applications:apply", args=[world.benefit.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "新租赁自用工业厂房面积 ≥ 5000 平方米" in html  # the reason, from the engine
    assert "租赁面积超过5000平方米（含）以上" in html  # its quote
    assert 'name="requested_amount"' in html and 'value="1E+3"' not in html
    assert response.context["form"].initial["requested_amount"] == Decimal("1000")  # the estimate, in 万元
    assert 'id="apply-form"' in html and 'id="save-draft"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<label for="application_requested_amount">' in html


def test_applying_submitting_and_tracking(world, client_a):
    response = client_a.post(
        reverse("applications:apply", args=[world.benefit.pk]),
        {
            "requested_amount": "800",
            "project_summary": "新租厂房6000平方米",
            "contact_name": "张三",
            "contact_phone": "13800000000",
        },
    )
    application = Application.objects.get(enterprise=world.enterprise)
    assert response.status_code == 302 and response.url == reverse(
        "applications:detail", args=[application.pk]
    )
    assert application.requested_amount == Decimal("8000000.00")  # 800 万元 in yuan

    detail = client_a.get(response.url)
    assert 'id="submit-form"' in detail.content.decode()
    # no material attached: refused with the reason, nothing changes (issue 14, step 3)
    refused = client_a.post(response.url, {"action": "submit", "version": application.version})
    assert refused.status_code == 400
    assert "请先上传申报材料（PDF、JPEG 或 PNG，至少一份），再提交申报。" in refused.content.decode()
    assert fresh(application).state == State.DRAFT
    upload = SimpleUploadedFile("租赁合同.pdf", PDF, content_type="application/pdf")
    uploaded = client_a.post(response.url, {"action": "attach", "file": upload, "description": "租赁合同"})
    assert uploaded.status_code == 302
    application = fresh(application)
    response = client_a.post(response.url, {"action": "submit", "version": application.version})
    assert response.status_code == 302
    assert fresh(application).state == State.SUBMITTED

    listing = client_a.get(reverse("applications:index")).content.decode()
    assert application.reference in listing and "已提交" in listing
    # a second visit to the apply page leads to the open application instead of a new form
    again = client_a.get(reverse("applications:apply", args=[world.benefit.pk]))
    assert again.status_code == 302 and again.url.endswith(f"/applications/{application.pk}/")


def test_a_double_post_of_the_apply_form_is_refused_clearly(world, client_a):
    url = reverse("applications:apply", args=[world.benefit.pk])
    assert client_a.post(url, {"requested_amount": "100"}).status_code == 302
    response = client_a.post(url, {"requested_amount": "100"})
    assert response.status_code == 409
    assert "请勿重复申报" in response.content.decode()
    assert Application.objects.filter(enterprise=world.enterprise).count() == 1


def test_a_requested_amount_above_the_cap_is_shown_next_to_the_field(world, client_a):
    response = client_a.post(
        reverse("applications:apply", args=[world.benefit.pk]), {"requested_amount": "1200"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="application_requested_amount_errors"' in html
    assert "金额 1200 万元 超过该项目的上限 1000 万元" in html
    assert not Application.objects.exists()


def test_answering_a_return_and_withdrawing(world, client_a):
    returned = bring_to(world, State.RETURNED)
    url = reverse("applications:detail", args=[returned.pk])
    html = client_a.get(url).content.decode()
    assert "请补充租赁合同。" in html and 'id="resubmit-form"' in html

    empty = client_a.post(url, {"action": "resubmit", "version": returned.version, "answer": ""})
    assert empty.status_code == 400
    assert 'id="resubmit_answer_errors"' in empty.content.decode()

    assert (
        client_a.post(
            url, {"action": "resubmit", "version": returned.version, "answer": "已补充合同"}
        ).status_code
        == 302
    )
    resubmitted = fresh(returned)
    assert (resubmitted.state, resubmitted.resubmission_note) == (State.RESUBMITTED, "已补充合同")

    assert (
        client_a.post(
            url, {"action": "withdraw", "version": resubmitted.version, "reason": "项目取消"}
        ).status_code
        == 302
    )
    assert fresh(returned).state == State.WITHDRAWN
    trail = client_a.get(url).content.decode()
    assert "撤回申报" in trail and "项目取消" in trail


def test_a_stale_form_is_refused_with_a_conflict(world, client_a):
    application = draft(world)
    url = reverse("applications:detail", args=[application.pk])
    edit = {
        "action": "edit",
        "version": application.version,
        "requested_amount": "10",
        "project_summary": "a",
    }
    assert client_a.post(url, edit).status_code == 302
    response = client_a.post(url, edit | {"project_summary": "b"})  # the same old version again
    assert response.status_code == 409
    assert 'id="conflict"' in response.content.decode() and "已被他人修改" in response.content.decode()
    assert fresh(application).project_summary == "a"
    # the form is rebuilt from the current version, so the next save is not refused again
    assert response.context["edit_form"].initial["version"] == fresh(application).version


def test_dashboard_shows_the_best_non_conflicting_total_and_deadlines(world, client_a):
    import datetime as dt

    from django.utils import timezone

    document = world.benefit.clause.document
    document.effective_to = timezone.localdate() + dt.timedelta(days=30)
    document.save()
    world.benefit.stacking_group = "lease"
    world.benefit.save()  # 1000 万元 (up to the cap)
    lease_benefit(
        document=document, stacking_group="lease", cap=Decimal("2000000")
    )  # 200 万元: same group, loses
    lease_benefit(cap=None, amount=Decimal("300000"))  # 30 万元, another group
    lease_benefit(
        clause=ClauseFactory(),
        condition={
            "all": [{"fact": "new_factory_lease_area_m2", "op": "gte", "value": 9000, "quote": "九千"}]
        },
        cap=Decimal("5000000"),
    )  # not eligible
    response = client_a.get(reverse("applications:dashboard"))
    # 30 万元 fixed is money; the 1000 万元 ceiling is listed apart (the 200 万元 tier is not added)
    assert response.context["board"].stack.total == Decimal("300000")
    assert response.context["board"].stack.ceiling_total == Decimal("10000000")

    application = bring_to(world, State.APPROVED)
    response = client_a.get(reverse("applications:dashboard"))
    assert response.status_code == 200
    board = response.context["board"]
    # granted (one-time): neither it nor its group's other tier is still to claim (issue 14, step 5)
    assert board.stack.total == Decimal("300000") and board.stack.ceiling_total == 0
    assert len(board.rows) == 3 and len(board.not_eligible) == 1
    assert board.approved_total == Decimal("3000000")
    html = response.content.decode()
    assert 'id="best-total">30 万元<' in html
    assert 'id="ceiling-total">1000 万元<' not in html  # the approved ceiling is not still to claim
    assert "即将到期" in html and "与同组项目不叠加" in html and "已获批，不计入合计" in html
    # the policy's end is its validity, never shown as the application deadline (issue 14)
    assert "暂无申报通知" in html and "政策有效期至" in html
    assert f'href="/applications/{application.pk}/"' in html
    assert f'id="apply-{world.benefit.pk}"' not in html  # no live 申报 button beside 已批准
    assert world.other_enterprise.name not in html
    # the apply URL refuses too: to the approved application, with the reason
    again = client_a.get(reverse("applications:apply", args=[world.benefit.pk]), follow=True)
    assert again.redirect_chain[-1][0] == f"/applications/{application.pk}/"
    assert "已获批准，不能重复申报" in again.content.decode()
    refused = client_a.post(reverse("applications:apply", args=[world.benefit.pk]), {"requested_amount": "5"})
    assert refused.status_code == 302 and Application.objects.filter(enterprise=world.enterprise).count() == 1


def test_dashboard_rows_explain_themselves_and_link_to_the_benefit(world, client_a):
    html = client_a.get(reverse("applications:dashboard")).content.decode()
    row = html.split(f'id="benefit-{world.benefit.pk}"')[1].split("</tr>")[0]
    document = world.benefit.clause.document
    assert f'href="/policies/{document.key}/#benefit-{world.benefit.pk}"' in row
    assert (
        "判断依据" in row and "✓ 新租赁自用工业厂房面积 ≥ 5000 平方米" in row and "贵企业：6000 平方米" in row
    )
    assert 'class="badge ok"' in row  # 符合: green here and in the calculator
    assert 'id="score-help"' in html and "匹配度（0–100）" in html
    page = client_a.get(f"/policies/{document.key}/").content.decode()
    assert f'id="benefit-{world.benefit.pk}"' in page


def test_a_user_without_an_enterprise_gets_404(world, client):
    from enterprises.tests.factories import UserFactory

    client.force_login(UserFactory())
    for url in (
        reverse("applications:index"),
        reverse("applications:dashboard"),
        reverse("applications:apply", args=[world.benefit.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_pages_need_a_login(world, client):
    response = client.get(reverse("applications:dashboard"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


@pytest.mark.parametrize("phone", ["abc", "123", "021-1", "1380000000a"])
def test_a_phone_that_is_no_number_is_refused_and_the_form_kept(world, client_a, phone):
    response = client_a.post(
        reverse("applications:apply", args=[world.benefit.pk]),
        {
            "requested_amount": "800",
            "project_summary": "新租厂房",
            "contact_name": "张三",
            "contact_phone": phone,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "联系电话格式不正确" in html and "新租厂房" in html  # nothing typed is lost
    assert not Application.objects.filter(enterprise=world.enterprise).exists()


def test_one_colour_per_status_on_the_dashboard_and_in_the_calculator():
    from applications.templatetags.applications_tags import verdict_badge
    from matching.engine import Status
    from portal.selfcheck.questions import BADGES

    for status in (Status.ELIGIBLE, Status.PENDING_RECOGNITION, Status.NEEDS_INFO, Status.NOT_ELIGIBLE):
        assert verdict_badge(status.slug) == BADGES[status][1]
    assert verdict_badge("pending_recognition") == "warn"  # 待认定 is orange everywhere, not green
