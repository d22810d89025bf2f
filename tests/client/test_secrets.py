"""The API key never appears in any error message, repr, traceback text or log line."""

from __future__ import annotations

import logging
import traceback

import pytest

from orca_nb.client import (
    APIError,
    AuthenticationError,
    OrcaError,
    OutcomeUnknownError,
    ServerError,
    ValidationError,
)
from tests.client.conftest import Sleeps, make_client, run
from tests.client.fakeapi import FAKE_KEY, FakeAPI

ODD_KEY = "my-company-secret-XYZ987"  # not key-shaped: caught because it was configured


def texts_of(error: BaseException) -> list[str]:
    """Every text a user could see of an error."""
    out = [str(error), repr(error), "".join(traceback.format_exception(error))]
    if isinstance(error, APIError):
        out += [repr(error.body), repr(error.server_message), repr(error.__dict__)]
        if error.request is not None:
            out += [repr(error.request), repr(dict(error.request.headers)), str(error.request.url)]
        if error.response is not None:
            out += [repr(error.response), repr(dict(error.response.request.headers))]
            out += [error.response.text]
    for arg in error.args:
        out.append(repr(arg))
    return out


@pytest.mark.parametrize("key", [FAKE_KEY, ODD_KEY])
async def test_key_absent_everywhere(
    flavour: str, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    good = FakeAPI(key=key)
    client = make_client(flavour, good, Sleeps(), key=key)
    seen: list[str] = [repr(client), str(client), repr(client.with_options(max_retries=0))]

    # 401 whose server message echoes the key back
    wrong = FakeAPI(key="sk-orca-test-other")
    bad_client = make_client(flavour, wrong, Sleeps(), key=key)
    with pytest.raises(AuthenticationError) as auth:
        await run(bad_client.groups.list())
    errors.append(auth.value)
    assert "Invalid token" in str(auth.value)

    # 5xx after retries, connection failure, unknown outcome, local validation
    good.fault("GET", "groups", *[("status", 502, {}, {"error": {"message": key}})] * 3)
    with pytest.raises(ServerError) as server:
        await run(client.groups.list())
    errors.append(server.value)
    good.fault("GET", "group", *["drop_before"] * 3)
    with pytest.raises(APIError) as conn:
        await run(client.groups.get("group-x"))
    errors.append(conn.value)
    good.fault("POST", "videos", "timeout_after")
    with pytest.raises(OutcomeUnknownError) as unknown:
        await run(client.videos.create(prompt=f"say {key}"))
    errors.append(unknown.value)
    with pytest.raises(ValidationError) as local:
        await run(client.groups.create(name=key * 5))
    errors.append(local.value)
    with pytest.raises(OrcaError) as val:
        await run(client.assets.get(f"  {key}"))
    errors.append(val.value)

    for error in errors:
        seen += texts_of(error)
    seen += [record.getMessage() for record in caplog.records]
    seen.append(caplog.text)
    leaks = [text for text in seen if key in text]
    assert leaks == []
    assert any("[redacted]" in text for text in seen)  # the echo was there, and was scrubbed
