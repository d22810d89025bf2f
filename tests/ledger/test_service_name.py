"""The ledger's service name across kernels: the embedded sandbox listens on a new loopback port
in every process, yet its runs are recorded (and read back, reattached) as ``sandbox:local``;
rows earlier versions wrote with the sandbox's loopback URL are still found by that name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orca_nb import wire
from orca_nb.client import AsyncOrca, Orca
from orca_nb.ledger import Ledger, open_ledger, reattach
from orca_nb.ledger.service import SANDBOX_SERVICE, service_condition
from orca_nb.sandbox import Backend, SandboxServer

REPO = Path(__file__).resolve().parents[2]
BODY = {"model": wire.SEEDANCE_2, "prompt": "a lighthouse at dusk", "metadata": {}}
PROMPT = "a lighthouse at dusk"

#: How rows written before ``sandbox:local`` name a sandbox on this machine.
LEGACY_LOOPBACK = (
    "http://127.0.0.1:41234/v1",
    "http://127.0.0.1:50001/v1",
    "http://localhost:8000/v1",
    "http://localhost",
    "http://[::1]:9/v1",
    "https://127.0.0.1/v1",
)
#: Services that are not a sandbox on this machine.
ELSEWHERE = (
    "https://api.orcarouter.ai/v1",
    "http://192.168.1.5:8000/v1",
    "http://localhost.example.com/v1",
    "https://sandbox.example.test/v1",
)


def _submit(ledger: Ledger, base_url: str, n: int, *, who: str = "key-1") -> str:
    sid = ledger.before_submit(BODY, submitter=who, base_url=base_url)
    ledger.after_submit(sid, {"id": f"task-{n}", "status": "queued"})
    return sid


def test_rows_with_a_loopback_url_are_found_by_the_sandbox_name(ledger: Ledger) -> None:
    """Old rows keep their URL as written; ``sandbox:local`` finds them and the new rows,
    nothing else; any other service name matches itself only."""
    services = [SANDBOX_SERVICE, *LEGACY_LOOPBACK, *ELSEWHERE]
    by_task = {f"task-{n}": url for n, url in enumerate(services)}
    for n, url in enumerate(services):
        _submit(ledger, url, n)
    _submit(ledger, SANDBOX_SERVICE, 99, who="key-2")  # another key's sandbox run
    unknown = ledger.before_submit(BODY, submitter="key-1", base_url=LEGACY_LOOPBACK[0])
    ledger.submit_unknown(unknown, code=None, message="the reply was lost")

    def tasks(**narrow: str) -> set[str]:
        return {u.task_id for u in ledger.unfinished(**narrow)}

    sandbox = {t for t, url in by_task.items() if url in (SANDBOX_SERVICE, *LEGACY_LOOPBACK)}
    assert tasks(submitter="key-1", base_url=SANDBOX_SERVICE) == sandbox
    assert tasks(base_url=SANDBOX_SERVICE) == sandbox | {"task-99"}
    for task_id, url in by_task.items():
        if url != SANDBOX_SERVICE:
            assert tasks(submitter="key-1", base_url=url) == {task_id}, url
    history = ledger.history(submitter="key-1", base_url=SANDBOX_SERVICE, limit=100)
    assert {r["task_id"] for r in history} == sandbox | {None}  # the unknown row too
    unsettled = ledger.unsettled(submitter="key-1", base_url=SANDBOX_SERVICE)
    assert [r["submission_id"] for r in unsettled] == [unknown]
    assert ledger.unsettled(submitter="key-1", base_url=ELSEWHERE[0]) == []
    _, rows = ledger.database.query("SELECT DISTINCT base_url FROM submissions")
    assert {r[0] for r in rows} == set(services)  # read by name; nothing was rewritten


def test_service_condition_names_one_column() -> None:
    assert service_condition("s.base_url", "https://api.orcarouter.ai/v1") == (
        "s.base_url = ?",
        ["https://api.orcarouter.ai/v1"],
    )
    sql, params = service_condition("s.base_url", SANDBOX_SERVICE)
    assert sql.count("?") == len(params)
    assert SANDBOX_SERVICE in params
    alternatives = sql.removeprefix("(").removesuffix(")").split(" OR ")
    assert len(alternatives) > 1
    assert all(a.startswith("s.base_url ") for a in alternatives)  # the column as given


@pytest.mark.parametrize("first_kind", ["sync", "async"])
async def test_a_new_kernel_on_a_new_port_reattaches_to_the_earlier_kernels_task(
    first_kind: str,
    sandbox_server: SandboxServer,
    sandbox_backend: Backend,
    sandbox_key: str,
    tmp_path: Path,
) -> None:
    """Two kernels, two loopback ports of the same sandbox: both record ``sandbox:local``, and
    the second finds and follows the task the first left unfinished by its own name."""
    sandbox_backend.configure(processing="manual")  # tasks wait for backend.step()
    path = tmp_path / "ledger.sqlite3"
    with open_ledger(path) as ledger:  # kernel 1 submits, then ends
        if first_kind == "sync":
            with Orca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger) as first:
                earlier = first.videos.create(prompt=PROMPT, duration=4, resolution="480p").id
                first_service = first.ledger_service
        else:
            async with AsyncOrca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger) as a:
                earlier = (await a.videos.create(prompt=PROMPT, duration=4, resolution="480p")).id
                first_service = a.ledger_service
    with (
        SandboxServer(sandbox_server.backend) as moved,  # kernel 2: the same sandbox, new port
        open_ledger(path) as ledger,
        Orca(sandbox_key, base_url=moved.base_url, ledger=ledger) as client,
    ):
        assert moved.base_url != sandbox_server.base_url
        assert client.ledger_service == first_service == SANDBOX_SERVICE
        assert ledger.unfinished(base_url=moved.base_url) == []  # the port alone finds nothing
        who, service = client.key_label, client.ledger_service
        found = reattach(client, ledger, wait=False, submitter=who, base_url=service)
        assert found == {earlier: "queued"}
        later = client.videos.create(prompt=PROMPT, duration=4, resolution="480p").id
        statuses = reattach(
            client,
            ledger,
            submitter=who,
            base_url=service,
            interval=0.5,
            timeout=60,
            sleep=lambda _s: sandbox_backend.step(),
        )
        assert statuses == {earlier: "succeeded", later: "succeeded"}
        _, rows = ledger.database.query("SELECT task_id, base_url FROM submissions")
        assert sorted(tuple(r) for r in rows) == sorted(
            [(earlier, SANDBOX_SERVICE), (later, SANDBOX_SERVICE)]
        )


KERNEL = """
import json, sys
from orca_nb import Orca
from orca_nb.ledger import open_ledger, reattach

