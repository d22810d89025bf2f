"""No key, H5 link or signed-link signature in any log line, repr, error message or ledger row.

One realistic run through the client on the loopback sandbox, with every logger at DEBUG
captured: a verification started and completed, a group and an asset (signed download URL), a
video created, waited for and downloaded (signed URL fetched), a download refused for a bad
signature, and a video create whose reply is lost (its ledger row and error). Then the captured
log text, the reprs and strs of everything the client returned or raised, and the ledger's
database files (main file and WAL) are scanned for the secrets seen along the way.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from orca_nb import wire
from orca_nb.client import Orca
from orca_nb.client.errors import APIError, OutcomeUnknownError
from orca_nb.ledger import open_ledger
from orca_nb.sandbox import Backend, Fault, SandboxServer

SIGNED = re.compile(r"X-Tos-Signature=(?!redacted)[0-9A-Za-z]+")


def _signature(url: str | None) -> str:
    assert url, "expected a signed URL"
    [value] = parse_qs(urlsplit(url).query)["X-Tos-Signature"]
    return value


def test_no_secret_in_logs_reprs_errors_or_ledger(
    sandbox_server: SandboxServer,
    sandbox_backend: Backend,
    sandbox_key: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    ledger_path = tmp_path / "ledger.sqlite3"
    shown: list[Any] = []  # everything a user might print
    secrets: set[str] = {sandbox_key}
    with (
        open_ledger(ledger_path) as ledger,
        Orca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger) as client,
    ):
        session = client.real_human.start_session()
        assert session.h5_link
        secrets.add(session.h5_link)
        sandbox_backend.h5_complete(
            session.session_id, sandbox_server.root_url, consent=True, choice="ada"
        )
        done = client.real_human.get_session(session.session_id)
        assert done.status == "success"
        shown += [session, done, repr(session), str(session)]
        assert session.h5_link not in repr(session) + str(session)

        group = client.groups.create(name="leaks")
        sample = f"{sandbox_server.root_url}/sandbox/samples/ada_portrait.jpg"
        asset = client.assets.wait(
            client.assets.upload(group_id=group.id, url=sample, asset_type="Image", name="a").id
        )
        secrets.add(_signature(asset.url))
        page = client.assets.list(group_id=group.id)
        shown += [group, asset, page, page.items]

        content = [{"type": "image_url", "image_url": {"url": f"asset://{asset.id}"},
                    "role": "reference_image"}]  # fmt: skip
        task = client.videos.wait(
            client.videos.create(prompt="[Image 1] waves", content=content, duration=4,
                                 resolution="480p").id,
            timeout=60,
        )  # fmt: skip
        secrets.add(_signature(task.video_url))
        client.videos.download(task, tmp_path / "out.mp4")
        assert (tmp_path / "out.mp4").stat().st_size > 0
        shown += [task]

        forged = task.video_url.replace(_signature(task.video_url), "0" * 64)  # type: ignore[union-attr]
        with pytest.raises(APIError) as refused:
            client.videos.download(forged, tmp_path / "forged.mp4")
        sandbox_backend.faults.add("POST " + wire.VIDEOS_PATH, Fault.drop_after())
        with pytest.raises(OutcomeUnknownError) as lost:
            client.videos.create(prompt="[Image 1] again", content=content, duration=4)
        shown += [refused.value, lost.value, repr(refused.value), repr(lost.value)]

    logs = "\n".join(r.getMessage() + (caplog.text if r.exc_info else "") for r in caplog.records)
    assert "HTTP Request" in logs  # httpx's request lines were captured...
    assert "X-Tos-Signature=redacted" in logs  # ...including the signed download, scrubbed
    texts = {"logs": logs, "shown": "\n".join(f"{x!r}\n{x}" for x in shown)}
    for suffix in ("", "-wal"):
        path = Path(f"{ledger_path}{suffix}")
        if path.exists():
            texts[f"ledger{suffix}"] = path.read_bytes().decode("utf-8", "replace")
    assert "ledger" in texts
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret ({secret[:12]}...) is in the {where}"
        assert not SIGNED.search(text), f"a signed link's signature is in the {where}"
        assert "/sandbox/h5/" not in text, f"an H5 link is in the {where}"
