"""The embedded OrcaRouter sandbox: a local emulator of the Seedance asset library and video API.

``SandboxServer`` serves a ``Backend`` (state + rules, SQLite, injectable clock) over loopback
HTTP; ``ensure_embedded()`` is the process-wide instance ``orca_nb.Orca()`` uses without a key;
``orca-nb sandbox --port 8765`` serves it alone.

Where the reference is silent, the sandbox chooses (each is also marked where it is decided):
any syntactically valid ``sk-orca-...`` key is its own account (keys are stored hashed); foreign
and unknown ids are the same 404; the upload cap counts an account's existing assets (Failed
ones too) and a delete frees a slot; an asset's ``URL`` is empty until it is Active; task ids are
``task_`` + 32 letters/digits and the raw Ark shape uses that id; unknown ``byteplus/*`` and
not-yet-routable models are 404 ``model_not_found``; bad ``asset://`` references are 400
``InvalidParameter`` naming ``metadata.content[i].<type>.url``; ``callback_url`` is accepted
but never called. Uploads only fetch the sandbox's own URLs and loopback servers (see
:mod:`orca_nb.sandbox.processing`); everything else fails as ``InvalidParameter.DownloadFailed``.

Section 12 of the reference, as served (tags as in ``orca_nb.wire``): the task fetch answers the
new-api wrapper with ``data.data`` null by default (DOC-other, NEWAPI; other shapes are the
``task_shape`` setting); unknown task ids in the wrapper shapes are 400 ``task_not_exist``
(NEWAPI), on ``GET /videos/{id}`` the 404 envelope (GUESS); the wrapper's ``platform`` is
``byteplus`` (GUESS); ``/models`` lists not-yet-routable models with ``"routable": false`` and
no endpoint types, and every model's ``limits`` (both fields GUESS; see
:mod:`orca_nb.sandbox.models`); the play balance, its price per token, and counting held tokens
in ``total_usage`` are GUESS (see :mod:`orca_nb.sandbox.billing`); an upload is answered before
its media is fetched (DOC); a session link lasts ``session_ttl`` (GUESS 30 min; PEER 120 s).

Hostile input (GUESS: the service's own limits are not published): a JSON body over 16 MB is 413;
nesting deeper than 64, NaN/Infinity/``1e400``, integers beyond 64 bits and invalid Unicode
(lone surrogates, bytes that are not UTF-8) are 400 naming the field (``param``), in any field;
integers given as text take ASCII digits only; request URLs must be well-formed ``http(s)``
with a host, at most 4,096 characters (``return_url`` 2,048). See
:mod:`orca_nb.sandbox.parsing` and :mod:`orca_nb.sandbox.fields`.
"""

from __future__ import annotations

from orca_nb.sandbox.app import create_app
from orca_nb.sandbox.backend import Backend
from orca_nb.sandbox.clock import ManualClock, SystemClock
from orca_nb.sandbox.config import SandboxConfig
from orca_nb.sandbox.embedded import Embedded, ensure_embedded, shutdown_embedded
from orca_nb.sandbox.errors import ErrorReply
from orca_nb.sandbox.faults import Fault, Faults
from orca_nb.sandbox.samples import Sample, sample_catalogue
from orca_nb.sandbox.server import SandboxServer

__all__ = [
    "Backend",
    "Embedded",
    "ErrorReply",
    "Fault",
    "Faults",
    "ManualClock",
    "Sample",
    "SandboxConfig",
    "SandboxServer",
    "SystemClock",
    "create_app",
    "ensure_embedded",
    "sample_catalogue",
    "shutdown_embedded",
]
