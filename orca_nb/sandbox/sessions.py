"""Real-human verification sessions (``/asset/real-human/sessions``) and the H5 page's
actions, as part of the :class:`~orca_nb.sandbox.backend.Backend`. A session that succeeds
makes the verified person's real-human group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from orca_nb import wire
from orca_nb.sandbox import shapes
from orca_nb.sandbox.db import Row, Tx
from orca_nb.sandbox.errors import ErrorReply, bad_request, not_found
from orca_nb.sandbox.fields import http_url, json_object
from orca_nb.sandbox.groups import Groups

H5_PREFIX = "/sandbox/h5/"
RETURN_URL_MAX_CHARS = 2048
#: H5 choices that fail the face check (the others are sample people's names).
H5_FAILURES: dict[str, tuple[str, str]] = {
    "two_faces": (wire.ASSET_ERROR_MULTIPLE_FACES, "Two faces were in the frame; show one person."),
    "no_face": (wire.ASSET_ERROR_NO_FACE, "No face was detected; look into the camera."),
}


@dataclass(frozen=True)
class H5Result:
    """The outcome of an H5 page action: the session's status and where the browser goes."""

    status: str
    session_id: str
    group_id: str | None
    redirect: str | None
    message: str = ""


class Sessions(Groups):
    """Backend methods for verification sessions (mixed into ``Backend``)."""

    def start_session(self, account: str, body: object, root: str) -> dict[str, Any]:
        """``POST /asset/real-human/sessions`` -> ``{session_id, h5_link, status}``."""
        body = {} if body is None else json_object(body)
        return_url = body.get("return_url")
        if return_url is not None:
            http_url(return_url, "return_url", max_chars=RETURN_URL_MAX_CHARS)
        extra = {k: v for k, v in body.items() if k != "return_url"}
        now = self.now()
        with self.db.tx() as db:
            sid = self._new_token(db, "sessions", "", wire.SESSION_ID_CHARS)
            db.insert_session(sid, account, return_url, extra, now, now + self.config.session_ttl)
        return {"session_id": sid, "h5_link": self.h5_link(root, sid), "status": "pending"}

    def h5_link(self, root: str, session_id: str) -> str:
        """The page a person opens to verify."""
        return f"{root}{H5_PREFIX}{session_id}"

    def get_session(self, account: str, session_id: str, root: str) -> dict[str, Any]:
        """``GET /asset/real-human/sessions/{id}``: status pending|success|failed|expired."""
        with self.db.tx() as db:
            row = self._session(db, session_id, account)
        return shapes.session_view(row, self.h5_link(root, session_id))

    def _session(self, db: Tx, session_id: str, account: str | None) -> Row:
        row = db.session(session_id)
        if row is None or (account is not None and row["account"] != account):
            raise not_found("session", session_id, "session_id")
        if row["status"] == "pending" and self.now() > row["expires"]:
            db.expire_session(session_id)
            row = db.session(session_id)
            assert row is not None
        return row

    def h5_session(self, session_id: str) -> dict[str, Any]:
        """What the H5 page shows: status, group, error (404 for unknown sessions)."""
        with self.db.tx() as db:
            row = self._session(db, session_id, None)
        return dict(row)

    def h5_complete(self, session_id: str, root: str, *, consent: bool, choice: str) -> H5Result:
        """The person's action on the H5 page: ``choice`` is a sample person (the face shown to
        the camera), ``"two_faces"`` or ``"no_face"``. Sessions are single use."""
        from orca_nb.sandbox.faces import PEOPLE

        with self.db.tx() as db:
            row = self._session(db, session_id, None)
            if row["status"] != "pending":
                raise ErrorReply(
                    409,
                    "SessionNotPending",
                    f"This verification session is already {row['status']}; start a new one.",
                    "session_id",
                )
            if not consent:
                raise bad_request("Please tick the consent box to continue.", "consent")
            now = self.now()
            if choice in H5_FAILURES:
                code, message = H5_FAILURES[choice]
                db.fail_session(session_id, code, message, now)
                status, group_id = "failed", None
            elif choice in PEOPLE:
                group_id = self.insert_group(
                    db,
                    row["account"],
                    f"{choice} (verified)",
                    "Real-human group verified on the sandbox H5 page.",
                    "LivenessFace",
                    person=choice,
                )
                db.succeed_session(session_id, group_id, choice, now)
                status, message = "success", ""
            else:
                raise bad_request(f"Unknown choice {choice!r}.", "choice")
        params = {"status": status, "session_id": session_id, "group_id": group_id or ""}
        target = row["return_url"] or f"{root}{H5_PREFIX}{session_id}/done"
        if row["return_url"]:
            target += ("&" if "?" in target else "?") + urlencode(params)
        return H5Result(status, session_id, group_id, target, message)
