"""Over a hundred bad inputs across the API, the events and the keys: coded 4xx naming the field, no 5xx,
no traceback, every upload OSS accepts gets a job, no job left unfinished (catalogue in bad_inputs.py)."""

from __future__ import annotations

from tests.unit.functions.bad_inputs import run_catalogue


def test_every_bad_input_is_refused_clearly_and_every_legal_upload_runs() -> None:
    tally = run_catalogue()
    assert tally.bad_inputs >= 100
    assert tally.server_errors == []
    assert tally.uncoded == []
    assert tally.coded_4xx == tally.requests and tally.named_field == tally.requests
    assert tally.events_raised == [] and tally.events_refused == tally.events
    assert tally.uploads_with_job == tally.uploads
    assert tally.stuck_jobs == 0
    assert tally.tracebacks == 0
