"""WSGI entry point for gunicorn (`refunddesk serve`, `refunddesk demo`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refunddesk.settings")
application = get_wsgi_application()
