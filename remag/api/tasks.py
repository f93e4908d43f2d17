from celery import shared_task


@shared_task(name="remag.api.tasks.idempotency_keys_purge")
def idempotency_keys_purge() -> int:
    from remag.api.idempotency import idempotency_keys_purge as purge

    return purge()
