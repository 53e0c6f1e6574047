from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from portal.health import health


def home(request):
    return render(request, "home.html")


@never_cache
def healthz(request):
    report, healthy = health()
    return JsonResponse(report, status=200 if healthy else 503, json_dumps_params={"ensure_ascii": False})
