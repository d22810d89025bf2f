"""The ledger's tables: one schema, written in SQL that SQLite and PostgreSQL both accept.

Times are integers: milliseconds since the unix epoch, UTC (``*_at`` columns). Integer division
of such a column by ``86_400_000`` is its UTC day number on both engines, which keeps the
reports' SQL portable.

``submissions``
    One row per video submission, written before the request is sent. ``status`` is
    ``submitting`` until the server answers, then the task's status (``queued`` ... ``succeeded``);
    ``rejected`` when the server proved it created nothing (a 4xx, or a refusal before it read
    the request: connect error, 429, 503), or when the user settled an unknown outcome as not
    created (``error_code`` ``not_created``); ``unknown`` when the request may have reached the
    server but no usable reply came back (reply lost, read timeout, ambiguous 5xx): the task may
    exist. An ``unknown`` row is not terminal: :meth:`~orca_nb.ledger.Ledger.settle` attaches the
    task id found (then ``reattach`` follows it) or marks it not created.
    ``day`` (UTC day number of ``submitted_at``), ``latency_ms`` (submission to finish) and
    ``queue_ms`` (submission to start) are kept for the reports' covering indexes.
    Tokens: ``total_tokens`` is what the service reported (``tokens_source`` ``reported``) or,
    when a succeeded task came back without usage (the documented task fetch carries none),
    ``estimated_tokens``: the reference's rule applied to the request at submission
    (``compose.estimate_tokens``), with ``tokens_source`` = ``estimate_source`` = ``estimated``,
    or ``estimated_min`` when a reference video's length was unknown (a lower bound). A reported
    figure always replaces an estimate. ``tokens_source`` is NULL while there are no tokens.
    ``experiment_id`` / ``variant_id``: the experiment variant that sent it
    (:func:`orca_nb.ledger.context.submission_context`), NULL for a submission made directly.
``submission_items``
    One row per media item of the request's ``content[]``: ``position`` (0-based index in the
    array), ``ordinal`` (1-based per type, the ``[Image N]`` number), ``asset_type``
    (``Image``/``Video``/``Audio``), ``role``, ``source`` (URL as sent), ``asset_id`` (for
    ``asset://`` items), ``asset_key`` (the asset id, else the URL) and ``group_id`` (from the
    asset snapshot when known). ``first_of_source`` / ``first_of_group`` mark the first item of
    each source / group within its submission, so a video counts once per asset or group.
    ``submitted_at`` and ``model`` are copied from the submission, ``outcome`` and ``tokens``
    once it ends. Reports then aggregate this table alone through one covering index, which is
    what keeps them fast on a million submissions.
``status_events``
    Each status a submission reached, with the time it was first seen.
``assets`` / ``asset_groups``
    Snapshots (name, type, status, group) so reports read well after an asset is deleted.
``variant_marks`` / ``experiment_pins``
    What people said about an experiment's variants (:mod:`orca_nb.ledger.marks`): a rating
    (1-5 or NULL), ``tags`` (a JSON array of strings), a ``note``; and the one pinned winner per
    experiment (a row per experiment, so pinning another variant replaces it).
"""

from __future__ import annotations

from typing import Final

SCHEMA_VERSION: Final = 1

#: Statuses the ledger uses besides the wire's task statuses.
STATUS_SUBMITTING: Final = "submitting"
STATUS_REJECTED: Final = "rejected"
STATUS_UNKNOWN: Final = "unknown"
#: ``error_code`` of an unknown outcome, and of one the user settled as not created.
CODE_OUTCOME_UNKNOWN: Final = "outcome_unknown"
CODE_NOT_CREATED: Final = "not_created"

