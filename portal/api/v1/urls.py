from django.urls import path
from rest_framework.routers import SimpleRouter

from portal.api.v1 import (
    applications,
    calls,
    enterprises,
    grants,
    items,
    policies,
    selfcheck,
    webhooks,
)
from portal.api.v1.matches import views as matches

router = SimpleRouter()
router.register("documents", policies.DocumentViewSet, basename="document")
router.register("clauses", policies.ClauseViewSet, basename="clause")
router.register("benefits", policies.BenefitViewSet, basename="benefit")
router.register("facts", policies.FactViewSet, basename="fact")
router.register("enterprises", enterprises.EnterpriseViewSet, basename="enterprise")
router.register("items", items.ItemViewSet, basename="item")
router.register("matches", matches.MatchResultViewSet, basename="match")
router.register("changes", matches.ChangeViewSet, basename="change")
router.register("applications", applications.ApplicationViewSet, basename="application")
router.register("calls", calls.CallViewSet, basename="call")
router.register("confirmations", grants.ConfirmationViewSet, basename="confirmation")
router.register("webhooks", webhooks.WebhookSubscriptionViewSet, basename="webhook")

app_name = "v1"
urlpatterns = [
    path("self-check/", selfcheck.SelfCheckView.as_view(), name="self-check"),
    *router.urls,
]
