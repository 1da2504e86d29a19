"""Optional sign-in with Streamlit's OpenID Connect login (`st.login`), off by default.

Sign-in is on when `.streamlit/secrets.toml` has an `[auth]` section that names a provider:
either the provider's settings directly in `[auth]` (client_id, client_secret,
server_metadata_url) or one `[auth.NAME]` table per provider; `redirect_uri` and
`cookie_secret` always sit in `[auth]` (see .streamlit/secrets.example.toml and the README's
"Showing the app on a network"). Then every page needs `st.user.is_logged_in`; a visitor who
is not signed in sees a sign-in button and nothing else. Streamlit keeps the identity in a
signed cookie; Authlib (requirements.txt) does the OIDC exchange.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

PROVIDER_KEY = "client_id"  # a table with this key configures a provider


def auth_settings() -> Mapping[str, Any]:
    """The `[auth]` section of the secrets; empty when there is no secrets file or section."""
    secrets = st.secrets
    if not secrets.load_if_toml_exists():
        return {}
    auth = secrets.get("auth", {})
    return auth if isinstance(auth, Mapping) else {}


def providers(auth: Mapping[str, Any]) -> list[str | None]:
    """The providers `[auth]` configures: None for settings in `[auth]` itself, else the
    names of its `[auth.NAME]` tables, in file order."""
    found: list[str | None] = [None] if PROVIDER_KEY in auth else []
    return found + [
        name for name, value in auth.items()
        if isinstance(value, Mapping) and PROVIDER_KEY in value
    ]


def sign_in_required() -> bool:
    """True when secrets.toml configures at least one sign-in provider."""
    return bool(providers(auth_settings()))


def signed_out() -> bool:
    """True when sign-in is configured and this visitor is not signed in: the app then shows
    only `sign_in_page`. With sign-in configured and a visitor signed in, the sidebar says who
    and offers Sign out."""
    if not sign_in_required():
        return False
    if not st.user.get("is_logged_in", False):
        return True
    with st.sidebar:
        who = st.user.get("name") or st.user.get("email") or "signed in"
        st.caption(f":material/person: {who}")
        if st.button("Sign out", key="signin_logout", icon=":material/logout:"):
            st.logout()
    return False


def sign_in_page() -> None:
    """The one page a visitor who is not signed in can see: a button per provider."""
    st.title("StreamRec Studio")
    st.info("Sign in to open the app.", icon=":material/lock:")
    for provider in providers(auth_settings()):
        label = "Sign in" if provider is None else f"Sign in with {provider}"
        if st.button(label, key=f"signin_{provider or 'default'}", type="primary"):
            st.login(provider)
