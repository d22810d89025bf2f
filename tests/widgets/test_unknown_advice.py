"""The studio's words for a video submission whose outcome is unknown: it may exist, and how to
settle its ledger row with the page's buttons (the client's own advice, Python calls for notebook
users, is cut out of the message, so it is said here once, in the page's words)."""

from __future__ import annotations

from orca_nb.client.errors import OutcomeUnknownError
from orca_nb.widgets.advice import describe_error


def test_an_unknown_video_outcome_says_it_may_exist_and_how_to_settle() -> None:
    error = OutcomeUnknownError(
        "POST /v1/video/generations: the request was sent but no reply came back (ReadTimeout).",
        how_to_check="The task may exist (client advice).",
        submission_id="sub-123",
    )
    message, advice = describe_error(error)
    assert "ReadTimeout" in message
    assert "client advice" not in message  # said once
    assert "may exist" in advice
    assert "do not submit it again" in advice
    # the page's words (its buttons), not Python: the client's error keeps the Python calls
    assert "Attach task id" in advice
    assert "It was not created" in advice
    assert "orca_nb." not in advice
    assert "settle(" not in advice


def test_an_unknown_group_or_upload_outcome_keeps_the_refresh_advice() -> None:
    error = OutcomeUnknownError("no reply.", how_to_check="List the groups.")
    assert "refresh" in describe_error(error)[1].lower()
