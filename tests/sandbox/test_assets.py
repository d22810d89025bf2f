"""Asset endpoints and processing over raw HTTP, on the manual clock."""

from __future__ import annotations

import httpx
import pytest

from orca_nb import wire
from orca_nb.sandbox import Backend, SandboxServer
from orca_nb.sandbox.samples import SAMPLES, sample_bytes
from tests.sandbox.helpers import get_asset, make_group, sample_url, static_server, upload
from tests.sandbox.test_groups import assert_envelope

ASSET_KEYS = {"Id", "Name", "GroupId", "AssetType", "Status", "URL", "CreateTime", "UpdateTime"}


def test_documented_upload_example_refuses_outside_hosts(api: httpx.Client) -> None:
    gid = make_group(api)
    body = {
        "GroupId": gid,
        "URL": "https://your-cdn.com/zhang/full_body.jpg",
        "AssetType": "Image",
        "Name": "full_body_front",
    }
    response = api.post(wire.ASSETS_PATH, json=body)
    assert response.status_code == 200
    assert list(response.json()) == ["Id"]
    asset = get_asset(api, response.json()["Id"])
    assert set(asset) >= ASSET_KEYS
    assert asset["Status"] == "Failed"
    assert asset["Error"]["Code"] == wire.ASSET_ERROR_DOWNLOAD_FAILED
    assert "your-cdn.com" in asset["Error"]["Message"]
    assert asset["URL"] == ""


def test_sample_upload_becomes_active_with_a_working_signed_url(
    api: httpx.Client, sandbox_server: SandboxServer
) -> None:
    gid = make_group(api)
    aid = upload(api, gid, sample_url(sandbox_server, "scene_16x9.jpg"), "Image", "scene")
    asset = get_asset(api, aid)
    assert asset["Status"] == "Active", asset
    assert "Error" not in asset
    assert "X-Tos-Expires=43200" in asset["URL"]
    download = httpx.get(asset["URL"])
    assert download.status_code == 200
    assert download.content == sample_bytes("scene_16x9.jpg")
    assert download.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize("filename", [f for f, s in SAMPLES.items() if s.valid])
def test_every_valid_sample_is_active(
    api: httpx.Client, sandbox_server: SandboxServer, filename: str
) -> None:
    gid = make_group(api)
    aid = upload(api, gid, sample_url(sandbox_server, filename), SAMPLES[filename].asset_type)
    assert get_asset(api, aid)["Status"] == "Active"


@pytest.mark.parametrize("filename", [f for f, s in SAMPLES.items() if not s.valid])
def test_every_invalid_sample_fails_with_its_code(
    api: httpx.Client, sandbox_server: SandboxServer, filename: str
) -> None:
    gid = make_group(api)
    aid = upload(api, gid, sample_url(sandbox_server, filename), SAMPLES[filename].asset_type)
    asset = get_asset(api, aid)
    assert asset["Status"] == "Failed"
    assert asset["Error"]["Code"] == SAMPLES[filename].expected_error
    assert asset["Error"]["Message"]


