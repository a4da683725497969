"""WSGI entry point (gunicorn `crossline.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crossline.settings")
application = get_wsgi_application()
