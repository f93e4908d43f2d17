"""WSGI entry point (gunicorn remag.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from remag.celery import load_tasks
from remag.gc_tuning import configure_gc

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remag.settings")

application = get_wsgi_application()
load_tasks()
configure_gc()  # after everything start-up loads, which it freezes
