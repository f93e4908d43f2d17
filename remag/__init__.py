"""remag: the registry and matchmaker between Indian SMEs and rare-earth magnet plants."""

from remag.celery import app as celery_app

__all__ = ("celery_app",)
