from django.contrib import admin
from django.urls import include, path

from portal import views
from portal.auth import ThrottledLoginView

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),  # before the include: throttled
    path("accounts/landing/", views.landing, name="landing"),  # LOGIN_REDIRECT_URL: by role
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("policies/", include("policies.urls")),
    path("enterprises/", include("enterprises.urls")),
    path("matches/", include("matching.urls")),
    path("applications/", include("applications.urls")),
    path("self-check/", include("portal.selfcheck_urls")),
    path("api/", include("portal.api_urls")),
]
