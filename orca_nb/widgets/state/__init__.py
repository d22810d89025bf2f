"""Plain state and actions behind the widgets (no widget imports here).

Each state object holds what a view shows and offers the actions the view calls; tests drive
them directly without a browser.
"""

from orca_nb.widgets.state.library import AssetQuery, Confirm, GroupSummary, LibraryState
from orca_nb.widgets.state.quota import QuotaState

__all__ = ["AssetQuery", "Confirm", "GroupSummary", "LibraryState", "QuotaState"]
