"""What an experiment will cost before anything is sent, and the checks that guard spending.

Tokens come from the one token rule, :func:`orca_nb.compose.cost.estimate_tokens` (figures are
estimates; a lower bound when a length is unknown). The service's balance is money
(:data:`orca_nb.wire.BALANCE_UNIT`), so comparing it with tokens needs a price per million tokens:
:data:`orca_nb.wire.USD_PER_MILLION_TOKENS` once known (the reference does not publish it yet), or
``price_per_million_tokens=``. Without a price the balance is shown but cannot refuse. Above
``confirm_above`` tokens, starting needs ``confirm=<tokens>`` (at least the estimate), and the
error says exactly what to pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from orca_nb import wire
from orca_nb.client.models import Balance
from orca_nb.compose.cost import TokenEstimate, estimate_tokens, tokens_text
from orca_nb.experiments.define import Variant

#: Starting an experiment estimated above this many tokens needs ``confirm=``.
DEFAULT_CONFIRM_ABOVE: Final = 2_000_000


@dataclass(frozen=True)
class CostEstimate:
    """Estimated tokens per variant (valid ones only) and in total, with the balance if known."""

    per_variant: Mapping[str, TokenEstimate]
    balance_remaining: float | None = None
    balance_unit: str = wire.BALANCE_UNIT
    price_per_million_tokens: float | None = None

    @property
    def tokens(self) -> int:
        """The total estimate over the variants that would be sent."""
        return sum(e.tokens for e in self.per_variant.values())

    @property
    def lower_bound(self) -> bool:
        """True when some variant's figure is only a lower bound."""
        return any(e.lower_bound for e in self.per_variant.values())

    @property
    def money(self) -> float | None:
        """The estimate in the balance's unit (needs ``price_per_million_tokens``)."""
        if self.price_per_million_tokens is None:
            return None
        return self.tokens * self.price_per_million_tokens / 1_000_000

    @property
    def covered(self) -> bool | None:
        """Whether the known balance covers the estimate (None: balance or price unknown)."""
        money = self.money
        if money is None or self.balance_remaining is None:
            return None
        return money <= self.balance_remaining

    def describe(self) -> str:
        """One line for people: ``~1,234,000 tokens (estimate) for 6 variants; ...``."""
        source = wire.TOKENS_ESTIMATED_MIN if self.lower_bound else wire.TOKENS_ESTIMATED
        text = f"{tokens_text(self.tokens, source)} for {len(self.per_variant)} variant(s)"
        if self.money is not None:
            text += f", ~{self.money:,.2f} {self.balance_unit}"
        if self.balance_remaining is not None:
            text += f"; balance {self.balance_remaining:,.2f} {self.balance_unit} left"
        return text


class ConfirmationRequired(RuntimeError):
    """The estimate is above the confirmation threshold; pass ``confirm=`` as the message says."""

    def __init__(self, estimate: CostEstimate, threshold: int) -> None:
        self.estimate = estimate
        self.threshold = threshold
        super().__init__(
            f"this experiment would spend {estimate.describe()}, above the {threshold:,}-token "
            f"threshold. To start it, pass confirm={estimate.tokens} (or more); to lower the cost "
            "use fewer variants, a lower resolution or shorter durations."
        )


class BalanceTooLowError(RuntimeError):
    """The known balance cannot cover the estimate; nothing was sent."""

    def __init__(self, estimate: CostEstimate) -> None:
        self.estimate = estimate
        super().__init__(
            f"the balance cannot cover this experiment: {estimate.describe()}. Top up the "
            "account, or run fewer variants (pass a smaller grid or skip some rows)."
        )


def estimate(
    variants: Sequence[Variant],
    *,
    media_seconds: Mapping[str, float] | None = None,
    balance: Balance | None = None,
    price_per_million_tokens: float | None = wire.USD_PER_MILLION_TOKENS,
) -> CostEstimate:
    """Estimate the valid variants' tokens; ``balance`` is a client ``Balance`` (or None)."""
    if price_per_million_tokens is not None and not (
        isinstance(price_per_million_tokens, int | float)
        and not isinstance(price_per_million_tokens, bool)
        and math.isfinite(price_per_million_tokens)
        and price_per_million_tokens >= 0
    ):
        raise ValueError("price_per_million_tokens must be a number >= 0 (in the balance's unit)")
    per = {
        v.variant_id: estimate_tokens(v.body, media_seconds=media_seconds)
        for v in variants
        if v.valid and v.body is not None
    }
    remaining = None if balance is None or balance.unlimited else balance.remaining
    return CostEstimate(
        per,
        balance_remaining=remaining,
        balance_unit=balance.unit if balance is not None else wire.BALANCE_UNIT,
        price_per_million_tokens=price_per_million_tokens,
    )


def check(
    cost: CostEstimate, *, confirm: int | None = None, confirm_above: int = DEFAULT_CONFIRM_ABOVE
) -> None:
    """Raise :class:`BalanceTooLowError` or :class:`ConfirmationRequired` when due."""
    if cost.covered is False:
        raise BalanceTooLowError(cost)
    if confirm is not None and (isinstance(confirm, bool) or not isinstance(confirm, int)):
        raise TypeError(
            f"confirm= takes a token count (e.g. confirm={cost.tokens}), not {confirm!r}"
        )
    if cost.tokens > confirm_above and (confirm is None or confirm < cost.tokens):
        raise ConfirmationRequired(cost, confirm_above)
