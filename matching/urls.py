from django.urls import path

from matching import views

app_name = "matching"
urlpatterns = [
    path("jobs/", views.job_list, name="jobs"),
    path("notifications/", views.notification_list, name="notifications"),
    path("benefits/<int:pk>/preview/", views.benefit_preview, name="benefit_preview"),
]
