"""WSGI entry point (gunicorn remag.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from remag.gc_tuning import configure_gc

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remag.settings")

application = get_wsgi_application()
configure_gc()
