"""Inbox reconciliation: an upload whose event never arrived gets its job from the timer, once, in bounded
slices with a watermark; an upload whose event did arrive is never started twice."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from shared.errors import ServiceError
from shared.events.oss import OssEvent, OssRecord
from shared.jobs.model import JobState, JobView
from shared.pipeline import reconcile_mark
from shared.pipeline.handlers import handle_timer_event
from shared.pipeline.reconcile import InboxReconciler
from tests.unit.functions.helpers import BUCKET, oss_event
from tests.unit.pipeline.fakes import World, make_world, notification_for


def _reconciler(world: World) -> InboxReconciler:
    """A reconciler that starts a pass on every run: these tests call it tick after tick within a second,
    and the rest between passes has tests of its own below."""
    return InboxReconciler(world.orchestrator, pass_interval=timedelta(0))


def _upload(world: World, key: str, *, deliver: bool) -> str:
    etag = world.oss.add(BUCKET, key, b"RIFF-audio-" + key.encode())
    if deliver:
        (record,) = OssEvent.from_bytes(oss_event((key, etag, 10))).events
        world.orchestrator.handle_upload(record)
    return etag


def test_lost_events_are_started_by_the_timer_and_delivered_ones_are_not_duplicated() -> None:
    world = make_world()
    delivered = [f"inbox/ok-{n}.wav" for n in range(3)]
    lost = ["inbox/lost-1.wav", "inbox/会议\u3000记录.wav", "inbox/100%+plus.wav"]
    for key in delivered:
        _upload(world, key, deliver=True)
    for key in lost:
        _upload(world, key, deliver=False)
    answer = handle_timer_event(b"{}", world.orchestrator)
    assert answer["reconcile"]["started"] == len(lost)
    jobs = world.store.list(limit=100).jobs
    assert sorted(job.input["key"] for job in jobs) == sorted(delivered + lost)
    again = handle_timer_event(b"{}", world.orchestrator)
    assert again["reconcile"]["started"] == 0
    assert len(world.store.list(limit=100).jobs) == len(delivered + lost)
    assert len(world.oss.submissions) == len(delivered + lost)


def test_each_tick_looks_at_a_bounded_slice_and_wraps_around() -> None:
    world = make_world()
    for n in range(5):
        _upload(world, f"inbox/{n}.wav", deliver=False)
    reconciler = _reconciler(world)
    reports = [reconciler.run(limit=2) for _ in range(3)]
    assert [r.listed for r in reports] == [2, 2, 1]
    assert [r.wrapped for r in reports] == [False, False, True]
    assert sum(r.started for r in reports) == 5
    watermark = world.backend.get("jobs/_reconcile/inbox.json")
    assert watermark is not None and json.loads(watermark)["after"] == ""
    assert all(job.state is JobState.RUNNING for job in world.store.list().jobs)


def test_a_young_upload_is_left_to_its_event() -> None:
    world = make_world()
    _upload(world, "inbox/young.wav", deliver=False)
    future = datetime(2100, 1, 1, tzinfo=timezone.utc)
    reconciler = _reconciler(world)
    # The fake lists no modification time; with one "just now" the object waits for its event.
    original = world.oss.iter_list_pages

    def listing_with_times(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        for page in original(*args, **kwargs):  # type: ignore[arg-type]
            objects = tuple(type(item)(item.key, item.size, item.etag, future) for item in page.objects)
            yield type(page)(objects, page.common_prefixes, page.next_token, page.is_truncated)

    world.oss.iter_list_pages = listing_with_times  # type: ignore[method-assign]
    assert reconciler.run().started == 0
    assert world.store.list().jobs == []


def test_an_upload_that_has_its_job_costs_one_read(monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world()
    for n in range(20):
        _upload(world, f"inbox/{n}.wav", deliver=True)
    reads: list[str] = []
    original = world.backend.get

    def counting_get(key: str) -> bytes | None:
        reads.append(key)
        return original(key)

    monkeypatch.setattr(world.backend, "get", counting_get)
    monkeypatch.setattr(world.backend, "list", lambda *a, **k: pytest.fail("no job is listed"))
    report = _reconciler(world).run(limit=100)
    assert (report.listed, report.started) == (20, 0)
    job_reads = [key for key in reads if key != "jobs/_reconcile/inbox.json"]
    assert len(job_reads) == 40  # each upload's claim and its snapshot
    assert sum(key.startswith("jobs/_claims/") for key in job_reads) == 20
    assert sum(key.endswith("/state.json") for key in job_reads) == 20


def test_a_job_whose_creator_stopped_after_its_claim_is_completed(monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world()
    _upload(world, "inbox/half.wav", deliver=False)
    original = world.backend.put

    def failing_marker(key: str, data: bytes) -> None:
        if "/_active/" in key:
            raise OSError("the creator stopped here")
        original(key, data)

    monkeypatch.setattr(world.backend, "put", failing_marker)
    # The claim is written, the rest is not; counted as failed, and the next pass checks it again.
    assert _reconciler(world).run(limit=100).failed == 1
    monkeypatch.setattr(world.backend, "put", original)
    assert list(world.store.active_jobs()) == []
    report = _reconciler(world).run(limit=100)
    assert report.started == 1
    (job,) = world.store.list().jobs
    assert list(world.store.active_jobs()) == [job.id] and job.state is JobState.RUNNING


T0 = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)


def _counting_reads(world: World, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    original = world.backend.get

    def counting_get(key: str) -> bytes | None:
        if key != "jobs/_reconcile/inbox.json":
            reads.append(key)
        return original(key)

    monkeypatch.setattr(world.backend, "get", counting_get)
    return reads


def test_an_object_settled_by_a_complete_pass_is_not_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world()
    for n in range(20):
        _upload(world, f"inbox/{n}.wav", deliver=True)
        world.oss.modified[(BUCKET, f"inbox/{n}.wav")] = T0
    reads = _counting_reads(world, monkeypatch)
    reconciler = _reconciler(world)
    first = reconciler.run(limit=8, now=T0 + timedelta(minutes=10))  # a pass over three ticks
    second = reconciler.run(limit=8, now=T0 + timedelta(minutes=11))
    third = reconciler.run(limit=8, now=T0 + timedelta(minutes=12))
    assert [r.wrapped for r in (first, second, third)] == [False, False, True]
    assert len(reads) == 40 and sum(r.settled for r in (first, second, third)) == 0
    reads.clear()
    # The next pass lists the same objects and reads none of their jobs: the first pass settled them.
    passes = [reconciler.run(limit=8, now=T0 + timedelta(minutes=13 + n)) for n in range(3)]
    assert reads == [] and [r.settled for r in passes] == [8, 8, 4]
    # A lost upload after that pass began is checked, and started, by the one after.
    _upload(world, "inbox/lost.wav", deliver=False)
    world.oss.modified[(BUCKET, "inbox/lost.wav")] = T0 + timedelta(minutes=11)
    later = [reconciler.run(limit=100, now=T0 + timedelta(minutes=20 + n)) for n in range(2)]
    assert [(r.listed, r.settled, r.started) for r in later] == [(21, 20, 1), (21, 21, 0)]


def test_an_upload_whose_start_failed_is_checked_again_while_the_others_stay_settled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = make_world()
    _upload(world, "inbox/kept.wav", deliver=True)
    _upload(world, "inbox/lost.wav", deliver=False)
    for key in ("inbox/kept.wav", "inbox/lost.wav"):
        world.oss.modified[(BUCKET, key)] = T0
    original = world.orchestrator.handle_upload
    failure = ServiceError("throttled", service="oss", code="Throttling", status=503)
    monkeypatch.setattr(world.orchestrator, "handle_upload", lambda record: (_ for _ in ()).throw(failure))
    reconciler = _reconciler(world)
    failed = reconciler.run(now=T0 + timedelta(hours=1))
    assert (failed.failed, failed.started, failed.wrapped) == (1, 0, True)
    monkeypatch.setattr(world.orchestrator, "handle_upload", original)
    again = reconciler.run(now=T0 + timedelta(hours=1, minutes=1))
    assert (again.settled, again.started) == (1, 1)
    assert reconciler.run(now=T0 + timedelta(hours=1, minutes=2)).settled == 2


def _lost_upload(world: World, key: str, modified: datetime) -> None:
    _upload(world, key, deliver=False)
    world.oss.modified[(BUCKET, key)] = modified


def test_an_upload_listed_after_a_pass_that_began_later_by_its_clock_is_still_started() -> None:
    """The function's clock and OSS's disagree (here by 5 minutes), or an upload shows in listings later
    than its LastModified (a slow one): the pass that went by before it appeared settles nothing for it."""
    world = make_world()
    _lost_upload(world, "inbox/a.wav", T0 - timedelta(hours=2))
    reconciler = _reconciler(world)
    assert reconciler.run(now=T0 + timedelta(minutes=5)).wrapped  # by the function's clock
    _lost_upload(world, "inbox/m.wav", T0 - timedelta(minutes=3))  # by OSS's, and listed only now
    reports = [reconciler.run(now=T0 + timedelta(minutes=10 * n)) for n in range(1, 4)]
    assert sum(report.started for report in reports) == 1


def test_another_inbox_starts_afresh_instead_of_inheriting_what_was_settled() -> None:
    world = make_world()
    _lost_upload(world, "inbox/a.wav", T0)
    assert _reconciler(world).run(now=T0 + timedelta(hours=2)).wrapped
    _lost_upload(world, "uploads/lost.wav", T0 + timedelta(minutes=30))
    world.orchestrator.settings = world.orchestrator.settings.model_copy(update={"inbox_prefix": "uploads/"})
    assert _reconciler(world).run(now=T0 + timedelta(hours=3)).started == 1


def test_a_re_upload_under_a_settled_key_is_checked_and_once_a_day_everything_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = make_world()
    for n in range(3):
        _lost_upload(world, f"inbox/{n}.wav", T0)
    reconciler = _reconciler(world)
    assert reconciler.run(now=T0 + timedelta(minutes=10)).started == 3
    _lost_upload(world, "inbox/1.wav", T0 + timedelta(minutes=1))  # new content, new ETag
    world.oss.objects[(BUCKET, "inbox/1.wav")] = b"other take"
    report = reconciler.run(now=T0 + timedelta(minutes=11))
    assert (report.settled, report.started) == (2, 1)
    reads = _counting_reads(world, monkeypatch)
    assert reconciler.run(now=T0 + timedelta(hours=12)).settled == 3 and reads == []
    full = reconciler.run(now=T0 + timedelta(hours=24, minutes=10))  # a day after the first full pass
    assert (full.settled, full.started, len(reads)) == (0, 0, 6)


def test_an_object_that_always_fails_is_retried_alone_without_the_others_being_read_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reconcile_mark, "RECENT_LIMIT", 5)  # the others cannot all be remembered by ETag
    world = make_world()
    _lost_upload(world, "inbox/0-broken.wav", T0)
    for n in range(20):
        _upload(world, f"inbox/{n:02}.wav", deliver=True)
        world.oss.modified[(BUCKET, f"inbox/{n:02}.wav")] = T0 + timedelta(hours=1)
    original = world.orchestrator.handle_upload
    denied = ServiceError("denied", service="oss", code="AccessDenied", status=403)

    def refusing_one(record: OssRecord) -> JobView | None:
        if record.key == "inbox/0-broken.wav":
            raise denied
        return original(record)

    monkeypatch.setattr(world.orchestrator, "handle_upload", refusing_one)
    reconciler = _reconciler(world)
    for hour in range(3, 6):
        assert reconciler.run(now=T0 + timedelta(hours=hour)).failed == 1
    reads = _counting_reads(world, monkeypatch)
    report = reconciler.run(now=T0 + timedelta(hours=7))
    assert (report.failed, report.settled, len(reads)) == (1, 20, 2)  # the broken one's claim and job.json


def test_a_key_rewritten_every_minute_does_not_stall_the_pass() -> None:
    world = make_world()
    _lost_upload(world, "inbox/b-lost.wav", T0)
    reconciler = _reconciler(world)
    started = 0
    for minute in range(60, 75):
        now = T0 + timedelta(minutes=minute)
        _lost_upload(world, "inbox/a-live.wav", now - timedelta(seconds=30))  # always young
        report = reconciler.run(now=now)
        started += report.started
        assert report.young == 1
    assert started == 1


def test_one_object_that_breaks_the_check_does_not_stop_the_keys_after_it() -> None:
    world = make_world()
    etag = _upload(world, "inbox/a.wav", deliver=False)
    world.oss.modified[(BUCKET, "inbox/a.wav")] = T0
    world.backend.put(world.store.layout.claim(f"upload:{BUCKET}/inbox/a.wav@{etag}"), b"{}")  # damaged
    _lost_upload(world, "inbox/b-lost.wav", T0)
    report = _reconciler(world).run(now=T0 + timedelta(hours=1))
    assert (report.failed, report.started, report.wrapped) == (1, 1, True)


def test_a_long_key_is_not_remembered_by_etag_but_still_settled_by_age(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = make_world()
    long_key = "inbox/" + "会" * 300 + ".wav"
    _lost_upload(world, long_key, T0)
    reconciler = _reconciler(world)
    assert reconciler.run(now=T0 + timedelta(minutes=5)).started == 1
    stored = world.backend.get("jobs/_reconcile/inbox.json")
    assert stored is not None and long_key not in json.loads(stored)["recent"]
    assert reconciler.run(now=T0 + timedelta(minutes=6)).settled == 0  # read again: not remembered
    reconciler.run(now=T0 + timedelta(minutes=40))  # a pass starting 15 minutes after the upload...
    assert (
        reconciler.run(now=T0 + timedelta(minutes=41)).settled == 1
    )  # ...makes it older than verified_before


def _failed_upload(world: World, key: str) -> str:
    """An upload whose event arrived and whose job failed (its conversion refused), at the store's time."""
    _upload(world, key, deliver=True)
    failed = notification_for(world.oss.submissions[-1], status="Failed", Code="InvalidParameter.Bad")
    view = world.orchestrator.handle_notification(failed)
    assert view is not None and view.state is JobState.FAILED
    return view.id


