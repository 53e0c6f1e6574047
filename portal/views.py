from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe

from enterprises.models import Enterprise
from enterprises.selectors import enterprise_for_user
from policies.models import Benefit, Clause, PolicyDocument
from portal.health import health, readiness


def home(request):
    figures = {
        "documents": PolicyDocument.objects.count(),
        "clauses": Clause.objects.count(),
        "benefits": Benefit.objects.count(),
        "enterprises": Enterprise.objects.count(),
    }
    return render(request, "home.html", {"figures": figures})


@login_required
def landing(request):
    """Where a login lands: the enterprise's dashboard, the reviewers' queue, the admin for other staff."""
    user = request.user
    if enterprise_for_user(user) is not None:
        return redirect("applications:dashboard")
    if user.has_perm("applications.review_application"):
        return redirect("applications:review_queue")
    if user.is_staff:
        return redirect("admin:index")
    return redirect("home")


@cache_control(max_age=86400, public=True)
@require_safe
def favicon(request):
    """/favicon.ico, which browsers ask for whatever the page says (static/favicon.ico)."""
    return FileResponse(
        (settings.BASE_DIR / "static" / "favicon.ico").open("rb"), content_type="image/x-icon"
    )


@never_cache
@never_cache
@require_safe
def livez(request):
    """Liveness: the process answers. Touches nothing else, so a down database or worker never gets
    a healthy web container restarted."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    """Readiness: this process can serve requests, i.e. the database and the broker answer (workers are
    not needed to serve pages; /healthz reports them)."""
    report = readiness()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


def healthz(request):
    report, healthy = health()
    return JsonResponse(report, status=200 if healthy else 503, json_dumps_params={"ensure_ascii": False})
