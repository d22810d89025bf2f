"""The demo library a fresh demo account starts with: two virtual groups and one real-human
group verified as the sample person ``ada``, each holding sample assets (see ``samples``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orca_nb.sandbox.processing import evaluate

if TYPE_CHECKING:
    from orca_nb.sandbox.assets import Assets
    from orca_nb.sandbox.db import Tx

#: (group name, description, group type, verified person, sample files)
DEMO_GROUPS: tuple[tuple[str, str, str, str | None, tuple[str, ...]], ...] = (
    (
        "Demo cast",
        "Virtual characters for trying prompts: Chen, and Ada with Ben.",
        "AIGC",
        None,
        ("chen_portrait.jpg", "ada_and_ben.jpg"),
    ),
    (
        "Demo scenes and sound",
        "A landscape, a prop, a panning clip and a music theme.",
        "AIGC",
        None,
        ("scene_16x9.jpg", "prop_1x1.png", "scene_pan.mov", "theme.wav"),
    ),
    (
        "ada (verified)",
        "Real-human group of the sample person Ada (verified when the demo was seeded).",
        "LivenessFace",
        "ada",
        ("ada_portrait.jpg", "ada_closeup.png"),
    ),
)


def seed_account(backend: Assets, db: Tx, account: str) -> list[str]:
    """Create the demo groups and their (already processed) assets; returns the group ids."""
    from orca_nb.sandbox.samples import SAMPLES, sample_bytes

    group_ids = []
    for name, description, group_type, person, files in DEMO_GROUPS:
        gid = backend.insert_group(db, account, name, description, group_type, person=person)
        group_ids.append(gid)
        for filename in files:
            sample = SAMPLES[filename]
            data = sample_bytes(filename)
            verdict = evaluate(data, sample.asset_type, name=filename, person=person)
            backend.insert_asset(
                db,
                account,
                gid,
                sample.title,
                sample.asset_type,
                f"/sandbox/samples/{filename}",
                {"Strategy": "Default"},
                verdict,
                data,
                settled=True,
            )
    return group_ids
