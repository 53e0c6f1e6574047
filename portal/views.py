from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from enterprises.models import Enterprise
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