def test_wrong_asset_type_fails_as_format(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    gid = make_group(api)
    aid = upload(api, gid, sample_url(sandbox_server, "theme.wav"), "Image")
    assert get_asset(api, aid)["Error"]["Code"] == wire.ASSET_ERROR_FORMAT


def test_loopback_servers_are_fetched(api: httpx.Client, sandbox_backend: Backend) -> None:
    gid = make_group(api)
    files = {"/ok.png": sample_bytes("prop_1x1.png"), "/big.png": sample_bytes("prop_1x1.png")}
    with static_server(files) as base:
        ok = upload(api, gid, base + "/ok.png", "Image")
        missing = upload(api, gid, base + "/missing.png", "Image")
        sandbox_backend.configure(fetch_max_bytes=1000)
        big = upload(api, gid, base.replace("127.0.0.1", "localhost") + "/big.png", "Image")
        sandbox_backend.wait_for_fetches()  # fetched after the reply (DOC 12.7), server still up
    assert get_asset(api, ok)["Status"] == "Active"  # each fetch kept its upload's settings
    for aid, words in ((missing, "404"), (big, "larger")):
        asset = get_asset(api, aid)
        assert asset["Error"]["Code"] == wire.ASSET_ERROR_DOWNLOAD_FAILED
        assert words in asset["Error"]["Message"]


def test_manual_processing_waits_for_step(
    api: httpx.Client, sandbox_backend: Backend, sandbox_server: SandboxServer
) -> None:
    sandbox_backend.configure(processing="manual")
    gid = make_group(api)
    good = upload(api, gid, sample_url(sandbox_server, "prop_1x1.png"), "Image")
    bad = upload(api, gid, sample_url(sandbox_server, "tiny_200.png"), "Image")
    assert get_asset(api, good)["Status"] == "Processing"
    assert get_asset(api, good)["URL"] == ""
    assert "Error" not in get_asset(api, bad)
    sandbox_backend.clock.advance(3600)  # type: ignore[attr-defined]
    assert get_asset(api, good)["Status"] == "Processing"
    sandbox_backend.step()
    assert get_asset(api, good)["Status"] == "Active"
    assert get_asset(api, bad)["Error"]["Code"] == wire.ASSET_ERROR_DIMENSIONS


def test_timed_processing_follows_the_clock(
    api: httpx.Client, sandbox_backend: Backend, sandbox_server: SandboxServer
) -> None:
    sandbox_backend.configure(processing="timed", processing_seconds=5)
    gid = make_group(api)
    aid = upload(api, gid, sample_url(sandbox_server, "prop_1x1.png"), "Image")
    sandbox_backend.clock.advance(4.9)  # type: ignore[attr-defined]
    assert get_asset(api, aid)["Status"] == "Processing"
    sandbox_backend.clock.advance(0.2)  # type: ignore[attr-defined]
    asset = get_asset(api, aid)
    assert asset["Status"] == "Active"
    assert asset["UpdateTime"] == "2026-03-18T03:33:37Z"  # created + 5 s


def test_signed_urls_expire_and_are_fresh_on_each_get(
    api: httpx.Client, sandbox_backend: Backend, sandbox_server: SandboxServer
) -> None:
    gid = make_group(api)
    aid = upload(api, gid, sample_url(sandbox_server, "prop_1x1.png"), "Image")
    first = get_asset(api, aid)["URL"]
    sandbox_backend.clock.advance(wire.SIGNED_URL_TTL_SECONDS - 1)  # type: ignore[attr-defined]
    assert httpx.get(first).status_code == 200
    second = get_asset(api, aid)["URL"]
    assert second != first
    sandbox_backend.clock.advance(2)  # type: ignore[attr-defined]
    expired = httpx.get(first)
    assert_envelope(expired, 403)
    assert "expired" in expired.json()["error"]["message"]
    assert httpx.get(second).status_code == 200
    tampered = second.replace("X-Tos-Expires=43200", "X-Tos-Expires=99999")
    assert_envelope(httpx.get(tampered), 403)
    unsigned = second.split("?")[0]
    assert_envelope(httpx.get(unsigned), 403)


def test_url_ttl_is_configurable(
    api: httpx.Client, sandbox_backend: Backend, sandbox_server: SandboxServer
) -> None:
    sandbox_backend.configure(url_ttl=60)
    gid = make_group(api)
    url = get_asset(api, upload(api, gid, sample_url(sandbox_server, "prop_1x1.png"), "Image"))[
        "URL"
    ]
    assert "X-Tos-Expires=60" in url
    sandbox_backend.clock.advance(61)  # type: ignore[attr-defined]
    assert httpx.get(url).status_code == 403


def test_asset_cap_and_delete_frees_a_slot(
    api: httpx.Client, other_api: httpx.Client, sandbox_backend: Backend
) -> None:
    sandbox_backend.configure(asset_cap=2)
    gid = make_group(api)
    url = "https://example.invalid/a.png"
    first = upload(api, gid, url, "Image")
    upload(api, gid, url, "Image")
    body = {"GroupId": gid, "URL": url, "AssetType": "Image"}
    error = assert_envelope(api.post(wire.ASSETS_PATH, json=body), 403)
    assert error["code"] == wire.CODE_ASSET_CAP_EXCEEDED
    # the cap is per account
    other_gid = make_group(other_api)
    upload(other_api, other_gid, url, "Image")
    assert api.delete(wire.ASSET_PATH.format(asset_id=first)).json() == {}
    upload(api, gid, url, "Image")
    assert api.get(wire.ASSETS_PATH, params={"group_id": gid}).json()["TotalCount"] == 2


@pytest.mark.parametrize(
    ("body", "param", "status"),
    [
        ({"URL": "https://a/b.png", "AssetType": "Image"}, "GroupId", 400),
        ({"GroupId": "group-none", "URL": "https://a/b.png", "AssetType": "Image"}, "GroupId", 404),
        ({"GroupId": "$G", "AssetType": "Image"}, "URL", 400),
        ({"GroupId": "$G", "URL": "data:image/png;base64,AAAA", "AssetType": "Image"}, "URL", 400),
        ({"GroupId": "$G", "URL": "ftp://a/b.png", "AssetType": "Image"}, "URL", 400),
        ({"GroupId": "$G", "URL": "https://a/b.png"}, "AssetType", 400),
        ({"GroupId": "$G", "URL": "https://a/b.png", "AssetType": "image"}, "AssetType", 400),
        (
            {"GroupId": "$G", "URL": "https://a/b", "AssetType": "Image", "Name": "n" * 65},
            "Name",
            400,
        ),
        (
            {"GroupId": "$G", "URL": "https://a/b", "AssetType": "Image", "Moderation": "Skip"},
            "Moderation",
            400,
        ),
        (
            {
                "GroupId": "$G",
                "URL": "https://a/b",
                "AssetType": "Image",
                "Moderation": {"Strategy": "Never"},
            },
            "Moderation.Strategy",
            400,
        ),
    ],
)
def test_upload_rejects(api: httpx.Client, body: dict, param: str, status: int) -> None:  # type: ignore[type-arg]
    gid = make_group(api)
    body = {k: (gid if v == "$G" else v) for k, v in body.items()}
    assert_envelope(api.post(wire.ASSETS_PATH, json=body), status, param)
    assert api.get(wire.ASSETS_PATH, params={"group_id": gid}).json()["TotalCount"] == 0


def test_moderation_and_name_are_kept(api: httpx.Client) -> None:
    gid = make_group(api)
    body = {
        "GroupId": gid,
        "URL": "https://a/b.png",
        "AssetType": "Image",
        "Name": "front",
        "Moderation": {"Strategy": "Skip"},
    }
    asset = get_asset(api, api.post(wire.ASSETS_PATH, json=body).json()["Id"])
    assert asset["Moderation"] == {"Strategy": "Skip"}
    assert asset["Name"] == "front"


def test_list_assets_filters(api: httpx.Client, sandbox_backend: Backend) -> None:
    sandbox_backend.configure(processing="manual")
    aigc = make_group(api, "aigc")
    other = make_group(api, "second")
    a1 = upload(api, aigc, "https://x.invalid/1.png", "Image", "hero front")
    sandbox_backend.step()  # a1 settles (Failed: outside host)
    sandbox_backend.clock.advance(1)  # type: ignore[attr-defined]
    a2 = upload(api, other, "https://x.invalid/2.png", "Image", "Hero side")
    sandbox_backend.clock.advance(1)  # type: ignore[attr-defined]
    a3 = upload(api, aigc, "https://x.invalid/3.png", "Image", "villain")
    # default group_type is real_human: none of these
    assert api.get(wire.ASSETS_PATH).json()["TotalCount"] == 0
    everything = api.get(wire.ASSETS_PATH, params={"group_type": "aigc"}).json()
    assert [i["Id"] for i in everything["Items"]] == [a3, a2, a1]
    # group_id overrides group_type
    in_group = api.get(wire.ASSETS_PATH, params={"group_id": aigc, "group_type": "real_human"})
    assert [i["Id"] for i in in_group.json()["Items"]] == [a3, a1]
    failed = api.get(wire.ASSETS_PATH, params={"group_type": "aigc", "statuses": "Failed"}).json()
    assert [i["Id"] for i in failed["Items"]] == [a1]
    both = api.get(
        wire.ASSETS_PATH, params={"group_type": "aigc", "statuses": "Failed, Processing"}
    ).json()
    assert both["TotalCount"] == 3
    fuzzy = api.get(wire.ASSETS_PATH, params={"group_type": "aigc", "name": "HERO"}).json()
    assert {i["Id"] for i in fuzzy["Items"]} == {a1, a2}
    by_group = api.get(
        wire.ASSETS_PATH, params={"group_type": "aigc", "sort_by": "GroupId", "sort_order": "Asc"}
    ).json()
    group_ids = [i["GroupId"] for i in by_group["Items"]]
    assert group_ids == sorted(group_ids)
    paged = api.get(wire.ASSETS_PATH, params={"group_type": "aigc", "page_size": 1}).json()
    assert (paged["TotalCount"], len(paged["Items"]), paged["PageSize"]) == (3, 1, 1)


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"statuses": "Active,Deleted"}, "statuses"),
        ({"sort_by": "Name"}, "sort_by"),
        ({"group_type": "x"}, "group_type"),
        ({"page_size": "101"}, "page_size"),
        ({"group_id": "group-unknown"}, "group_id"),
    ],
)
def test_list_assets_rejects(api: httpx.Client, params: dict[str, str], param: str) -> None:
    assert_envelope(
        api.get(wire.ASSETS_PATH, params=params), 400 if param != "group_id" else 404, param
    )


