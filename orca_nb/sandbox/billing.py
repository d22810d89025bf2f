"""The sandbox's play balance: what video tasks cost, what is held, what is left.

Each account has a balance in USD (``SandboxConfig.play_balance_usd``, or its own figure set with
:meth:`Backend.set_balance` / ``POST /sandbox/admin/balance``). Money follows the documented rule
(DOC billing, section 12.4 of the reference): a submitted task **holds** the tokens of its
declared duration, a succeeded task **settles** to the tokens it reports, a failed task is
**refunded** in full, and a submit whose hold exceeds what is left is refused with new-api's 403
``insufficient_user_quota`` (NEWAPI, 12.3) before anything is created.

Tokens use the one rule of :func:`orca_nb.compose.cost.estimate_tokens` (section 12.4: output
frames = fps x s + 1, reference-video seconds count). The price per token is a GUESS, in one
place: ``SandboxConfig.usd_per_million_tokens``.

Spend is derived from the task rows (no running total that could drift): settled tokens of
succeeded tasks plus held tokens of unfinished ones, at the current price.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orca_nb import wire
from orca_nb.compose.cost import estimate_tokens
from orca_nb.sandbox.config import SandboxConfig
from orca_nb.sandbox.db import Tx
from orca_nb.sandbox.errors import ErrorReply

#: ``access_until`` of the play balance: 0 = never expires (NEWAPI: a key without expiry).
ACCESS_UNTIL_NEVER = 0


def task_tokens(
    params: Mapping[str, Any], *, ratio: str | None = None, input_seconds: Mapping[str, float] = {}
) -> int:
    """Tokens a task bills by the section 12.4 rule. ``params`` is a stored task's request
    (``VideoRequest.to_json()``); ``ratio`` the output ratio when known (``adaptive`` is
    otherwise counted at 16:9); ``input_seconds`` lengths of reference videos by URL, for those
    the request does not know (non-asset URLs: the render measures them)."""
    refs = params.get("refs", [])
    seconds = {ref["url"]: ref["seconds"] for ref in refs if ref.get("seconds") is not None}
    seconds.update(input_seconds)
    body = {
        "model": params["model"],
        "metadata": {
            "resolution": params["resolution"],
            "ratio": ratio or params["ratio"],
            "duration": params["duration"],
            "content": [
                {"type": "video_url", "video_url": {"url": ref["url"]}, "role": ref["role"]}
                for ref in refs
                if ref["kind"] == "video"
            ],
        },
    }
    return estimate_tokens(body, media_seconds=seconds).tokens


def usd(tokens: int | float, config: SandboxConfig) -> float:
    """What ``tokens`` cost at the configured price (GUESS price, USD)."""
    return float(tokens) * config.usd_per_million_tokens / 1_000_000


def granted_usd(db: Tx, account: str, config: SandboxConfig) -> float:
    """The account's play balance before spending (its own figure, else the configured one)."""
    own = db.balance_usd(account)
    return own if own is not None else config.play_balance_usd


def spent_tokens(db: Tx, account: str) -> tuple[int, int]:
    """(settled tokens of succeeded tasks, tokens held by unfinished ones); failed: refunded."""
    return db.spent_tokens(account)


def remaining_usd(db: Tx, account: str, config: SandboxConfig) -> float:
    """What the account can still spend now (holds count as spent)."""
    settled, held = spent_tokens(db, account)
    return granted_usd(db, account, config) - usd(settled + held, config)


def check_hold(db: Tx, account: str, hold: int, config: SandboxConfig) -> None:
    """Raise new-api's 403 ``insufficient_user_quota`` when ``hold`` tokens cost more than is
    left (NEWAPI: the pre-hold is refused, nothing is created)."""
    left = remaining_usd(db, account, config)
    need = usd(hold, config)
    if need > left + 1e-9:
        raise ErrorReply(
            403,
            wire.CODE_INSUFFICIENT_USER_QUOTA,
            f"Insufficient balance: ${max(left, 0.0):.4f} left, this video holds ${need:.4f} "
            f"({hold:,} tokens) until it finishes. Top up your balance (sandbox: POST "
            "/sandbox/admin/balance or the play_balance_usd setting), or ask for a shorter or "
            "lower-resolution video.",
            newapi=True,
        )


def subscription_view(db: Tx, account: str, config: SandboxConfig) -> dict[str, Any]:
    """``GET /dashboard/billing/subscription`` in new-api's OpenAI-compatible shape (NEWAPI):
    the three limits are the account's granted balance in USD; ``access_until`` 0 = never."""
    granted = round(granted_usd(db, account, config), 6)
    return {
        "object": "billing_subscription",
        "has_payment_method": True,  # NEWAPI serves true
        "soft_limit_usd": granted,
        "hard_limit_usd": granted,
        "system_hard_limit_usd": granted,
        "access_until": ACCESS_UNTIL_NEVER,
    }


def usage_view(db: Tx, account: str, config: SandboxConfig) -> dict[str, Any]:
    """``GET /dashboard/billing/usage``: ``total_usage`` in US cents (NEWAPI). GUESS: held
    tokens count as used, so ``hard_limit_usd - total_usage / 100`` is what can be spent now;
    ``start_date`` / ``end_date`` are accepted and ignored (new-api ignores them too)."""
    settled, held = spent_tokens(db, account)
    cents = usd(settled + held, config) * wire.USAGE_CENTS_PER_UNIT
    return {"object": "list", "total_usage": round(cents, 6)}
