"""Who may see and do what: another company's user gets 404, enterprises cannot review, staff need
the review permission."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications import services
from applications.models import State
from applications.tests.support import bring_to, draft, fresh, permission
from enterprises.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 test"


def enterprise_urls(application, attachment_id):
    return [
        reverse("applications:detail", args=[application.pk]),
        reverse("applications:attachment", args=[application.pk, attachment_id]),
    ]


def test_another_companys_user_gets_404_on_every_enterprise_scoped_page(world, client):
    application = draft(world)
    attachment = services.add_attachment(
        actor=world.user, application_id=application.pk, upload=SimpleUploadedFile("a.pdf", PDF)
    )
    client.force_login(world.other_user)
    for url in enterprise_urls(application, attachment.pk):
        assert client.get(url).status_code == 404, url
    version = fresh(application).version
    url = reverse("applications:detail", args=[application.pk])
    for data in (
        {"action": "edit", "version": version, "project_summary": "hijack"},
        {"action": "submit", "version": version},
        {"action": "withdraw", "version": version},
        {"action": "resubmit", "version": version, "answer": "x"},
        {"action": "attach", "file": SimpleUploadedFile("b.pdf", PDF)},
        {"action": "detach", "attachment": attachment.pk},
    ):
        assert client.post(url, data).status_code == 404, data["action"]
    unchanged = fresh(application)
    assert (unchanged.state, unchanged.version, unchanged.project_summary) == (State.DRAFT, version, "")
    assert unchanged.attachments.count() == 1
    # their own pages show nothing of company A
    assert application.reference not in client.get(reverse("applications:index")).content.decode()


def test_another_companys_user_cannot_act_through_the_services_either(world):
    application = draft(world)
    for call in (
        lambda: services.submit(actor=world.other_user, application_id=application.pk, expected_version=1),
        lambda: services.withdraw(actor=world.other_user, application_id=application.pk, expected_version=1),
        lambda: services.create_draft(
            actor=world.other_user, enterprise_id=world.enterprise.pk, benefit_id=world.benefit.pk
        ),
    ):
        with pytest.raises(PermissionDenied, match="只能操作本企业的申报"):
            call()
    assert fresh(application).state == State.DRAFT


def staff_urls(application):
    return [
        reverse("applications:review_queue"),
        reverse("applications:review_detail", args=[application.pk]),
        reverse("applications:auto_grant"),
        reverse("applications:reports"),
    ]


def test_enterprise_users_cannot_review(world, client):
    application = bring_to(world, State.UNDER_REVIEW)
    client.force_login(world.user)
    for url in staff_urls(application):
        assert client.get(url).status_code == 403, url
    response = client.post(
        reverse("applications:review_detail", args=[application.pk]),
        {"action": "approve", "version": application.version, "amount": "10"},
    )
    assert response.status_code == 403
    assert (
        client.post(reverse("applications:assign", args=[application.pk]), {"version": 1}).status_code == 403
    )
    with pytest.raises(PermissionDenied, match="没有审核申报的权限"):
        services.approve(
            actor=world.user, application_id=application.pk, expected_version=application.version, amount=None
        )
    assert fresh(application).state == State.UNDER_REVIEW


def test_staff_without_the_review_permission_are_refused(world, client):
    application = bring_to(world, State.SUBMITTED)
    clerk = world.staff_without_permission
    client.force_login(clerk)
    for url in staff_urls(application):
        assert client.get(url).status_code == 403, url
    with pytest.raises(PermissionDenied):
        services.start_review(
            actor=clerk, application_id=application.pk, expected_version=application.version
        )
    with pytest.raises(PermissionDenied, match="分派"):
        services.assign_reviewer(
            actor=clerk, application_id=application.pk, expected_version=application.version, reviewer_id=None
        )

    clerk.user_permissions.add(permission("review_application"))
    clerk = type(clerk).objects.get(pk=clerk.pk)  # drop the permission cache
    started = services.start_review(
        actor=clerk, application_id=application.pk, expected_version=application.version
    )
    assert started.state == State.UNDER_REVIEW
    with pytest.raises(PermissionDenied, match="分派"):  # reviewing is not assigning
        services.assign_reviewer(
            actor=clerk, application_id=application.pk, expected_version=started.version, reviewer_id=None
        )


def test_reviewers_cannot_act_for_the_enterprise(world):
    with pytest.raises(PermissionDenied):
        services.create_draft(
            actor=world.reviewer, enterprise_id=world.enterprise.pk, benefit_id=world.benefit.pk
        )
    returned = bring_to(world, State.RETURNED)
    with pytest.raises(PermissionDenied):
        services.resubmit(
            actor=world.reviewer,
            application_id=returned.pk,
            expected_version=returned.version,
            answer="代企业补充",
        )


def test_staff_never_see_drafts(world, client):
    application = draft(world)
    client.force_login(world.reviewer)
    assert client.get(reverse("applications:review_detail", args=[application.pk])).status_code == 404


def test_a_staff_user_visiting_the_enterprise_list_is_sent_to_the_queue(world, client):
    client.force_login(world.reviewer)
    response = client.get(reverse("applications:index"))
    assert response.status_code == 302 and response.url == reverse("applications:review_queue")
    client.force_login(UserFactory())
    assert client.get(reverse("applications:index")).status_code == 404
