from django.urls import path

from applications import views, views_staff

app_name = "applications"
urlpatterns = [
    # enterprise pages: the user's own enterprise only (404 for anything else)
    path("", views.index, name="index"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("apply/<int:benefit_id>/", views.apply, name="apply"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment_file, name="attachment"),
    # staff pages: applications.review_application (403 without it)
    path("review/", views_staff.review_queue, name="review_queue"),
    path("review/<int:pk>/", views_staff.review_detail, name="review_detail"),
    path("review/<int:pk>/assign/", views_staff.assign_from_queue, name="assign"),
    path("review/auto-grant/", views_staff.auto_grant, name="auto_grant"),
    path("review/reports/", views_staff.reports, name="reports"),
]
