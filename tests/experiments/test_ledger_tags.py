"""An experiment's sends are named in the usage ledger (experiment and variant), so the reports
can sum an experiment up: the whole path, on the sandbox."""

from __future__ import annotations

from typing import Any

from orca_nb.client import Orca
from orca_nb.experiments import Experiment, start
from orca_nb.ledger import open_ledger
from orca_nb.reports import experiment_summary, submissions
from tests.experiments.conftest import BODY


def test_each_variant_send_is_tagged_in_the_ledger_and_summed_up(
    client: Orca, fast: dict[str, Any]
) -> None:
    exp = Experiment.grid(BODY, name="ledger tags", prompts=["a storm", "a calm sea"], seed=[1, 2])
    run = start(exp, client, concurrency=2, per_minute=600, **fast)
    assert run.wait(60).succeeded == 4
    tasks = run.task_ids()  # variant id -> task id
    with open_ledger() as ledger:
        _, rows = ledger.database.query(
            "SELECT task_id, experiment_id, variant_id FROM submissions WHERE experiment_id = ?",
            (run.experiment_id,),
        )
        assert sorted((str(v), str(t)) for t, e, v in rows) == sorted(tasks.items())
        table = experiment_summary(ledger, experiment=run.experiment_id)
        whole = table[table["dimension"].isna()].iloc[0]
        assert (whole["variants"], whole["succeeded"], whole["failed"]) == (4, 4, 0)
        assert sorted(table["dimension"].dropna().unique()) == ["prompt", "seed"]
        assert set(table.loc[table["dimension"] == "seed", "value"]) == {"1", "2"}
        assert len(submissions(ledger, experiment=run.experiment_id)) == 4
    # A send made outside the experiment is not tagged.
    task = client.videos.create(request=BODY)
    with open_ledger() as ledger:
        _, rows = ledger.database.query(
            "SELECT experiment_id FROM submissions WHERE task_id = ?", (task.id,)
        )
        assert [r[0] for r in rows] == [None]
