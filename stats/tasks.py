from celery import shared_task

from stats import services


@shared_task(name="stats.refresh", acks_late=False, ignore_result=True)
def stats_refresh() -> None:
    """Recompute the dashboard's tables (beat, every STATS_REFRESH_SECONDS). Idempotent:
    two overlapping runs each rewrite the tables whole, the later commit wins."""
    services.stats_refresh()