def test_the_same_content_uploaded_again_after_a_failure_is_retried_when_its_event_was_lost() -> None:
    world = make_world()
    job_id = _failed_upload(world, "inbox/talk.wav")
    failed_at = world.store.get(job_id).updated_at
    # Uploaded again (same bytes, same ETag, same job) after the failure; the event never came.
    world.oss.modified[(BUCKET, "inbox/talk.wav")] = failed_at + timedelta(minutes=5)
    world.clock.now = failed_at + timedelta(minutes=10)  # the store's clock: the retry happens now
    report = _reconciler(world).run(now=failed_at + timedelta(minutes=10))
    assert (report.retried, report.started) == (1, 0)
    assert world.store.get(job_id).state is JobState.RUNNING
    assert len(world.oss.submissions) == 2 and len(world.store.list().jobs) == 1
    # Settled: the next passes do not retry it again, even once the retried attempt fails too.
    world.orchestrator.handle_notification(
        notification_for(world.oss.submissions[-1], status="Failed", Code="InvalidParameter.Bad")
    )
    later = _reconciler(world).run(now=failed_at + timedelta(hours=25))  # a full pass
    assert later.retried == 0 and len(world.oss.submissions) == 2


def test_a_job_that_failed_after_its_upload_is_left_failed() -> None:
    world = make_world()
    job_id = _failed_upload(world, "inbox/talk.wav")
    failed_at = world.store.get(job_id).updated_at
    world.oss.modified[(BUCKET, "inbox/talk.wav")] = failed_at - timedelta(minutes=1)  # the original upload
    report = _reconciler(world).run(now=failed_at + timedelta(minutes=10))
    assert (report.retried, report.started, report.settled) == (0, 0, 0)
    assert world.store.get(job_id).state is JobState.FAILED and len(world.oss.submissions) == 1


