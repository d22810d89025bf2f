"""Asset groups (``/asset/groups``): the AIGC groups users make and the real-human groups the
H5 verification makes, as part of the :class:`~orca_nb.sandbox.backend.Backend`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orca_nb import wire
from orca_nb.sandbox import shapes
from orca_nb.sandbox.backend_state import BackendState
from orca_nb.sandbox.db import Row, Tx
from orca_nb.sandbox.errors import ErrorReply, not_found
from orca_nb.sandbox.fields import (
    description_field,
    group_type_param,
    json_object,
    name_field,
    paging_params,
    sort_param,
)

if TYPE_CHECKING:
    from collections.abc import Mapping


class Groups(BackendState):
    """Backend methods for groups (mixed into ``Backend``)."""

    def create_group(self, account: str, body: object) -> dict[str, Any]:
        """``POST /asset/groups``: a new AIGC group -> ``{"Id"}``."""
        body = json_object(body)
        name = name_field(body, required=True) or ""
        description = description_field(body)
        with self.db.tx() as db:
            gid = self.insert_group(db, account, name, description, "AIGC")
        return {"Id": gid}

    def insert_group(
        self,
        db: Tx,
        account: str,
        name: str,
        description: str,
        group_type: str,
        person: str | None = None,
    ) -> str:
        """Store a group (inside a transaction) and return its id."""
        now = self.now()
        gid = self._new_id(db, "group", "groups", now)
        verification = "active" if group_type == "LivenessFace" else ""
        db.insert_group(gid, account, name, description, group_type, person, verification, now)
        return gid

    def list_groups(self, account: str, query: Mapping[str, str]) -> dict[str, Any]:
        """``GET /asset/groups`` with group_type (default real_human), name, paging, sorting."""
        group_type = group_type_param(query)
        page_number, page_size = paging_params(query)
        sort = sort_param(query, wire.GROUP_SORT_BY)
        offset = (page_number - 1) * page_size
        with self.db.tx() as db:
            total, rows = db.group_page(
                account, group_type, query.get("name"), sort, page_size, offset
            )
        return {
            "TotalCount": total,
            "Items": [shapes.group_view(r) for r in rows],
            "PageNumber": page_number,
            "PageSize": page_size,
        }

    def get_group(self, account: str, group_id: str) -> dict[str, Any]:
        """``GET /asset/groups/{id}``."""
        with self.db.tx() as db:
            return shapes.group_view(self._group(db, account, group_id))

    def update_group(self, account: str, group_id: str, body: object) -> dict[str, Any]:
        """``PATCH /asset/groups/{id}`` with ``Name`` and/or ``Description`` -> ``{"Id"}``."""
        body = json_object(body)
        name = name_field(body, required=False)
        description = description_field(body) if "Description" in body else None
        with self.db.tx() as db:
            self._group(db, account, group_id)
            db.update_group(group_id, name=name, description=description, now=self.now())
        return {"Id": group_id}

    def delete_group(self, account: str, group_id: str) -> dict[str, Any]:
        """``DELETE /asset/groups/{id}``: cascades to its assets; active real-human groups: 403."""
        with self.db.tx() as db:
            row = self._group(db, account, group_id)
            if row["group_type"] == "LivenessFace" and row["verification"] == "active":
                raise ErrorReply(
                    403,
                    wire.CODE_LIVENESS_GROUP_ACTIVE,
                    "An active real-human (LivenessFace) group cannot be deleted while its "
                    "verification is valid.",
                    "group_id",
                )
            db.delete_group(group_id)
        return {}

    def revoke_verification(self, account: str, group_id: str) -> None:
        """Mark a real-human group's verification expired (then it can be deleted)."""
        with self.db.tx() as db:
            self._group(db, account, group_id)
            db.set_verification(group_id, "expired")

    def _group(self, db: Tx, account: str, group_id: str, param: str = "group_id") -> Row:
        """The account's group, or the 404 naming ``param``."""
        row = db.group(account, group_id)
        if row is None:
            raise not_found("group", group_id, param)
        return row
