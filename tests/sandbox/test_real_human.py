"""Real-human sessions, the H5 page (driven over plain HTTP here), and real-human groups."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from orca_nb import wire
from orca_nb.sandbox import Backend, SandboxServer
from tests.sandbox.helpers import get_asset, sample_url, upload
from tests.sandbox.test_groups import assert_envelope


def start(api: httpx.Client, body: object = None) -> dict:  # type: ignore[type-arg]
    response = (
        api.post(wire.SESSIONS_PATH, json=body)
        if body is not None
        else api.post(wire.SESSIONS_PATH)
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def verify(link: str, choice: str, consent: bool = True) -> httpx.Response:
    form = {"choice": choice, **({"consent": "yes"} if consent else {})}
    return httpx.post(link, data=form, follow_redirects=False)


def session(api: httpx.Client, sid: str) -> dict:  # type: ignore[type-arg]
    response = api.get(wire.SESSION_PATH.format(session_id=sid))
    assert response.status_code == 200, response.text
    return dict(response.json())


def verified_group(api: httpx.Client, person: str = "ada") -> str:
    started = start(api, {})
    assert verify(started["h5_link"], person).status_code == 303
    return str(session(api, started["session_id"])["group_id"])


def test_documented_start_example(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    body = start(api, {"return_url": "https://yourapp.com/verify/done"})
    assert set(body) == {"session_id", "h5_link", "status"}
    assert body["status"] == "pending"
    assert len(body["session_id"]) == wire.SESSION_ID_CHARS
    assert body["h5_link"].startswith(sandbox_server.root_url + "/sandbox/h5/")
    assert start(api)["status"] == "pending"  # the body is optional


def test_h5_success_redirects_with_status_and_group(api: httpx.Client) -> None:
    started = start(api, {"return_url": "https://yourapp.com/done?x=1", "lng": "en"})
    page = httpx.get(started["h5_link"])
    assert page.status_code == 200
    assert "consent" in page.text
    assert "value='ada'" in page.text
    response = verify(started["h5_link"], "ada")
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "yourapp.com", "/done")
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["x"] == "1"
    assert query["status"] == "success"
    assert query["session_id"] == started["session_id"]
    polled = session(api, started["session_id"])
    assert polled["status"] == "success"
    assert polled["group_id"] == query["group_id"]
    group = api.get(wire.GROUP_PATH.format(group_id=query["group_id"])).json()
    assert group["GroupType"] == "LivenessFace"
    listed = api.get(wire.GROUPS_PATH).json()  # default group_type real_human lists it
    assert [g["Id"] for g in listed["Items"]] == [query["group_id"]]


def test_h5_without_return_url_shows_the_completion_page(api: httpx.Client) -> None:
    started = start(api)
    response = verify(started["h5_link"], "ben")
    assert response.headers["location"].endswith(f"/sandbox/h5/{started['session_id']}/done")
    done = httpx.get(response.headers["location"])
    assert "Verification complete" in done.text
    assert session(api, started["session_id"])["group_id"] in done.text


@pytest.mark.parametrize(
    ("choice", "code"),
    [("two_faces", wire.ASSET_ERROR_MULTIPLE_FACES), ("no_face", wire.ASSET_ERROR_NO_FACE)],
)
def test_h5_rejected_look(api: httpx.Client, choice: str, code: str) -> None:
    started = start(api, {"return_url": "http://127.0.0.1:9/back"})
    response = verify(started["h5_link"], choice)
    query = parse_qs(urlsplit(response.headers["location"]).query, keep_blank_values=True)
    assert query["status"] == ["failed"]
    assert query["group_id"] == [""]
    polled = session(api, started["session_id"])
    assert polled["status"] == "failed"
    assert polled["group_id"] is None
    assert polled["error"]["code"] == code
    assert api.get(wire.GROUPS_PATH).json()["TotalCount"] == 0


def test_h5_needs_consent_and_escapes_input(api: httpx.Client) -> None:
    started = start(api)
    no_consent = verify(started["h5_link"], "ada", consent=False)
    assert no_consent.status_code == 400
    assert "consent" in no_consent.text
    evil = verify(started["h5_link"], "<script>alert(1)</script>")
    assert evil.status_code == 400
    assert "<script>alert(1)" not in evil.text
    assert "&lt;script&gt;" in evil.text
    assert session(api, started["session_id"])["status"] == "pending"


def test_sessions_are_single_use(api: httpx.Client) -> None:
    started = start(api)
    assert verify(started["h5_link"], "ada").status_code == 303
    again = verify(started["h5_link"], "ben")
    assert again.status_code == 409
    assert "already success" in again.text
    assert api.get(wire.GROUPS_PATH).json()["TotalCount"] == 1


def test_sessions_expire(api: httpx.Client, sandbox_backend: Backend) -> None:
    started = start(api)
    sandbox_backend.clock.advance(wire.SESSION_TTL_SECONDS + 1)  # type: ignore[attr-defined]
    assert session(api, started["session_id"])["status"] == "expired"
    page = httpx.get(started["h5_link"])
    assert "expired" in page.text
    assert verify(started["h5_link"], "ada").status_code == 409


def test_sessions_are_isolated(api: httpx.Client, other_api: httpx.Client) -> None:
    sid = start(api)["session_id"]
    assert_envelope(other_api.get(wire.SESSION_PATH.format(session_id=sid)), 404)
    assert_envelope(api.get(wire.SESSION_PATH.format(session_id="x" * 40)), 404)
    assert httpx.get(start(api)["h5_link"] + "nope").status_code == 404


@pytest.mark.parametrize("body", [[], {"return_url": "javascript:alert(1)"}, {"return_url": 5}])
def test_start_session_rejects(api: httpx.Client, body: object) -> None:
    assert_envelope(api.post(wire.SESSIONS_PATH, json=body), 400)


def test_real_human_group_checks_faces(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    gid = verified_group(api, "ada")
    expected = {
        "ada_portrait.jpg": None,
        "ada_closeup.png": None,
        "ben_portrait.webp": wire.ASSET_ERROR_FACE_MISMATCH,
        "ada_and_ben.jpg": wire.ASSET_ERROR_MULTIPLE_FACES,
        "scene_16x9.jpg": wire.ASSET_ERROR_NO_FACE,
        "ada_wave.mp4": None,
        "theme.wav": None,
    }
    kinds = {"mp4": "Video", "wav": "Audio"}
    for filename, code in expected.items():
        kind = kinds.get(filename.rsplit(".", 1)[1], "Image")
        asset = get_asset(api, upload(api, gid, sample_url(sandbox_server, filename), kind))
        assert asset.get("Error", {}).get("Code") == code, (filename, asset)
    listed = api.get(wire.ASSETS_PATH, params={"statuses": "Active"}).json()
    assert listed["TotalCount"] == 4


def test_active_real_human_group_cannot_be_deleted(
    api: httpx.Client, sandbox_backend: Backend, sandbox_key: str
) -> None:
    from orca_nb.sandbox.backend import account_id

    gid = verified_group(api)
    path = wire.GROUP_PATH.format(group_id=gid)
    error = assert_envelope(api.delete(path), 403)
    assert error["code"] == wire.CODE_LIVENESS_GROUP_ACTIVE
    assert api.get(path).status_code == 200
    sandbox_backend.revoke_verification(account_id(sandbox_key), gid)
    assert api.delete(path).json() == {}
