"""The one video player every view uses: MP4 bytes played from a blob URL in the browser."""

from __future__ import annotations

import ipywidgets

#: The fitted player's height limit: a 9:16 video stays inside the viewport with its controls.
PLAYER_MAX_HEIGHT = "70vh"


def video_player(
    data: bytes, *, controls: bool, autoplay: bool = False, fit: bool = True
) -> ipywidgets.Video:
    """A player for MP4 bytes; they travel over the widget comm and the browser plays them from
    a blob URL, never from a kernel URL.

    ``controls``: the player's own play, pause and seek (off when something else drives it, as
    the compare grid does). ``fit``: fit the visible area whatever the video's ratio (at most
    :data:`PLAYER_MAX_HEIGHT` high); otherwise fill its container's width (a grid cell).
    """
    layout = (
        ipywidgets.Layout(
            width="auto",
            height="auto",
            max_width="100%",
            max_height=PLAYER_MAX_HEIGHT,
            object_fit="contain",
        )
        if fit
        else ipywidgets.Layout(width="100%", height="auto")
    )
    return ipywidgets.Video(
        value=data, format="mp4", autoplay=autoplay, loop=False, controls=controls, layout=layout
    )
