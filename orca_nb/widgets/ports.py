"""The client the widgets receive, typed: exactly the calls they make, as a Protocol.

:class:`StudioClient` names what :class:`~orca_nb.widgets.gateway.Gateway` calls, the few
properties the states read, and ``blocking()`` (the Sweep tab's workers need a blocking twin).
``orca_nb.client.AsyncOrca`` satisfies it (mypy checks that below), and so does the widgets'
in-memory test fake; anything else passed as a widget's client is found out by the type
checker, not by a probe at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from orca_nb import wire
from orca_nb.client import models as m
from orca_nb.client.hooks import VideoLedger

if TYPE_CHECKING:
    from orca_nb.client import AsyncOrca, Orca


class GroupCalls(Protocol):
    """``client.groups`` as the widgets call it."""

    async def list(
        self,
        *,
        group_type: wire.GroupTypeQuery | None = ...,
        page_number: int = ...,
        page_size: int = ...,
    ) -> m.Page[m.Group]:
        """One page of groups of one type."""
        ...

    async def create(self, *, name: str, description: str | None = ...) -> m.Created:
        """Create a virtual (AIGC) group."""
        ...

    async def get(self, group_id: str) -> m.Group:
        """One group."""
        ...

    async def update(
        self, group_id: str, *, name: str | None = ..., description: str | None = ...
    ) -> object:
        """Rename / re-describe a group."""
        ...

    async def delete(self, group_id: str) -> None:
        """Delete a group (and its assets)."""
        ...


class AssetCalls(Protocol):
    """``client.assets`` as the widgets call it."""

    async def list(
        self,
        *,
        group_type: wire.GroupTypeQuery | None = ...,
        group_id: str | None = ...,
        statuses: list[str] | None = ...,
        page_number: int = ...,
        page_size: int = ...,
    ) -> m.Page[m.Asset]:
        """One page of assets of one group type."""
        ...

    async def get(self, asset_id: str) -> m.Asset:
        """One asset."""
        ...

    async def upload(
        self, *, group_id: str, url: str, asset_type: wire.AssetType, name: str | None = ...
    ) -> m.Created:
        """Register media by URL into a group."""
        ...

    async def delete(self, asset_id: str) -> None:
        """Delete one asset."""
        ...


class RealHumanCalls(Protocol):
    """``client.real_human`` as the widgets call it."""

    async def start_session(self) -> m.Session:
        """Start a verification session."""
        ...

    async def get_session(self, session_id: str) -> m.Session:
        """A session's status."""
        ...


class VideoCalls(Protocol):
    """``client.videos`` as the widgets call it."""

    async def create(self, *, request: Mapping[str, Any] | None = ...) -> m.VideoTask:
        """Submit a full request body."""
        ...

    async def get(self, task_id: str) -> m.VideoTask:
        """A task's current state."""
        ...


class ModelCalls(Protocol):
    """``client.models`` as the widgets call it."""

    async def offer(self) -> list[m.VideoModel]:
        """The models to offer (the built-in table when the service lists none)."""
        ...


class BillingCalls(Protocol):
    """``client.billing`` as the widgets call it."""

    async def balance(self) -> m.Balance | None:
        """What is left; None when the service does not say."""
        ...


class StudioClient(Protocol):
    """The client surface the widgets use (``AsyncOrca`` has it)."""

    @property
    def groups(self) -> GroupCalls:
        """Asset groups."""
        ...

    @property
    def assets(self) -> AssetCalls:
        """Assets."""
        ...

    @property
    def real_human(self) -> RealHumanCalls:
        """Real-human verification sessions."""
        ...

    @property
    def videos(self) -> VideoCalls:
        """Video tasks."""
        ...

    @property
    def models(self) -> ModelCalls:
        """Model discovery."""
        ...

    @property
    def billing(self) -> BillingCalls:
        """The account's balance."""
        ...

    @property
    def is_sandbox(self) -> bool:
        """True when talking to a sandbox."""
        ...

    @property
    def base_url(self) -> str:
        """The API root (``.../v1``)."""
        ...

    @property
    def key_label(self) -> str:
        """A non-reversible label of the key."""
        ...

    @property
    def ledger_service(self) -> str:
        """The service name the usage ledger records and reads this client's runs by (the
        base URL, or ``sandbox:local`` for a sandbox on this machine)."""
        ...

    @property
    def ledger(self) -> VideoLedger | None:
        """Where video submissions are recorded (None: nowhere)."""
        ...

    def blocking(self) -> Orca:
        """A blocking twin (same key, URL and ledger): the Sweep tab's experiment workers."""
        ...


if TYPE_CHECKING:

    def _async_orca_is_a_studio_client(client: AsyncOrca) -> StudioClient:
        return client  # mypy fails here if AsyncOrca stops offering a call the widgets make
