"""The sandbox's H5 verification pages (HTML). Every user-controlled value is escaped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f4f6fa;color:#1d2433}
main{max-width:34rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:12px;
box-shadow:0 2px 12px #0002}
.badge{display:inline-block;background:#fff3cd;color:#6b4e00;padding:.2rem .6rem;border-radius:6px;
font-size:.85rem}
.people{display:flex;flex-wrap:wrap;gap:.8rem;border:0;padding:0}
.person{display:flex;flex-direction:column;align-items:center;border:1px solid #ccd;padding:.4rem;
border-radius:8px;cursor:pointer}
.person img{width:96px;height:120px;object-fit:cover;border-radius:6px}
.error{color:#a00;font-weight:600}
button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem;border-radius:8px;border:0;
background:#2456d3;color:#fff;cursor:pointer}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>"
        "<p class='badge'>OrcaRouter sandbox &middot; simulated check, no camera is used</p>"
        f"{body}</main></body></html>"
    )


def verify_page(
    session: Mapping[str, Any], people: Iterable[str], *, error: str | None = None
) -> str:
    """The consent + face-scan form of a pending session, or its outcome when finished."""
    sid = escape(str(session["id"]))
    if session["status"] != "pending":
        return outcome_page(session, notice=error)
    choices = "".join(
        f"<label class='person' data-person='{escape(p)}'>"
        # relative to /sandbox/h5/<sid>: the page also works behind a notebook server's proxy
        f"<img src='people/{escape(p)}.png' alt='{escape(p)}'>"
        f"<span><input type='radio' name='choice' value='{escape(p)}' id='choice-{escape(p)}'>"
        f" {escape(p.title())}</span></label>"
        for p in people
    )
    alert = f"<p class='error' role='alert'>{escape(error)}</p>" if error else ""
    body = (
        "<h1>Verify your identity</h1>"
        "<p>This creates a real-human asset group for the person whose face is scanned.</p>"
        f"{alert}<form method='post' action='{sid}'>"
        "<p><label><input type='checkbox' name='consent' value='yes' id='consent'> "
        "I agree that my face is used to verify my identity and to create a real-human "
        "asset group.</label></p>"
        "<fieldset class='people'><legend>Who is in front of the camera?</legend>"
        f"{choices}"
        "<label class='person'><span><input type='radio' name='choice' value='two_faces'"
        " id='choice-two_faces'> Two people in frame</span></label>"
        "<label class='person'><span><input type='radio' name='choice' value='no_face'"
        " id='choice-no_face'> Camera covered (no face)</span></label>"
        "</fieldset><button type='submit' id='scan'>Start face scan</button></form>"
    )
    return _page("Real-human verification (sandbox)", body)


def outcome_page(session: Mapping[str, Any], *, notice: str | None = None) -> str:
    """The built-in completion page (used when the session has no ``return_url``)."""
    status = str(session["status"])
    rows = [("Status", status), ("Session", str(session["id"]))]
    if session.get("group_id"):
        rows.append(("Group", str(session["group_id"])))
    if session.get("error_message"):
        rows.append(("Reason", str(session["error_message"])))
    table = "".join(
        f"<tr><th>{escape(k)}</th><td id='result-{escape(k.lower())}'>{escape(v)}</td></tr>"
        for k, v in rows
    )
    headline = {
        "success": "Verification complete",
        "failed": "Verification rejected",
        "expired": "This verification link has expired",
    }.get(status, "Verification pending")
    alert = f"<p class='error' role='alert'>{escape(notice)}</p>" if notice else ""
    return _page(
        headline,
        f"<h1 id='headline'>{escape(headline)}</h1>{alert}<table>{table}</table>"
        "<p>You can close this page and return to your notebook.</p>",
    )


def message_page(title: str, message: str) -> str:
    """A plain page for errors such as an unknown session."""
    return _page(
        title, f"<h1>{escape(title)}</h1><p class='error' role='alert'>{escape(message)}</p>"
    )