def test_between_passes_a_tick_reads_the_watermark_and_lists_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world()
    _upload(world, "inbox/lost.wav", deliver=False)
    reconciler = InboxReconciler(world.orchestrator)
    assert reconciler.run(now=T0).started == 1
    lost_later = "inbox/lost-later.wav"
    _upload(world, lost_later, deliver=False)
    listings: list[object] = []
    original = world.oss.iter_list_pages

    def counted(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        listings.append(args)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(world.oss, "iter_list_pages", counted)
    resting = reconciler.run(now=T0 + reconcile_mark.PASS_INTERVAL - timedelta(seconds=1))
    assert resting.resting and resting.started == 0 and listings == []
    after = reconciler.run(now=T0 + reconcile_mark.PASS_INTERVAL)
    assert not after.resting and after.started == 1 and len(listings) == 1
    assert sorted(job.input["key"] for job in world.store.list().jobs) == [
        "inbox/lost-later.wav",
        "inbox/lost.wav",
    ]


def test_a_pass_in_progress_goes_on_at_the_next_tick_and_a_clock_set_back_holds_nothing_up() -> None:
    world = make_world()
    for n in range(3):
        _upload(world, f"inbox/{n}.wav", deliver=False)
    reconciler = InboxReconciler(world.orchestrator)
    first = reconciler.run(limit=2, now=T0)
    second = reconciler.run(limit=2, now=T0 + timedelta(seconds=1))
    assert (first.listed, first.wrapped, second.listed, second.wrapped) == (2, False, 1, True)
    _upload(world, "inbox/3.wav", deliver=False)
    assert reconciler.run(now=T0 + timedelta(seconds=2)).resting
    earlier = reconciler.run(now=T0 - timedelta(hours=1))  # the function's clock went back an hour
    assert not earlier.resting and earlier.started == 1
