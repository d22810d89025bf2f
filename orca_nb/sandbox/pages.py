"""The sandbox's own pages: index, health, public samples, signed downloads, H5 verification."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from orca_nb import wire
from orca_nb.sandbox import h5
from orca_nb.sandbox.errors import ErrorReply
from orca_nb.sandbox.parsing import (
    API_PREFIX,
    backend_of,
    path_param,
    query_dict,
    read_body,
    root_url,
)

H5_FORM_MAX_BYTES = 65_536  # the H5 form holds two short fields


def page_routes() -> list[Route]:
    """Routes of the sandbox's own pages (no API key needed)."""
    return [
        Route("/", _index, methods=["GET"]),
        Route("/sandbox", _index, methods=["GET"]),
        Route("/healthz", _health, methods=["GET"]),
        Route("/sandbox/samples/{filename}", _sample, methods=["GET"]),
        Route("/sandbox/files/{blob_id}", _file, methods=["GET"]),
        Route("/sandbox/h5/people/{person}.png", _person_picture, methods=["GET"]),
        Route("/sandbox/h5/{session_id}", _h5_page, methods=["GET"]),
        Route("/sandbox/h5/{session_id}", _h5_submit, methods=["POST"]),
        Route("/sandbox/h5/{session_id}/done", _h5_done, methods=["GET"]),
    ]


async def _index(request: Request) -> Response:
    root = root_url(request)
    return JSONResponse(
        {
            "service": "orca_nb sandbox (a local OrcaRouter emulator)",
            "base_url": root + API_PREFIX,
            "demo_api_key": wire.DEFAULT_SANDBOX_KEY,
            "samples": root + "/sandbox/samples/",
        }
    )


async def _health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _sample(request: Request) -> Response:
    from orca_nb.sandbox.samples import SAMPLES, media_type, sample_bytes

    filename = path_param(request, "filename")
    if filename not in SAMPLES:
        raise ErrorReply(404, wire.CODE_NOT_FOUND, f"no sample named {filename!r}", "filename")
    data = await run_in_threadpool(sample_bytes, filename)
    return Response(data, media_type=media_type(filename))


async def _file(request: Request) -> Response:
    backend = backend_of(request)
    data, media_type = await run_in_threadpool(
        backend.open_file, request.url.path, query_dict(request)
    )
    return byte_range_response(data, media_type, request.headers.get("range"))


def byte_range_response(data: bytes, media_type: str, range_header: str | None) -> Response:
    """The whole file, or one ``Range: bytes=a-b`` slice of it (browsers seek videos so)."""
    headers = {"Accept-Ranges": "bytes"}
    size = len(data)
    if range_header and range_header.startswith("bytes=") and "," not in range_header:
        first, _, last = range_header[len("bytes=") :].strip().partition("-")
        try:
            if first:
                start, end = int(first), int(last) if last else size - 1
            else:
                start, end = max(0, size - int(last)), size - 1
        except ValueError:
            start, end = 0, -1
        end = min(end, size - 1)
        if 0 <= start <= end:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            return Response(data[start : end + 1], 206, headers, media_type=media_type)
        headers["Content-Range"] = f"bytes */{size}"
        return Response(b"", 416, headers)
    return Response(data, media_type=media_type, headers=headers)


@lru_cache(maxsize=32)
def _picture(person: str) -> bytes:
    from orca_nb.sandbox.synth import image_bytes

    return image_bytes(240, 300, fmt="png", faces=[person])


async def _person_picture(request: Request) -> Response:
    from orca_nb.sandbox.faces import PEOPLE

    person = path_param(request, "person")
    if person not in PEOPLE:
        raise ErrorReply(404, wire.CODE_NOT_FOUND, f"no sample person {person!r}", "person")
    return Response(await run_in_threadpool(_picture, person), media_type="image/png")


def _unknown_link() -> HTMLResponse:
    return HTMLResponse(
        h5.message_page("Unknown verification link", "This link is not valid."), 404
    )


async def _h5_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    from orca_nb.sandbox.faces import PEOPLE

    backend = backend_of(request)
    try:
        session = await run_in_threadpool(backend.h5_session, path_param(request, "session_id"))
    except ErrorReply:
        return _unknown_link()
    return HTMLResponse(h5.verify_page(session, list(PEOPLE), error=error), status)


async def _h5_submit(request: Request) -> Response:
    backend = backend_of(request)
    try:
        raw = (await read_body(request, H5_FORM_MAX_BYTES)).decode("utf-8", "replace")
    except ErrorReply as exc:
        return HTMLResponse(h5.message_page("Form too large", exc.message), exc.status)
    form = {k: v[0] for k, v in parse_qs(raw).items()}
    try:
        result = await run_in_threadpool(
            lambda: backend.h5_complete(
                path_param(request, "session_id"),
                root_url(request),
                consent=form.get("consent") == "yes",
                choice=form.get("choice", ""),
            )
        )
    except ErrorReply as exc:
        if exc.status == 404:
            return _unknown_link()
        return await _h5_page(request, error=exc.message, status=exc.status)
    return RedirectResponse(result.redirect or "/", status_code=303)


async def _h5_done(request: Request) -> Response:
    backend = backend_of(request)
    try:
        session = await run_in_threadpool(backend.h5_session, path_param(request, "session_id"))
    except ErrorReply:
        return _unknown_link()
    return HTMLResponse(h5.outcome_page(session))
