"""How a variant's task is polled: the client's growing schedule, shortened by the progress rate
so a task is seen done soon after it ends (bench_sweep: 1 s late on average cost 10-20 %)."""

from __future__ import annotations

import pytest

from orca_nb.client.defaults import VIDEO_POLL_MAX_SECONDS
from orca_nb.experiments.workflows import FollowPacer


def test_without_progress_it_is_the_clients_growing_schedule() -> None:
    pacer = FollowPacer(2.0)
    delays = [pacer.next(t, 0) for t in range(8)]
    assert delays[:4] == [2.0, 3.0, 4.5, 6.75]
    assert max(delays) == VIDEO_POLL_MAX_SECONDS
    none = FollowPacer(2.0)
    assert [none.next(0, None), none.next(1, 100)] == [2.0, 3.0]  # unknown or done: no rate


def test_the_progress_rate_brings_the_next_poll_to_the_end() -> None:
    pacer = FollowPacer(2.0)
    assert pacer.next(10.0, 20) == 2.0  # one reading: no rate yet
    # 20 % -> 50 % in 3 s: 10 %/s, so 5 s left: half-way there (the schedule says 3 s)
    assert pacer.next(13.0, 50) == 2.5
    assert pacer.next(14.0, 60) == 2.0  # 4 s left: half-way again
    assert pacer.next(16.0, 80) == 1.0  # 2 s left
    assert pacer.next(17.0, 90) == pytest.approx(1.0 * 1.02 + 0.02)  # 1 s left: just after it
    assert pacer.next(17.9, 99) == 0.25  # the floor: not a hammering loop at the very end


def test_the_send_time_gives_a_rate_from_the_first_reading() -> None:
    # Sent at t=100 (progress 0 then); the first poll at t=102 reads 80 %: about 0.5 s left.
    pacer = FollowPacer(2.0, origin=100.0)
    assert pacer.next(102.0, 80) == pytest.approx(0.5 * 1.02 + 0.02)
    # The next rate is measured from that reading (the send time includes queueing).
    assert pacer.next(102.6, 95) == pytest.approx(max(0.25, 0.2 * 1.02 + 0.02))


def test_a_long_task_is_never_polled_more_often_than_the_schedule_says_until_its_end() -> None:
    pacer = FollowPacer(2.0)
    now, polls = 0.0, 0
    while True:  # a 300 s task read truthfully: 1 % every 3 s
        progress = min(100, int(now / 3))
        if progress >= 100:
            break
        delay = pacer.next(now, progress)
        assert delay >= 0.25
        now += delay
        polls += 1
    assert now - 300 < 1.0  # seen done within a second of its end
    assert polls < 40  # the schedule alone: ~25 polls (15 s apart)


def test_progress_going_back_restarts_the_measure_and_the_floor_never_exceeds_first() -> None:
    pacer = FollowPacer(2.0)
    pacer.next(0.0, 50)
    assert pacer.next(1.0, 10) == 3.0  # a new reading lower than the last: measured anew
    assert FollowPacer(0.1).floor == 0.1  # a test's 0.1 s polling is not slowed to 0.25
