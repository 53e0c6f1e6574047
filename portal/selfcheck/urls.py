from django.urls import path

from portal.selfcheck import views

app_name = "selfcheck"
urlpatterns = [
    path("", views.start, name="start"),
    path("step/<slug:slug>/", views.step, name="step"),
    path("results/", views.results, name="results"),
    path("reset/", views.reset, name="reset"),
    path("register/", views.register, name="register"),
]
