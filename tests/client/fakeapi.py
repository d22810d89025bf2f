"""A small in-memory OrcaRouter that plays the reference's documented wire shapes, for
``httpx.MockTransport``, with scripted faults per route and a log of every request it saw.

It is deliberately independent of ``orca_nb.sandbox`` (which these tests also run against), so a
bug shared by client and sandbox cannot hide. Faults:

* ``("status", code, headers, body)``: answer with that status (nothing is created);
* ``"drop_before"``: connection refused before the request is sent (nothing happens);
* ``"drop_after"``: the request is processed, then the connection drops before the reply;
* ``"timeout_after"``: processed, then the read times out;
* ``"connect_timeout"``: connecting times out (nothing happens);
* ``"ok"``: no fault for this request (to script a later one).
"""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from orca_nb import wire

BASE_URL = "https://api.fake.test/v1"
FAKE_KEY = "sk-orca-test-0123456789abcdefSECRET"
SIGNED = "X-Tos-Expires=86400&X-Tos-Signature=ab%2Bc%2Fd"  # a signed link's query
Fault = str | tuple[Any, ...]


def envelope(message: str, type_: str, code: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "code": code, "param": param}}


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str]
    body: Any
    headers: httpx.Headers


@dataclass
class FakeAPI:
    key: str = FAKE_KEY
    task_shape: str = "ark"  # or "wrapper" (documented, no inner object), "newapi", "openai"
    task_outcome: str = "succeeded"  # or "failed" (with fail_reason / error)
    alias_offered: bool = True  # GET/POST /v1/videos... (the OpenAI-style alias, 12.2)
    alias_usage: bool = True  # the alias's completed object carries usage
    models_reply: Any = None  # GET /v1/models body; None: 404 (not offered)
    billing: tuple[Any, Any] | None = None  # (subscription, usage) bodies; None: 404
    asset_polls: int = 2  # GETs an asset stays Processing
    task_polls: int = 2  # GETs a task spends per non-terminal status
    asset_cap: int = wire.DEFAULT_ASSET_CAP
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[tuple[str, str], list[Fault]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    seconds: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    # -- helpers -------------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def fault(self, method: str, route: str, *faults: Fault) -> None:
        self.faults.setdefault((method, route), []).extend(faults)

    def count(self, method: str, route: str) -> int:
        return sum(1 for c in self.calls if c.method == method and _route(c.path) == route)

    def _now(self) -> str:
        self.seconds += 1
        return f"2026-03-18T03:{self.seconds // 60 % 60:02d}:{self.seconds % 60:02d}Z"

    def _id(self, kind: str) -> str:
        tail = "".join(self.rng.choice(string.ascii_lowercase + string.digits) for _ in range(5))
        return f"{kind}-2026031803{self.seconds:04d}-{tail}"

    # -- dispatch ------------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body = json.loads(request.content) if request.content else None
        self.calls.append(
            Call(request.method, path, dict(request.url.params), body, request.headers)
        )
        route = _route(path)
        queue = self.faults.get((request.method, route))
        fault = queue.pop(0) if queue else None
        if fault == "drop_before":
            raise httpx.ConnectError("connection refused", request=request)
        if fault == "connect_timeout":
            raise httpx.ConnectTimeout("connect timed out", request=request)
        if isinstance(fault, tuple) and fault[0] == "status":
            _, code, headers, payload = fault
            return httpx.Response(code, headers=headers, json=payload)
        if path.startswith("/media/"):
            if request.url.params.get("X-Tos-Signature") != "ab+c/d":
                return httpx.Response(403, json=envelope("bad signature", "AccessDenied", "x"))
            return httpx.Response(200, content=b"\x00\x00\x00\x18ftypmp42" + b"v" * 100_000)
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {self.key}":
            return httpx.Response(
                401,
                json=envelope(
                    f"Invalid token {auth[7:]}",  # a careless server echoing the key
                    "orcarouter_api_error",
                    wire.CODE_INVALID_API_KEY,
                ),
            )
        response = self._route(request.method, route, path, request, body)
        if fault == "drop_after":
            raise httpx.RemoteProtocolError("server disconnected", request=request)
        if fault == "timeout_after":
            raise httpx.ReadTimeout("read timed out", request=request)
        return response

    def _route(
        self, method: str, route: str, path: str, request: httpx.Request, body: Any
    ) -> httpx.Response:
        tail = path.rsplit("/", 1)[-1]
        table: dict[tuple[str, str], Callable[[], httpx.Response]] = {
            ("POST", "groups"): lambda: self.create_group(body),
            ("GET", "groups"): lambda: self.list_groups(request.url.params),
            ("GET", "group"): lambda: self.get_group(tail),
            ("PATCH", "group"): lambda: self.update_group(tail, body),
            ("DELETE", "group"): lambda: self.delete_group(tail),
            ("POST", "assets"): lambda: self.create_asset(body),
            ("GET", "assets"): lambda: self.list_assets(request.url.params),
            ("GET", "asset"): lambda: self.get_asset(tail),
            ("DELETE", "asset"): lambda: self.delete_asset(tail),
            ("POST", "sessions"): lambda: self.create_session(body),
            ("GET", "session"): lambda: self.get_session(tail),
            ("POST", "videos"): lambda: self.create_task(body),
            ("GET", "video"): lambda: self.get_task(tail),
            ("GET", "models"): lambda: self._optional(self.models_reply),
            ("GET", "billing_subscription"): lambda: self._optional(
                self.billing[0] if self.billing else None
            ),
            ("GET", "billing_usage"): lambda: self._optional(
                self.billing[1] if self.billing else None
            ),
        }
        if self.alias_offered:
            table[("POST", "alias_videos")] = lambda: self.create_task(body)
            table[("GET", "alias_video")] = lambda: self.get_task(tail, alias=True)
        handler = table.get((method, route))
        if handler is None:
            return httpx.Response(
                404, json=envelope("no such route", "invalid_request_error", "not_found")
            )
        return handler()

    def _optional(self, body: Any) -> httpx.Response:
        if body is None:
            return httpx.Response(
                404, json=envelope("no such route", "invalid_request_error", "not_found")
            )
        return httpx.Response(200, json=body)

    # -- groups --------------------------------------------------------------------------------
    def create_group(self, body: Any) -> httpx.Response:
        name = body.get("Name") if isinstance(body, dict) else None
        if not name or len(name) > wire.NAME_MAX_CHARS:
            return _bad("Name is required (<= 64 chars)", "Name")
        gid = self._id("group")
        now = self._now()
        self.groups[gid] = {
            "Id": gid,
            "Name": name,
            "Description": body.get("Description", ""),
            "GroupType": "AIGC",
            "ProjectName": "default",
            "CreateTime": now,
            "UpdateTime": now,
        }
        return httpx.Response(200, json={"Id": gid})

    def list_groups(self, params: httpx.QueryParams) -> httpx.Response:
        kind = wire.GROUP_TYPE_QUERY_TO_WIRE[params.get("group_type", "real_human")]
        items = [g for g in self.groups.values() if g["GroupType"] == kind]
        if params.get("name"):
            items = [g for g in items if params["name"].lower() in g["Name"].lower()]
        return _paged(items, params)

    def get_group(self, gid: str) -> httpx.Response:
        group = self.groups.get(gid)
        return httpx.Response(200, json=group) if group else _missing(gid)

    def update_group(self, gid: str, body: Any) -> httpx.Response:
        group = self.groups.get(gid)
        if not group:
            return _missing(gid)
        group.update({k: v for k, v in body.items() if k in ("Name", "Description")})
        group["UpdateTime"] = self._now()
        return httpx.Response(200, json={"Id": gid})

    def delete_group(self, gid: str) -> httpx.Response:
        if self.groups.pop(gid, None) is None:
            return _missing(gid)
        for aid in [a for a, v in self.assets.items() if v["GroupId"] == gid]:
            del self.assets[aid]
        return httpx.Response(200, json={})

    # -- assets --------------------------------------------------------------------------------
    def create_asset(self, body: Any) -> httpx.Response:
        gid = body.get("GroupId")
        if gid not in self.groups:
            return _missing(gid)
        if body.get("AssetType") not in wire.ASSET_TYPES:
            return _bad("AssetType must be Image, Video or Audio", "AssetType")
        if len(self.assets) >= self.asset_cap:
            return httpx.Response(
                403,
                json=envelope(
                    "asset upload cap reached", "orcarouter_api_error", wire.CODE_ASSET_CAP_EXCEEDED
                ),
            )
        aid = self._id("asset")
        now = self._now()
        self.assets[aid] = {
            "Id": aid,
            "Name": body.get("Name", ""),
            "GroupId": gid,
            "AssetType": body["AssetType"],
            "Status": "Processing",
            "URL": body["URL"],
            "ProjectName": "default",
            "CreateTime": now,
            "UpdateTime": now,
            "_polls": 0,
        }
        return httpx.Response(200, json={"Id": aid})

    def _public(self, asset: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in asset.items() if not k.startswith("_")}
        out["URL"] = f"https://ark-media-asset.fake.test/{asset['Id']}?X-Tos-Expires=43200"
        return out

    def list_assets(self, params: httpx.QueryParams) -> httpx.Response:
        items = list(self.assets.values())
        if params.get("group_id"):
            items = [a for a in items if a["GroupId"] == params["group_id"]]
        else:
            kind = wire.GROUP_TYPE_QUERY_TO_WIRE[params.get("group_type", "real_human")]
            items = [a for a in items if self.groups[a["GroupId"]]["GroupType"] == kind]
        if params.get("statuses"):
            wanted = params["statuses"].split(",")
            items = [a for a in items if a["Status"] in wanted]
        if params.get("name"):
            items = [a for a in items if params["name"].lower() in a["Name"].lower()]
        return _paged([self._public(a) for a in items], params)

    def get_asset(self, aid: str) -> httpx.Response:
        asset = self.assets.get(aid)
        if not asset:
            return _missing(aid)
        asset["_polls"] += 1
        if asset["Status"] == "Processing" and asset["_polls"] > self.asset_polls:
            code = _failure_for(asset["URL"])
            if code:
                asset["Status"] = "Failed"
                asset["Error"] = {"Code": code, "Message": "Face consistency verification failed."}
            else:
                asset["Status"] = "Active"
        return httpx.Response(200, json=self._public(asset))

    def delete_asset(self, aid: str) -> httpx.Response:
        if self.assets.pop(aid, None) is None:
            return _missing(aid)
        return httpx.Response(200, json={})

    # -- sessions ------------------------------------------------------------------------------
    def create_session(self, body: Any) -> httpx.Response:
        sid = "".join(self.rng.choice(string.ascii_letters) for _ in range(wire.SESSION_ID_CHARS))
        self.sessions[sid] = {
            "session_id": sid,
            "status": "pending",
            "group_id": None,
            "body": body,
        }
        return httpx.Response(
            200,
            json={
                "session_id": sid,
                "h5_link": f"https://verify.fake.test/?session={sid}",
                "status": "pending",
            },
        )

    def get_session(self, sid: str) -> httpx.Response:
        session = self.sessions.get(sid)
        if not session:
            return _missing(sid)
        return httpx.Response(200, json={k: v for k, v in session.items() if k != "body"})

    # -- videos --------------------------------------------------------------------------------
    def create_task(self, body: Any) -> httpx.Response:
        if body.get("model") != wire.SEEDANCE_2:
            return httpx.Response(
                400,
                json=envelope(
                    "model not found", "invalid_request_error", wire.CODE_MODEL_NOT_FOUND, "model"
                ),
            )
        tid = f"task_{len(self.tasks) + 1:04d}"
        self.tasks[tid] = {"id": tid, "body": body, "polls": 0, "created_at": 1773000000}
        return httpx.Response(
            200,
            json={
                "id": tid,
                "task_id": tid,
                "object": "video",
                "model": body["model"],
                "status": "queued",
                "progress": 0,
                "created_at": 1773000000,
            },
        )

    def get_task(self, tid: str, *, alias: bool = False) -> httpx.Response:
        task = self.tasks.get(tid)
        if not task:
            if self.task_shape in ("newapi", "wrapper"):
                return httpx.Response(
                    400,
                    json={
                        "code": wire.CODE_TASK_NOT_EXIST,
                        "message": "task_not_exist",
                        "data": None,
                    },
                )
            return _missing(tid)
        task["polls"] += 1
        step = min(2, (task["polls"] - 1) // max(1, self.task_polls))
        status = ("queued", "running", self.task_outcome)[step]
        ark = ark_task(tid, status)
        if alias:
            return httpx.Response(200, json=openai_video(tid, ark, usage=self.alias_usage))
        if self.task_shape == "ark":
            return httpx.Response(200, json=ark)
        if self.task_shape == "newapi":
            return httpx.Response(200, json=newapi_wrap(tid, ark))
        if self.task_shape == "wrapper":
            return httpx.Response(200, json=newapi_wrap(tid, ark, inner=False))
        return httpx.Response(200, json=openai_video(tid, ark))


FAIL_REASON = "The request failed because the output video may be related to sensitive content."


def ark_task(tid: str, status: str) -> dict[str, Any]:
    done = status == "succeeded"
    failed = status == "failed"
    return {
        "id": "cgt-20260708094649-mxfjc",
        "task_id": tid,
        "model": "dreamina-seedance-2-0-260128",
        "status": status,
        "error": {"code": "OutputVideoSensitiveContentDetected", "message": FAIL_REASON}
        if failed
        else None,
        "created_at": 1783475210,
        "updated_at": 1783475364,
        "content": {
            "video_url": f"https://cdn.fake.test/media/{tid}.mp4?{SIGNED}",
            "last_frame_url": f"https://cdn.fake.test/media/{tid}.png",
        }
        if done
        else None,
        "seed": 11,
        "resolution": "720p",
        "ratio": "16:9",
        "duration": 5,
        "framespersecond": 24,
        "generate_audio": True,
        "usage": {"completion_tokens": 108900, "total_tokens": 108900} if done else None,
    }


def newapi_wrap(tid: str, ark: dict[str, Any], *, inner: bool = True) -> dict[str, Any]:
    """new-api's wrapper; ``inner=False`` is the documented shape (12.1): no raw Ark object."""
    internal = {
        "queued": "QUEUED",
        "running": "IN_PROGRESS",
        "succeeded": "SUCCESS",
        "failed": "FAILURE",
    }[ark["status"]]
    progress = {"QUEUED": "10%", "IN_PROGRESS": "50%", "SUCCESS": "100%", "FAILURE": "100%"}
    content = ark.get("content") or {}
    return {
        "code": "success",
        "message": "",
        "data": {
            "task_id": tid,
            "platform": "byteplus",
            "action": "generate",
            "status": internal,
            "progress": progress[internal],
            "fail_reason": (ark.get("error") or {}).get("message", ""),
            "result_url": content.get("video_url", ""),
            "submit_time": 1773000000,
            "start_time": 1773000005,
            "finish_time": 1773000120 if internal in ("SUCCESS", "FAILURE") else 0,
            "data": {k: v for k, v in ark.items() if k != "task_id"} if inner else None,
        },
    }


def openai_video(tid: str, ark: dict[str, Any], *, usage: bool = False) -> dict[str, Any]:
    status = {
        "queued": "queued",
        "running": "in_progress",
        "succeeded": "completed",
        "failed": "failed",
    }[ark["status"]]
    content = ark.get("content") or {}
    return {
        "id": tid,
        "object": "video",
        "model": "byteplus/dreamina-seedance-2-0-260128",
        "status": status,
        "progress": {"queued": 0, "in_progress": 50, "completed": 100, "failed": 100}[status],
        "created_at": 1773000000,
        "completed_at": 1773000120 if status == "completed" else None,
        "error": ark.get("error"),
        "metadata": {"url": content.get("video_url")} if content else {},
        **({"usage": ark["usage"], "seconds": str(ark["duration"])} if usage and content else {}),
    }


_FAILURES = {
    "face_mismatch": wire.ASSET_ERROR_FACE_MISMATCH,
    "unreachable": wire.ASSET_ERROR_DOWNLOAD_FAILED,
}


def _failure_for(url: str) -> str | None:
    return next((code for marker, code in _FAILURES.items() if marker in url), None)


def _route(path: str) -> str:
    rules = (
        (r"/v1/asset/groups/?$", "groups"),
        (r"/v1/asset/groups/[^/]+$", "group"),
        (r"/v1/asset/files/?$", "assets"),
        (r"/v1/asset/files/[^/]+$", "asset"),
        (r"/v1/asset/real-human/sessions/?$", "sessions"),
        (r"/v1/asset/real-human/sessions/[^/]+$", "session"),
        (r"/v1/video/generations/?$", "videos"),
        (r"/v1/video/generations/[^/]+$", "video"),
        (r"/v1/videos/?$", "alias_videos"),
        (r"/v1/videos/[^/]+$", "alias_video"),
        (r"/v1/models/?$", "models"),
        (r"/v1/dashboard/billing/subscription$", "billing_subscription"),
        (r"/v1/dashboard/billing/usage$", "billing_usage"),
        (r"/media/.*", "media"),
    )
    return next((name for pattern, name in rules if re.search(pattern, path)), path)


def _paged(items: list[dict[str, Any]], params: httpx.QueryParams) -> httpx.Response:
    items = sorted(items, key=lambda x: x["CreateTime"], reverse=params.get("sort_order") != "Asc")
    number = int(params.get("page_number", 1))
    size = int(params.get("page_size", wire.DEFAULT_PAGE_SIZE))
    page = items[(number - 1) * size : number * size]
    return httpx.Response(
        200, json={"TotalCount": len(items), "Items": page, "PageNumber": number, "PageSize": size}
    )


def _bad(message: str, param: str) -> httpx.Response:
    return httpx.Response(
        400, json=envelope(message, "invalid_request_error", wire.CODE_INVALID_PARAMETER, param)
    )


def _missing(what: Any) -> httpx.Response:
    return httpx.Response(
        404, json=envelope(f"{what} not found", "invalid_request_error", wire.CODE_NOT_FOUND)
    )
