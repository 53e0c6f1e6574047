from django.contrib import admin
from django.urls import include, path

from portal import views
from portal.auth import PortalLoginView, ThrottledPasswordResetView

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("livez", views.livez, name="livez"),
    path("readyz", views.readyz, name="readyz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", PortalLoginView.as_view(), name="login"),  # django-axes counts failures
    path("accounts/password_reset/", ThrottledPasswordResetView.as_view(), name="password_reset"),
    path("accounts/landing/", views.landing, name="landing"),  # LOGIN_REDIRECT_URL: by role
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("policies/", include("policies.urls")),
    path("enterprises/", include("enterprises.urls")),
    path("matches/", include("matching.urls")),
    path("applications/", include("applications.urls")),
    path("self-check/", include("portal.selfcheck.urls")),
    path("api/", include("portal.api_urls")),
]
