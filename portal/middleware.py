import logging
import time

logger = logging.getLogger("portal.requests")


class RequestLogMiddleware:
    """One log line per request: method, path (no query string: it may carry tokens), status, time."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed_ms)
        return response
