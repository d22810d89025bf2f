"""Accounts (one per ``sk-orca-...`` key, stored hashed), the demo library, the play balance
and the model list: the part of the :class:`~orca_nb.sandbox.backend.Backend` that answers
who is calling and what they may spend."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from orca_nb import wire
from orca_nb.sandbox import billing, models
from orca_nb.sandbox.assets import Assets
from orca_nb.sandbox.errors import ErrorReply

_KEY_PATTERN = re.compile(r"sk-orca-[A-Za-z0-9][A-Za-z0-9._-]{0,200}")


def account_id(api_key: str) -> str:
    """The stored account id of an API key (a SHA-256, so keys never reach the database)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


class Accounts(Assets):
    """Backend methods for accounts, balances and models (mixed into ``Backend``)."""

    def account_for_key(self, api_key: str | None) -> str:
        """The account of a bearer key; 401 when missing or not ``sk-orca-...``.

        Any syntactically valid ``sk-orca-`` key is its own sandbox account (created on first
        use); the demo key gets the demo library on first use.
        """
        if not api_key:
            raise ErrorReply(
                401,
                wire.CODE_INVALID_API_KEY,
                "Missing API key: send 'Authorization: Bearer sk-orca-...' "
                f"(any key starting with {wire.SANDBOX_KEY_PREFIX!r} is a sandbox account)",
            )
        if not _KEY_PATTERN.fullmatch(api_key):
            raise ErrorReply(
                401,
                wire.CODE_INVALID_API_KEY,
                "Invalid API key: keys look like 'sk-orca-...' "
                f"(e.g. {wire.DEFAULT_SANDBOX_KEY!r} in the sandbox)",
            )
        account = account_id(api_key)
        if account in self._ready_accounts:
            return account
        with self.db.tx() as db:
            seeded = db.ensure_account(account, self.now())
        if api_key == wire.DEFAULT_SANDBOX_KEY and self.config.seed_demo and not seeded:
            self.seed_demo(api_key)
        self._ready_accounts.add(account)
        return account

    def seed_demo(self, api_key: str) -> None:
        """Give the account of ``api_key`` the demo groups and assets (once; idempotent)."""
        from orca_nb.sandbox.demo import seed_account

        account = account_id(api_key)
        with self.db.tx() as db:
            if db.ensure_account(account, self.now()):
                return
            seed_account(self, db, account)
            db.mark_seeded(account)

    # ------------------------------------------------------------------ balance and models
    def set_balance(self, account: str, usd: float | None) -> None:
        """Give ``account`` its own play balance (USD before spending); ``None``: the default."""
        if usd is not None and (
            isinstance(usd, bool) or not isinstance(usd, int | float) or not 0 <= usd < 1e15
        ):
            raise ValueError("the balance must be a number of USD from 0")
        with self.db.tx() as db:
            db.set_balance_usd(account, None if usd is None else float(usd))

    def billing_subscription(self, account: str) -> dict[str, Any]:
        """``GET /dashboard/billing/subscription`` (see :mod:`orca_nb.sandbox.billing`)."""
        with self.db.tx() as db:
            self._progress(db)
            return billing.subscription_view(db, account, self.config)

    def billing_usage(self, account: str) -> dict[str, Any]:
        """``GET /dashboard/billing/usage``: spend so far in US cents."""
        with self.db.tx() as db:
            self._progress(db)
            return billing.usage_view(db, account, self.config)

    def list_models(self, account: str) -> dict[str, Any]:
        """``GET /models`` (see :mod:`orca_nb.sandbox.models`)."""
        return models.model_list(include_unroutable=self.config.list_unroutable_models)
