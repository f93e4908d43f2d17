"""The demo call for collaboration (`make run`): valid through the API's own validation,
opened and matched by the demo command, once."""

from typing import Any

import pytest
from django.core.management import call_command

from matching.collaboration.api.serializers import CallSerializer
from matching.collaboration.demo import DEMO_CALL
from matching.collaboration.models import CallMatch, CallRun, CollaborationCall
from remag.accounts.caller import ANONYMOUS
from tests.collaboration.conftest import run_pending


@pytest.mark.django_db
def test_the_demo_command_opens_and_matches_one_call(capsys: Any) -> None:
    call_command("load_taxonomy")
    call_command("seed_demo", "--suppliers", "120", "--seed", "3", "--with-accounts")
    assert CallSerializer(data=DEMO_CALL, context={"caller": ANONYMOUS}).is_valid()

    call_command("seed_demo_calls")
    call_command("seed_demo_calls")  # nothing twice

    call = CollaborationCall.objects.get()
    assert call.status == "open"
    assert call.owner.name.startswith("Demo ")
    assert CallRun.objects.get(call=call).status == "queued"  # sent on commit
    run = run_pending(str(call.id))  # here (the worker's part is test_worker.py's)
    assert run.status == "succeeded", run.error
    assert CallMatch.objects.filter(call=call).count() == run.matched_count > 0
    assert "1 demo call(s) for collaboration opened" in capsys.readouterr().out
