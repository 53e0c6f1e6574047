from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from enterprises.models import Enterprise
from policies.models import Benefit, Clause, PolicyDocument
from portal.health import health


def home(request):
    figures = {
        "documents": PolicyDocument.objects.count(),
        "clauses": Clause.objects.count(),
        "benefits": Benefit.objects.count(),
        "enterprises": Enterprise.objects.count(),
    }
    return render(request, "home.html", {"figures": figures})


@never_cache
def healthz(request):
    report, healthy = health()
    return JsonResponse(report, status=200 if healthy else 503, json_dumps_params={"ensure_ascii": False})
