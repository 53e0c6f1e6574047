import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

from portal.api.v1.matches.edge import EdgeCache  # noqa: E402 - needs the settings configured above

application = EdgeCache(application)