ledger = open_ledger(sys.argv[1])
with Orca(ledger=ledger, max_retries=0) as client:  # no key: the embedded sandbox
    found = reattach(client, ledger, wait=False, submitter=client.key_label,
                     base_url=client.ledger_service)
    task = client.videos.create(prompt="a harbour at night", duration=4, resolution="480p")
    print(json.dumps({"base_url": client.base_url, "service": client.ledger_service,
                      "found": found, "task": task.id}))
"""


def test_two_embedded_sandbox_kernels_record_one_service(tmp_path: Path) -> None:
    """Two processes, each with its own embedded sandbox (one sandbox database): the second
    listens on another port, records the same service and reattaches the first one's task."""
    env = {k: v for k, v in os.environ.items() if k != wire.API_KEY_ENV}
    env.pop(wire.BASE_URL_ENV, None)
    env.update(
        PYTHONPATH=str(REPO),
        HOME=str(tmp_path),
        ORCA_NB_SANDBOX_DB=str(tmp_path / "sandbox.sqlite3"),
    )
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    kernels = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(KERNEL), url],
            capture_output=True, text=True, timeout=180, env=env, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        kernels.append(json.loads(done.stdout.strip().splitlines()[-1]))
    first, second = kernels
    assert first["base_url"] != second["base_url"]  # a new port in every process
    assert first["service"] == second["service"] == SANDBOX_SERVICE
    assert first["found"] == {}
    assert list(second["found"]) == [first["task"]]
    assert not second["found"][first["task"]].startswith("error")  # the new port knows it
    with open_ledger(url) as ledger:
        _, rows = ledger.database.query("SELECT task_id, base_url FROM submissions")
        assert sorted(tuple(r) for r in rows) == sorted(
            [(first["task"], SANDBOX_SERVICE), (second["task"], SANDBOX_SERVICE)]
        )
