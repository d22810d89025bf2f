"""Remote kernels (Binder, JupyterHub): the sandbox's verification link goes through the notebook
server's jupyter-server-proxy, so a phone can open it; local use is unchanged."""

from __future__ import annotations

from urllib.parse import urljoin

import httpx

from orca_nb import wire
from orca_nb.sandbox import SandboxConfig, SandboxServer
from orca_nb.widgets.servers import public_link

LINK = "http://127.0.0.1:8765/sandbox/h5/rhs_abc?lng=en"
HUB = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/", "JUPYTERHUB_USER": "ada"}


def test_local_use_is_unchanged() -> None:
    assert public_link(LINK, page_url="http://127.0.0.1:8888/lab", environ={}) == LINK


def test_on_a_hub_the_link_goes_through_the_servers_proxy() -> None:
    page = "https://hub.mybinder.example/user/ada/lab/tree/studio.ipynb"
    assert public_link(LINK, page_url=page, environ=HUB) == (
        "https://hub.mybinder.example/user/ada/proxy/8765/sandbox/h5/rhs_abc?lng=en"
    )


def test_an_explicit_public_url_wins_and_other_links_are_left_alone() -> None:
    env = {"ORCA_NB_PUBLIC_URL": "https://lab.example.org/base/"}
    assert public_link(LINK, environ=env) == (
        "https://lab.example.org/base/proxy/8765/sandbox/h5/rhs_abc?lng=en"
    )
    real = "https://h5.orcarouter.ai/verify?s=1"
    assert public_link(real, page_url="https://hub.example/user/ada/", environ=HUB) == real
    assert public_link(LINK, page_url="", environ=HUB) == LINK  # no page address yet


def test_the_verification_page_works_under_a_path_prefix() -> None:
    """The H5 page's pictures and form are relative, so they resolve under /proxy/<port>/."""
    with (
        SandboxServer(SandboxConfig(db_path=":memory:")) as server,
        httpx.Client(headers={"Authorization": f"Bearer {wire.DEFAULT_SANDBOX_KEY}"}) as api,
    ):
        started = api.post(f"{server.base_url}{wire.SESSIONS_PATH}", json={}).json()
        link = started["h5_link"]
        html = httpx.get(link).text
        assert "'/sandbox" not in html
        assert '"/sandbox' not in html
        proxied = link.replace(server.root_url, "https://hub.example/user/ada/proxy/1234")
        action = html.split("action='", 1)[1].split("'", 1)[0]
        assert urljoin(proxied, action) == proxied.split("?", 1)[0]
        src = html.split("<img src='", 1)[1].split("'", 1)[0]
        assert urljoin(proxied, src).startswith(
            "https://hub.example/user/ada/proxy/1234/sandbox/h5/people/"
        )
