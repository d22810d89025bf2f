"""The whole studio in one widget: studio, sweep, assets, groups, upload, verify tabs and the
quota."""

from __future__ import annotations

from typing import Any

import traitlets
from ipyvuetify.VuetifyTemplate import VuetifyTemplate
from ipywidgets import widget_serialization

from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.views.base import template
from orca_nb.widgets.views.forms import QuotaView, UploadView, VerifyView
from orca_nb.widgets.views.library import AssetsPanel, GroupsPanel
from orca_nb.widgets.views.studio import StudioView
from orca_nb.widgets.views.sweep import SweepView


def _child(cls: type) -> Any:
    return traitlets.Instance(cls).tag(sync=True, **widget_serialization)


class StudioApp(VuetifyTemplate):
    """Every panel over one shared store; the assets panel's ``+`` adds to the studio's picker,
    clicking a group shows its assets."""

    template_file = template("app.vue")
    tab = traitlets.Unicode("studio").tag(sync=True)
    sandbox = traitlets.Bool(False).tag(sync=True)
    studio = _child(StudioView)
    sweep = _child(SweepView)
    assets = _child(AssetsPanel)
    groups = _child(GroupsPanel)
    upload = _child(UploadView)
    verify = _child(VerifyView)
    quota = _child(QuotaView)

    def __init__(self, store: LiveStore, **kw: Any) -> None:
        studio = StudioView(store)
        assets = AssetsPanel(store, pick=studio.state.picker.add_asset)
        groups = GroupsPanel(store)
        super().__init__(
            studio=studio,
            sweep=SweepView(store, studio.state),
            assets=assets,
            groups=groups,
            upload=UploadView(store),
            verify=VerifyView(store),
            quota=QuotaView(store),
            sandbox=store.client.is_sandbox,
            **kw,
        )
        self._store = store
        groups.on_select(self._show_group)

    @property
    def store(self) -> LiveStore:
        """The shared live store."""
        return self._store

    def _show_group(self, group_id: str | None) -> None:
        self.assets.show_group(group_id)
        self.tab = "assets"

    def close(self) -> None:
        """Close every panel (the store stops with the last one)."""
        for child in (
            self.studio,
            self.sweep,
            self.assets,
            self.groups,
            self.upload,
            self.verify,
            self.quota,
        ):
            child.close()
        super().close()