def test_assets_are_isolated(api: httpx.Client, other_api: httpx.Client) -> None:
    gid = make_group(api)
    aid = upload(api, gid, "https://x.invalid/1.png", "Image")
    path = wire.ASSET_PATH.format(asset_id=aid)
    assert_envelope(other_api.get(path), 404)
    assert_envelope(other_api.delete(path), 404)
    body = {"GroupId": gid, "URL": "https://x.invalid/2.png", "AssetType": "Image"}
    assert_envelope(other_api.post(wire.ASSETS_PATH, json=body), 404, "GroupId")
    assert_envelope(other_api.get(wire.ASSETS_PATH, params={"group_id": gid}), 404)
    assert get_asset(api, aid)["Id"] == aid


def test_delete_group_cascades(api: httpx.Client) -> None:
    gid = make_group(api)
    aid = upload(api, gid, "https://x.invalid/1.png", "Image")
    assert api.delete(wire.GROUP_PATH.format(group_id=gid)).json() == {}
    assert_envelope(api.get(wire.ASSET_PATH.format(asset_id=aid)), 404)


def test_samples_are_public(root: httpx.Client) -> None:
    response = root.get("/sandbox/samples/ada_portrait.jpg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == sample_bytes("ada_portrait.jpg")
    assert_envelope(root.get("/sandbox/samples/nope.jpg"), 404)


def test_downloads_answer_byte_ranges(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    gid = make_group(api)
    url = get_asset(api, upload(api, gid, sample_url(sandbox_server, "prop_1x1.png"), "Image"))[
        "URL"
    ]
    data = sample_bytes("prop_1x1.png")
    part = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == data[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
    tail = httpx.get(url, headers={"Range": "bytes=-5"})
    assert tail.content == data[-5:]
    assert httpx.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416


def test_documented_list_and_get_shapes(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    gid = make_group(api)
    aid = upload(
        api, gid, sample_url(sandbox_server, "ada_portrait.jpg"), "Image", "full_body_front"
    )
    listed = api.get(wire.ASSETS_PATH, params={"group_type": "aigc"}).json()
    assert set(listed) == {"TotalCount", "Items", "PageNumber", "PageSize"}
    assert (listed["TotalCount"], listed["PageNumber"], listed["PageSize"]) == (1, 1, 10)
    (item,) = listed["Items"]
    assert set(item) >= ASSET_KEYS
    assert item["Id"] == aid
    assert item["Name"] == "full_body_front"
    assert item["GroupId"] == gid
    assert (item["AssetType"], item["Status"]) == ("Image", "Active")
    assert item["URL"].startswith(sandbox_server.root_url + "/sandbox/files/")
    got = get_asset(api, aid)
    assert {k: v for k, v in got.items() if k != "URL"} == {
        k: v for k, v in item.items() if k != "URL"
    }
