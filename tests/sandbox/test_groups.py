"""Group endpoints over raw HTTP: documented examples, defaults, limits, paging, sorting."""

from __future__ import annotations

import re

import httpx
import pytest

from orca_nb import wire
from orca_nb.sandbox import Backend
from orca_nb.sandbox.backend import account_id

GROUP_ID = re.compile(r"group-\d{14}-[a-z0-9]{5}")
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def assert_envelope(response: httpx.Response, status: int, param: str | None = "?") -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["message"]
    if param != "?":
        assert error["param"] == param
    return error


def test_create_group_documented_example(api: httpx.Client) -> None:
    response = api.post(
        wire.GROUPS_PATH, json={"Name": "actor_zhang", "Description": "角色 Zhang 的虚拟人像组"}
    )
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["Id"]
    assert GROUP_ID.fullmatch(body["Id"])
    assert body["Id"].startswith("group-20260318033332-")  # the manual clock's start


def test_list_groups_defaults_to_real_human(api: httpx.Client) -> None:
    api.post(wire.GROUPS_PATH, json={"Name": "actor_zhang"})
    default = api.get(wire.GROUPS_PATH).json()
    assert default == {"TotalCount": 0, "Items": [], "PageNumber": 1, "PageSize": 10}
    aigc = api.get(wire.GROUPS_PATH, params={"group_type": "aigc"}).json()
    assert aigc["TotalCount"] == 1
    (item,) = aigc["Items"]
    assert set(item) >= {"Id", "Name", "GroupType", "ProjectName", "CreateTime", "UpdateTime"}
    assert item["GroupType"] == "AIGC"
    assert item["ProjectName"] == "default"
    assert ISO_Z.fullmatch(item["CreateTime"])
    assert ISO_Z.fullmatch(item["UpdateTime"])


def test_get_update_delete_group(api: httpx.Client, sandbox_backend: Backend) -> None:
    gid = api.post(wire.GROUPS_PATH, json={"Name": "a"}).json()["Id"]
    path = wire.GROUP_PATH.format(group_id=gid)
    assert api.get(path).json()["Name"] == "a"
    sandbox_backend.clock.advance(60)  # type: ignore[attr-defined]
    assert api.patch(path, json={"Name": "b", "Description": "d"}).json() == {"Id": gid}
    got = api.get(path).json()
    assert (got["Name"], got["Description"]) == ("b", "d")
    assert got["UpdateTime"] > got["CreateTime"]
    assert api.put(path, json={"Description": "e"}).json() == {"Id": gid}
    assert api.get(path).json()["Description"] == "e"
    assert api.delete(path).json() == {}
    assert_envelope(api.get(path), 404, "group_id")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "Name"),
        ({"Name": ""}, "Name"),
        ({"Name": 5}, "Name"),
        ({"Name": "x" * (wire.NAME_MAX_CHARS + 1)}, "Name"),
        ({"Name": "ok", "Description": "x" * (wire.DESCRIPTION_MAX_CHARS + 1)}, "Description"),
        ({"Name": "ok", "Description": 3}, "Description"),
        ([1, 2], None),
    ],
)
def test_create_group_rejects(api: httpx.Client, body: object, param: str | None) -> None:
    error = assert_envelope(api.post(wire.GROUPS_PATH, json=body), 400, param)
    assert error["type"] == "invalid_request_error"
    assert api.get(wire.GROUPS_PATH, params={"group_type": "aigc"}).json()["TotalCount"] == 0


def test_limits_are_inclusive(api: httpx.Client) -> None:
    body = {"Name": "x" * wire.NAME_MAX_CHARS, "Description": "y" * wire.DESCRIPTION_MAX_CHARS}
    assert api.post(wire.GROUPS_PATH, json=body).status_code == 200


def test_extra_fields_are_tolerated(api: httpx.Client) -> None:
    response = api.post(wire.GROUPS_PATH, json={"Name": "a", "ProjectName": "x", "Other": [1]})
    assert response.status_code == 200