TABLES: Final[tuple[str, ...]] = (
    """CREATE TABLE IF NOT EXISTS ledger_meta (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS submissions (
        id TEXT PRIMARY KEY,
        task_id TEXT,
        submitter TEXT NOT NULL,
        base_url TEXT NOT NULL,
        model TEXT NOT NULL,
        prompt TEXT NOT NULL,
        params TEXT NOT NULL,
        mode TEXT NOT NULL,
        ratio TEXT,
        resolution TEXT,
        duration INTEGER,
        generate_audio INTEGER,
        n_items INTEGER NOT NULL,
        status TEXT NOT NULL,
        progress INTEGER,
        error_code TEXT,
        error_message TEXT,
        completion_tokens BIGINT,
        total_tokens BIGINT,
        estimated_tokens BIGINT,
        estimate_source TEXT,
        tokens_source TEXT,
        video_url TEXT,
        video_url_expires_at BIGINT,
        submitted_at BIGINT NOT NULL,
        accepted_at BIGINT,
        started_at BIGINT,
        finished_at BIGINT,
        updated_at BIGINT NOT NULL,
        day INTEGER NOT NULL,
        latency_ms BIGINT,
        queue_ms BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS submission_items (
        submission_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        ordinal INTEGER NOT NULL,
        asset_type TEXT NOT NULL,
        role TEXT,
        source TEXT NOT NULL,
        asset_id TEXT,
        asset_key TEXT NOT NULL,
        group_id TEXT,
        first_of_source INTEGER NOT NULL,
        first_of_group INTEGER NOT NULL,
        submitted_at BIGINT NOT NULL,
        model TEXT NOT NULL,
        outcome TEXT,
        tokens BIGINT,
        PRIMARY KEY (submission_id, position)
    )""",
    """CREATE TABLE IF NOT EXISTS status_events (
        submission_id TEXT NOT NULL,
        status TEXT NOT NULL,
        progress INTEGER,
        at BIGINT NOT NULL,
        PRIMARY KEY (submission_id, status)
    )""",
    """CREATE TABLE IF NOT EXISTS assets (
        asset_id TEXT PRIMARY KEY,
        name TEXT,
        asset_type TEXT,
        status TEXT,
        group_id TEXT,
        error_code TEXT,
        error_message TEXT,
        created_at BIGINT,
        first_seen_at BIGINT NOT NULL,
        last_seen_at BIGINT NOT NULL,
        deleted_at BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS asset_groups (
        group_id TEXT PRIMARY KEY,
        name TEXT,
        group_type TEXT,
        created_at BIGINT,
        first_seen_at BIGINT NOT NULL,
        last_seen_at BIGINT NOT NULL,
        deleted_at BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS variant_marks (
        experiment_id TEXT NOT NULL,
        variant_id TEXT NOT NULL,
        rating INTEGER,
        tags TEXT NOT NULL,
        note TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (experiment_id, variant_id)
    )""",
    """CREATE TABLE IF NOT EXISTS experiment_pins (
        experiment_id TEXT PRIMARY KEY,
        variant_id TEXT NOT NULL,
        pinned_at BIGINT NOT NULL
    )""",
)

# The reports' covering indexes: each report reads one index, never the table rows.
INDEXES: Final[tuple[str, ...]] = (
    "CREATE INDEX IF NOT EXISTS submissions_task ON submissions (task_id)",
    "CREATE INDEX IF NOT EXISTS submissions_time ON submissions (submitted_at)",
    "CREATE INDEX IF NOT EXISTS submissions_daily ON submissions"
    " (day, submitter, submitted_at, status, total_tokens, model)",
    "CREATE INDEX IF NOT EXISTS submissions_latency ON submissions"
    " (status, model, resolution, duration, latency_ms, queue_ms, submitted_at)",
    "CREATE INDEX IF NOT EXISTS submissions_errors ON submissions"
    " (status, error_code, submitted_at, model)",
    "CREATE INDEX IF NOT EXISTS items_usage ON submission_items"
    " (asset_key, role, outcome, first_of_source, first_of_group, asset_type, group_id, model,"
    " submitted_at, tokens)",
    "CREATE INDEX IF NOT EXISTS assets_group ON assets (group_id)",
    "CREATE INDEX IF NOT EXISTS submissions_experiment ON submissions"
    " (experiment_id, variant_id, submitted_at)",
)

#: Columns added since version 1: ``(table, column, type)``. Opening an older ledger adds the
#: missing ones with ``ALTER TABLE`` (before the indexes are made), on SQLite and PostgreSQL.
COLUMNS_ADDED: Final[tuple[tuple[str, str, str], ...]] = (
    ("submissions", "estimated_tokens", "BIGINT"),
    ("submissions", "estimate_source", "TEXT"),
    ("submissions", "tokens_source", "TEXT"),
    ("submissions", "experiment_id", "TEXT"),
    ("submissions", "variant_id", "TEXT"),
)
