from django.urls import path

from applications import views, views_grants, views_staff

app_name = "applications"
urlpatterns = [
    # enterprise pages: the user's own enterprise only (404 for anything else)
    path("", views.index, name="index"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("apply/<int:benefit_id>/", views.apply, name="apply"),
    path("<int:pk>/", views.detail, name="detail"),
    path("confirmations/", views_grants.confirmations, name="confirmations"),
    path("confirmations/<int:pk>/", views_grants.confirmation, name="confirmation"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment_file, name="attachment"),
    # staff pages: applications.review_application (403 without it)
    path("review/", views_staff.review_queue, name="review_queue"),
    path("review/<int:pk>/", views_staff.review_detail, name="review_detail"),
    path("review/<int:pk>/assign/", views_staff.assign_from_queue, name="assign"),
    path("review/auto-grant/", views_staff.auto_grant, name="auto_grant"),
    path("review/reports/", views_staff.reports, name="reports"),
    path("review/auto-grant/confirm/", views_grants.send_confirmations, name="send_confirmations"),
    path("review/<int:pk>/payouts/", views_grants.payouts, name="payouts"),
    path("review/payouts/", views_grants.payout_report, name="payout_report"),
]