def test_paging_sorting_and_fuzzy_name(api: httpx.Client, sandbox_backend: Backend) -> None:
    names = ["Zhang hero", "zhang villain", "Li", "Wang", "ZHANG extra"]
    ids = []
    for name in names:
        ids.append(api.post(wire.GROUPS_PATH, json={"Name": name}).json()["Id"])
        sandbox_backend.clock.advance(1)  # type: ignore[attr-defined]
    q = {"group_type": "aigc"}
    desc = api.get(wire.GROUPS_PATH, params=q).json()
    assert [i["Id"] for i in desc["Items"]] == ids[::-1]
    asc = api.get(wire.GROUPS_PATH, params={**q, "sort_order": "Asc"}).json()
    assert [i["Id"] for i in asc["Items"]] == ids
    page = api.get(wire.GROUPS_PATH, params={**q, "page_size": 2, "page_number": 2}).json()
    assert page["TotalCount"] == 5
    assert (page["PageNumber"], page["PageSize"]) == (2, 2)
    assert [i["Id"] for i in page["Items"]] == ids[::-1][2:4]
    beyond = api.get(wire.GROUPS_PATH, params={**q, "page_number": 9}).json()
    assert beyond["Items"] == []
    assert beyond["TotalCount"] == 5
    fuzzy = api.get(wire.GROUPS_PATH, params={**q, "name": "zhang"}).json()
    assert fuzzy["TotalCount"] == 3
    # UpdateTime order: touch the oldest group, it sorts first
    api.patch(wire.GROUP_PATH.format(group_id=ids[0]), json={"Description": "touched"})
    by_update = api.get(wire.GROUPS_PATH, params={**q, "sort_by": "UpdateTime"}).json()
    assert by_update["Items"][0]["Id"] == ids[0]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"group_type": "AIGC"}, "group_type"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": str(wire.MAX_PAGE_SIZE + 1)}, "page_size"),
        ({"page_number": "-1"}, "page_number"),
        ({"page_number": "one"}, "page_number"),
        ({"sort_by": "Name"}, "sort_by"),
        ({"sort_order": "desc"}, "sort_order"),
    ],
)
def test_list_groups_rejects(api: httpx.Client, params: dict[str, str], param: str) -> None:
    assert_envelope(api.get(wire.GROUPS_PATH, params=params), 400, param)


def test_page_size_max_is_allowed(api: httpx.Client) -> None:
    response = api.get(wire.GROUPS_PATH, params={"page_size": wire.MAX_PAGE_SIZE})
    assert response.json()["PageSize"] == wire.MAX_PAGE_SIZE


def test_accounts_are_isolated(api: httpx.Client, other_api: httpx.Client) -> None:
    gid = api.post(wire.GROUPS_PATH, json={"Name": "mine"}).json()["Id"]
    path = wire.GROUP_PATH.format(group_id=gid)
    assert other_api.get(wire.GROUPS_PATH, params={"group_type": "aigc"}).json()["TotalCount"] == 0
    unknown = assert_envelope(other_api.get(wire.GROUP_PATH.format(group_id="group-x")), 404)
    foreign = assert_envelope(other_api.get(path), 404)
    assert foreign["code"] == unknown["code"] == wire.CODE_NOT_FOUND
    assert_envelope(other_api.patch(path, json={"Name": "stolen"}), 404)
    assert_envelope(other_api.delete(path), 404)
    assert api.get(path).json()["Name"] == "mine"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "bearer  x",
        "Basic sk-orca-sandbox-test",
        "Bearer sk-other-1",
        "Bearer sk-orca-",
    ],
)
def test_missing_or_malformed_key_is_401(sandbox_server, header: str | None) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": header} if header is not None else {}
    response = httpx.get(sandbox_server.base_url + wire.GROUPS_PATH, headers=headers)
    error = assert_envelope(response, 401)
    assert error["code"] == wire.CODE_INVALID_API_KEY


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", wire.GROUPS_PATH + "?page_size=0"),
        ("GET", wire.GROUP_PATH.format(group_id="group-missing")),
        ("DELETE", wire.GROUP_PATH.format(group_id="group-missing")),
        ("GET", wire.ASSETS_PATH + "?group_type=nope"),
        ("GET", wire.ASSET_PATH.format(asset_id="asset-missing")),
        ("DELETE", wire.ASSET_PATH.format(asset_id="asset-missing")),
        ("GET", wire.SESSION_PATH.format(session_id="session-missing")),
        ("GET", wire.VIDEO_PATH.format(task_id="cgt-missing")),
    ],
)
def test_key_is_checked_before_the_request_itself(sandbox_server, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    """A missing key is 401 even where the request would be a 400 or 404 with a key."""
    response = httpx.request(method, sandbox_server.base_url + path)
    assert assert_envelope(response, 401)["code"] == wire.CODE_INVALID_API_KEY
    with_key = {"Authorization": "Bearer sk-orca-sandbox-order"}
    assert httpx.request(method, sandbox_server.base_url + path, headers=with_key).status_code in (
        400,
        404,
    )


def test_any_sk_orca_key_is_its_own_account(sandbox_backend: Backend, sandbox_server) -> None:  # type: ignore[no-untyped-def]
    for key in ("sk-orca-sandbox-alice", "sk-orca-test-bob"):
        headers = {"Authorization": f"Bearer {key}"}
        response = httpx.post(
            sandbox_server.base_url + wire.GROUPS_PATH, json={"Name": key}, headers=headers
        )
        assert response.status_code == 200
    stored = sandbox_backend.db.tx
    with stored() as db:
        accounts = {r[0] for r in db.execute("SELECT account FROM accounts")}
    assert account_id("sk-orca-sandbox-alice") in accounts
    assert "sk-orca-sandbox-alice" not in accounts  # keys are stored hashed


def test_unknown_route_and_method_use_the_envelope(api: httpx.Client) -> None:
    assert_envelope(api.get("/nothing/here"), 404)
    assert_envelope(api.request("PUT", wire.GROUPS_PATH, json={}), 405)


def test_invalid_json_is_400(api: httpx.Client) -> None:
    response = api.post(
        wire.GROUPS_PATH, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_envelope(response, 400)
    assert_envelope(api.post(wire.GROUPS_PATH), 400)
