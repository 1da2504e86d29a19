"""Showing the app on a network: the server settings against DNS rebinding and cross-site
requests (read by Streamlit's own config parser and host check), the hidden Deploy button,
and the optional OIDC sign-in (studio/signin.py) with AppTest's user mocking."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
READ_CONFIG = """
import json
from streamlit import config
from streamlit.web.server.starlette.starlette_websocket import is_host_allowed
config.get_config_options(force_reparse=True)
names = ["server.address", "server.allowedHosts", "server.enableCORS",
         "server.enableXsrfProtection", "client.toolbarMode", "server.maxCacheDataSize"]
hosts = ["localhost:8501", "127.0.0.1:8501", "[::1]:8501", "evil.example:8501",
         "localhost.evil.example", "127.0.0.1.nip.io:8501"]
print(json.dumps({"options": {n: config.get_option(n) for n in names},
                  "allowed": {h: is_host_allowed(h) for h in hosts}}))
"""
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-real-secret",
    "client_id": "studio",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "https://id.example/.well-known/openid-configuration",
}


@pytest.fixture(scope="module")
def server_config() -> dict[str, Any]:
    """The repository's .streamlit/config.toml as `streamlit run app.py` reads it."""
    out = subprocess.run(
        [sys.executable, "-c", READ_CONFIG], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_only_this_machines_names_reach_the_app(server_config: dict[str, Any]) -> None:
    """A rebinding page arrives under its own name: Streamlit's host check refuses it."""
    assert server_config["options"]["server.address"] == "localhost"
    assert server_config["allowed"] == {
        "localhost:8501": True, "127.0.0.1:8501": True, "[::1]:8501": True,
        "evil.example:8501": False, "localhost.evil.example": False,
        "127.0.0.1.nip.io:8501": False,
    }


def test_cross_site_protection_stays_on_and_the_deploy_button_is_hidden(
    server_config: dict[str, Any],
) -> None:
    options = server_config["options"]
    assert options["server.enableCORS"] is True and options["server.enableXsrfProtection"] is True
    assert options["client.toolbarMode"] == "viewer"  # no Deploy, Rerun or Clear cache
    assert options["server.maxCacheDataSize"] == "512mb"


@pytest.fixture
def open_app(clear_streamlit_caches: None) -> Callable[..., Any]:
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP, APP_TIMEOUT

    def _open(  # app.py in an AppTest with these secrets and this st.user
        auth: dict[str, Any] | None, user: dict[str, Any], page: str | None = None) -> Any:
        at = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT)
        if auth is not None:
            at.secrets["auth"] = auth
        at.user = user
        at.run()
        if page is not None:
            at.switch_page(page).run()
        return at

    return _open


def keys(at: Any) -> set[str]:
    return {b.key for b in at.button}


def test_without_sign_in_configured_the_app_opens_as_before(open_app: Callable[..., Any]) -> None:
    at = open_app(None, {"email": "test@example.com"})
    assert not at.exception
    assert not any(k.startswith("signin_") for k in keys(at))
    at.switch_page("pages/train.py").run()
    assert "train_start" in keys(at)


@pytest.mark.parametrize("auth", [AUTH, {**{k: AUTH[k] for k in ("redirect_uri", "cookie_secret")},
                                         "corp": {k: AUTH[k] for k in
                                                  ("client_id", "client_secret",
                                                   "server_metadata_url")}}])
def test_a_visitor_not_signed_in_sees_only_the_sign_in_button(
    open_app: Callable[..., Any], auth: dict[str, Any]
) -> None:
    at = open_app(auth, {"is_logged_in": False})
    assert not at.exception, [e.message for e in at.exception]
    expected = "signin_default" if "client_id" in auth else "signin_corp"
    assert keys(at) == {expected}
    assert "Sign in to open the app." in at.info[0].value
    with pytest.raises(ValueError, match=r"Known pages: \['Sign in'\]"):  # no other page exists
        at.switch_page("pages/train.py")


def test_a_signed_in_visitor_gets_the_pages_and_sign_out(open_app: Callable[..., Any]) -> None:
    user = {"is_logged_in": True, "email": "ada@example.org", "name": "Ada"}
    at = open_app(AUTH, user)
    assert not at.exception, [e.message for e in at.exception]
    assert "signin_logout" in keys(at) and any("Ada" in c.value for c in at.sidebar.caption)
    assert at.title[0].value == "StreamRec Studio" and not at.info  # the home page, not sign-in
    assert len(at.main.get("page_link")) >= 3  # with its links to the other pages
