"""Pages of 免申即享 confirmation and payouts: staff select and send, the enterprise answers, staff
record payout stages, the enterprise sees the timeline, the payout report and its CSV."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from applications.models import Application, Confirmation, PayoutStage, State
from applications.tests.support import bring_to, lessee
from enterprises.tests.factories import MembershipFactory
from policies.models import Benefit

pytestmark = pytest.mark.django_db
TWO_HALVES = {
    "schedule": {
        "stages": [{"share": "0.5", "after": "签订协议后"}, {"share": "0.5", "after": "验收通过后"}],
        "quote": "分两次各50%拨付",
    }
}


@pytest.fixture
def registered(world):
    enterprise = lessee(name="上海登记甲有限公司", source="register")
    return enterprise, MembershipFactory(enterprise=enterprise, user__username="gamma").user


def send(client, world, *ids):
    return client.post(
        reverse("applications:send_confirmations"),
        {"benefit": world.benefit.pk, "as_of": "", "enterprise": [str(pk) for pk in ids]},
        follow=True,
    )


def test_staff_select_from_the_list_and_send(client, world, registered):
    enterprise, _user = registered
    client.force_login(world.reviewer)
    page = client.get(reverse("applications:auto_grant"), {"benefit": world.benefit.pk})
    html = page.content.decode()
    assert f'name="enterprise" value="{enterprise.pk}"' in html and "未发送" in html
    answer = send(client, world, enterprise.pk)
    assert "已向 1 家企业发送意愿确认" in answer.content.decode()
    assert Confirmation.objects.filter(enterprise=enterprise).count() == 1
    again = send(client, world, enterprise.pk).content.decode()
    assert "不再重复发送" in again and "待企业确认" in again
    assert f'name="enterprise" value="{enterprise.pk}"' not in again  # no checkbox once asked
    assert Confirmation.objects.filter(enterprise=enterprise).count() == 1


def test_sending_without_a_choice_says_so(client, world, registered):
    client.force_login(world.reviewer)
    assert "请至少选择一家企业" in send(client, world).content.decode()


def test_staff_without_the_permission_cannot_send(client, world, registered):
    client.force_login(world.staff_without_permission)
    assert send(client, world, registered[0].pk).status_code == 403
    assert not Confirmation.objects.exists()


def test_the_enterprise_confirms_on_its_page(client, world, registered):
    enterprise, user = registered
    client.force_login(world.reviewer)
    send(client, world, enterprise.pk)
    confirmation = Confirmation.objects.get()
    client.force_login(user)
    listing = client.get(reverse("applications:confirmations")).content.decode()
    assert world.benefit.name in listing and "1000 万元" in listing
    page = client.get(reverse("applications:confirmation", args=[confirmation.pk]))
    html = page.content.decode()
    assert "确认享受" in html and "数据比对结果" in html
    answer = client.post(
        reverse("applications:confirmation", args=[confirmation.pk]), {"action": "confirm", "version": "1"}
    )
    application = Application.objects.get(enterprise=enterprise)
    assert answer.status_code == 302 and answer["Location"] == f"/applications/{application.pk}/"
    assert application.state == State.UNDER_REVIEW
    twice = client.post(
        reverse("applications:confirmation", args=[confirmation.pk]), {"action": "confirm", "version": "1"}
    )
    assert twice.status_code == 409 and "无需重复操作" in twice.content.decode()
    assert Application.objects.filter(enterprise=enterprise).count() == 1
    # another enterprise's confirmation is a 404
    client.force_login(world.user)
    assert client.get(reverse("applications:confirmation", args=[confirmation.pk])).status_code == 404


def test_the_enterprise_declines(client, world, registered):
    enterprise, user = registered
    client.force_login(world.reviewer)
    send(client, world, enterprise.pk)
    confirmation = Confirmation.objects.get()
    client.force_login(user)
    answer = client.post(
        reverse("applications:confirmation", args=[confirmation.pk]),
        {"action": "decline", "version": "1", "reason": "暂不需要"},
        follow=True,
    )
    assert "已记录放弃享受" in answer.content.decode() and "不再就该项目发起确认" in answer.content.decode()
    confirmation.refresh_from_db()
    assert confirmation.state == Confirmation.State.DECLINED


@pytest.fixture
def approved(world):
    Benefit.objects.filter(pk=world.benefit.pk).update(amount_rule=TWO_HALVES)
    return bring_to(world, State.APPROVED)


def test_staff_record_stages_and_the_enterprise_sees_the_timeline(client, world, approved):
    first, second = approved.payout_stages.all()
    client.force_login(world.reviewer)
    url = reverse("applications:payouts", args=[approved.pk])
    page = client.get(url).content.decode()
    assert "第 1 期" in page and "150 万元" in page and "签订协议后" in page
    today = timezone.localdate().isoformat()
    done = client.post(
        url,
        {
            "stage": first.pk,
            "version": "1",
            "publicised_on": today,
            "payment_order": "ZF-1",
            "paid_on": today,
        },
    )
    assert done.status_code == 302
    stale = client.post(
        url,
        {
            "stage": first.pk,
            "version": "1",
            "publicised_on": today,
            "payment_order": "ZF-9",
            "paid_on": today,
        },
    )
    assert stale.status_code == 409 and "请勿重复登记" in stale.content.decode()
    refused = client.post(url, {"stage": second.pk, "version": "1", "paid_on": today})
    assert refused.status_code == 400 and "请先填写公示日期" in refused.content.decode()
    assert PayoutStage.objects.get(pk=first.pk).payment_order == "ZF-1"
    client.force_login(world.user)
    detail = client.get(reverse("applications:detail", args=[approved.pk])).content.decode()
    assert 'id="payout-timeline"' in detail and f"已到账（{today}）" in detail and "待拨付" in detail


def test_recording_needs_the_payout_permission(client, world, approved):
    stage = approved.payout_stages.first()
    client.force_login(world.staff_without_permission)
    url = reverse("applications:payouts", args=[approved.pk])
    assert client.post(url, {"stage": stage.pk, "version": "1"}).status_code == 403


def test_the_payout_report_and_its_csv(client, world, approved):
    first = approved.payout_stages.first()
    first.paid_on = first.publicised_on = timezone.localdate()
    first.payment_order = "=HYPERLINK(1)"
    first.save()
    client.force_login(world.reviewer)
    page = client.get(reverse("applications:payout_report")).content.decode()
    assert "按政策文件" in page and "按扶持项目" in page and "按月份" in page and "300 万元" in page
    exported = client.get(reverse("applications:payout_report"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["分组方式", "分组", "批准金额（万元）", "已到账（万元）", "待拨付（万元）"]
    benefit_row = next(row for row in rows if row[1] == world.benefit.name)
    assert [Decimal(value) for value in benefit_row[2:]] == [Decimal(300), Decimal(150), Decimal(150)]
    client.force_login(world.staff_without_permission)
    assert client.get(reverse("applications:payout_report")).status_code == 403
