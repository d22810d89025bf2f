"""Cost before submit: estimates from the one token rule, balance refusals, confirmation."""

from __future__ import annotations

import pytest

from orca_nb.client.models import Balance
from orca_nb.compose.cost import estimate_tokens
from orca_nb.experiments import (
    BalanceTooLowError,
    ConfirmationRequired,
    Experiment,
    InvalidVariantsError,
    start,
)
from orca_nb.experiments import cost as costs
from orca_nb.experiments.db import ExperimentsDB
from tests.experiments.conftest import BODY


def balance(remaining: float | None, *, unlimited: bool = False) -> Balance:
    """What ``client.billing.balance()`` returns (the client's own model)."""
    return Balance(remaining=remaining, limit=None, used=None, unlimited=unlimited)


EXP = Experiment.grid(BODY, name="cost", seed=[1, 2], resolution=["480p", "720p"])


def test_tokens_per_variant_and_total_use_the_compose_rule() -> None:
    est = costs.estimate(EXP.variants)
    assert set(est.per_variant) == {v.variant_id for v in EXP.variants}
    for v in EXP.variants:
        assert v.body is not None
        assert est.per_variant[v.variant_id].tokens == estimate_tokens(v.body).tokens
    assert est.tokens == sum(e.tokens for e in est.per_variant.values())
    assert not est.lower_bound
    assert f"{est.tokens:,} tokens (estimate) for 4 variant(s)" in est.describe()
    assert est.covered is None  # no balance, no price


def test_invalid_variants_are_not_counted() -> None:
    exp = Experiment.grid(BODY, name="c2", duration=[4, 99])
    est = costs.estimate(exp.variants)
    assert list(est.per_variant) == [exp.valid[0].variant_id]


def test_confirmation_above_the_threshold_says_what_to_pass() -> None:
    est = costs.estimate(EXP.variants)
    with pytest.raises(ConfirmationRequired, match=f"pass confirm={est.tokens}"):
        costs.check(est, confirm_above=est.tokens - 1)
    with pytest.raises(ConfirmationRequired):
        costs.check(est, confirm=est.tokens - 1, confirm_above=0)
    costs.check(est, confirm=est.tokens, confirm_above=0)
    costs.check(est)  # under the default threshold
    with pytest.raises(TypeError, match="token count"):
        costs.check(est, confirm=True)  # type: ignore[arg-type]


def test_a_known_balance_that_cannot_cover_refuses() -> None:
    price = 10.0  # per million tokens
    est = costs.estimate(EXP.variants, balance=balance(0.01), price_per_million_tokens=price)
    assert est.money == pytest.approx(est.tokens * price / 1e6)
    assert est.covered is False
    with pytest.raises(BalanceTooLowError, match="balance cannot cover"):
        costs.check(est)
    rich = costs.estimate(EXP.variants, balance=balance(1e6), price_per_million_tokens=price)
    assert rich.covered is True
    free = costs.estimate(
        EXP.variants, balance=balance(None, unlimited=True), price_per_million_tokens=price
    )
    assert free.covered is None
    with pytest.raises(ValueError, match="price_per_million_tokens"):
        costs.estimate(EXP.variants, price_per_million_tokens=-1)


def test_start_refuses_before_storing_or_sending(
    client: object, fast: dict[str, object], exp_db: str
) -> None:
    bad = Experiment.grid(BODY, name="refused", duration=[4, 99])
    with pytest.raises(InvalidVariantsError, match="skip_invalid=True") as info:
        start(bad, client, **fast)  # type: ignore[arg-type]
    assert len(info.value.variants) == 1
    with pytest.raises(ConfirmationRequired):
        start(EXP, client, confirm_above=1, **fast)  # type: ignore[arg-type]
    with pytest.raises(BalanceTooLowError):
        start(
            EXP, client, balance=balance(0.0), price_per_million_tokens=1.0,  # type: ignore[arg-type]
            **fast,
        )  # fmt: skip
    db = ExperimentsDB(exp_db)
    try:
        assert db.list_experiments() == []
    finally:
        db.close()
