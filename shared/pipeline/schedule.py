"""When the timer's sweep should look at an unfinished job again: the due time it files the job under.

The sweep touches only jobs whose due time has come (`JobStore.due_jobs`), so its cost follows the work
that is due, not the number of unfinished jobs. What a job is due for depends on its current step:

- submitted: the next poll of its service task. Polls follow DashScope's own waiting cadence while the
  task is young (the SDK's `wait` asks after 1 s, doubles the interval every 3 polls and stops at 5 s:
  dashscope/client/base_api.py, `BaseAsyncApi.wait`), then back off with the task's age (a quarter of it,
  at most POLL_CAP), so a task that runs for N seconds is polled O(log N) times rather than once per tick,
  and its result is seen at most a quarter of its run time late. The task timeout is never overshot.
- claimed: the next sweep (a holder moves it on within seconds; waiting for the lease would leave the
  step that follows unpolled until then).
- retrying: when `shared.pipeline.retry.retry_due` allows the next attempt.
- anything else (queued, a step that could not be claimed, a final job whose completion is still to be
  published): the next tick.

    >>> [poll_interval(timedelta(seconds=s)).total_seconds() for s in (0, 4, 10, 40, 600, 86400)]
    [1.0, 2.0, 4.0, 10.0, 150.0, 300.0]
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.jobs.model import StepState
from shared.jobs.store import JobSnapshot
from shared.pipeline.retry import retry_due

# DashScope SDK's wait: 1 s, doubled every 3 polls, at most 5 s (polls at 1, 2, 3, 5, 7, 9, 13 ... s).
_YOUNG_CADENCE = ((timedelta(seconds=3), timedelta(seconds=1)), (timedelta(seconds=9), timedelta(seconds=2)))
_YOUNG_LIMIT = timedelta(seconds=21)
_SDK_CEILING = timedelta(seconds=5)
POLL_CAP = timedelta(minutes=5)
# Due at once: the next sweep, whatever the timer's period (a deployed minute, 2 s in `localcloud run`).
NEXT_TICK = timedelta(0)


def poll_interval(age: timedelta) -> timedelta:
    """How long after a poll of a task `age` old the next one is due."""
    for below, interval in _YOUNG_CADENCE:
        if age < below:
            return interval
    if age < _YOUNG_LIMIT:
        return timedelta(seconds=4)
    return min(max(age / 4, _SDK_CEILING), POLL_CAP)


def next_check(snapshot: JobSnapshot, now: datetime, lease: timedelta, task_timeout: timedelta) -> datetime:
    """When the sweep should look at this (unfinished or not yet finalised) job again."""
    view = snapshot.view
    index = view.current_step
    if view.state.is_final or index is None:
        return now + NEXT_TICK
    step = view.steps[index]
    if step.state is StepState.SUBMITTED:
        started = step.submitted_at or step.started_at or now
        timeout_at = started + task_timeout
        return max(now, min(now + poll_interval(now - started), timeout_at + timedelta(seconds=1)))
    # A claimed step is looked at on every sweep: its holder usually moves it on within seconds (a
    # submission, a notification), and only then does the job need the sweep, e.g. to poll a recognition.
    if step.state is StepState.RETRYING:
        return max(now, retry_due(snapshot, index, lease))
    return now + NEXT_TICK


__all__ = ["NEXT_TICK", "POLL_CAP", "next_check", "poll_interval"]
