"""The OrcaRouter client: ``Orca`` (blocking) and ``AsyncOrca`` (asyncio).

::

    from orca_nb.client import Orca
    with Orca() as client:                      # no key: the embedded sandbox
        gid = client.groups.create(name="hero").id
        aid = client.assets.upload(group_id=gid, url=URL, asset_type="Image", name="front").id
        asset = client.assets.wait(aid)          # Active, or AssetFailedError with advice
        task = client.videos.create(prompt="[Image 1] waves", content=[...])
        task = client.videos.wait(task.id, on_progress=print)
        client.videos.download(task, "out.mp4")

Retry and duplicate guarantees per call: the table in README.md; the retry policy itself is
:mod:`orca_nb.client.retries`.
Usage ledger: every video submission is recorded before it is sent, in the default ledger
unless ``ledger=`` says otherwise; see :mod:`orca_nb.client.default_ledger`.
Errors: see :mod:`orca_nb.client.errors`.
"""

from __future__ import annotations

from orca_nb.client._clients import AsyncOrca, Orca
from orca_nb.client._resources_async import AsyncPage
from orca_nb.client._resources_sync import SyncPage
from orca_nb.client.defaults import NOT_GIVEN, NotGiven
from orca_nb.client.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AssetFailedError,
    AssetQuotaExceededError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InsufficientBalanceError,
    NotFoundError,
    OrcaError,
    OutcomeUnknownError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
    WaitTimeoutError,
)
from orca_nb.client.hooks import VideoLedger, key_label
from orca_nb.client.models import (
    Asset,
    AssetError,
    Balance,
    Created,
    Group,
    Page,
    Session,
    TaskError,
    TaskUsage,
    VideoModel,
    VideoTask,
)

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "Asset",
    "AssetError",
    "AssetFailedError",
    "AssetQuotaExceededError",
    "AsyncOrca",
    "AsyncPage",
    "AuthenticationError",
    "BadRequestError",
    "Balance",
    "ConflictError",
    "Created",
    "Group",
    "InsufficientBalanceError",
    "NotFoundError",
    "NotGiven",
    "Orca",
    "OrcaError",
    "OutcomeUnknownError",
    "Page",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "Session",
    "SyncPage",
    "TaskError",
    "TaskUsage",
    "ValidationError",
    "VideoLedger",
    "VideoModel",
    "VideoTask",
    "WaitTimeoutError",
    "key_label",
]
