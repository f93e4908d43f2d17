"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

from remag.celery import load_tasks
from remag.gc_tuning import configure_gc

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remag.settings")

application = get_asgi_application()
load_tasks()
configure_gc()  # after everything start-up loads, which it freezes
