"""The sign-in gate: open demo mode, OIDC, or the admin password.

app.py runs it before any page, and every page runs it again first thing. The second check is
not redundant: because a `pages/` folder sits next to app.py, Streamlit starts each process in
its legacy multipage mode (PagesManager.uses_pages_directory) until some run reaches
st.navigation, and in that mode a request for /workspace executes pages/workspace.py without
app.py. Signed out, app.py stops before st.navigation, so that mode would last. console/server.py
also switches the legacy mode off at startup.

A password sign-in outlives the websocket: the signed session cookie (console/session.py) is
read on every run, so a reload keeps the user signed in, and the browser lands on the page it
had asked for (a deep link such as /workspace) once signed in.
"""
from __future__ import annotations

import streamlit as st
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner import get_script_run_ctx

from jobs.access import Actor, actor_named

from . import auth, session

USER_KEY = "console_user"
SIGNED_OUT_KEY = "console_signed_out"  # this browser session signed out: its connect-time cookie is stale
FROM_COOKIE_KEY = "console_user_from_cookie"  # the user came from the session cookie: checked again on every run


def _oidc_user() -> str | None:
    try:
        if st.user.is_logged_in:
            return str(st.user.get("email") or st.user.get("name") or "signed-in user")
    except Exception:  # st.user without an [auth] configuration
        return None
    return None


def _address() -> str | None:
    """The browser's address as Streamlit tells it: None for this machine, or when no browser is behind the run."""
    try:
        address = st.context.ip_address
    except Exception:  # no browser request behind this run
        return None
    return address if isinstance(address, str) and address else None  # AppTest's is a stand-in object


def current_user() -> str | None:
    """Who is using the console ("demo" in open demo mode, from this machine only), or None when nobody signed
    in."""
    if auth.open_demo():
        return "demo" if auth.open_demo_serves(_address()) else None
    if st.session_state.get(FROM_COOKIE_KEY) and not session.session_user(_cookies().get(session.COOKIE)):
        # signed out elsewhere (another tab, the password changed) or expired: an open tab no longer acts as them
        st.session_state.pop(USER_KEY, None)
        st.session_state.pop(FROM_COOKIE_KEY, None)
        st.session_state[SIGNED_OUT_KEY] = True
    if not st.session_state.get(USER_KEY) and auth.admin_hash() and not st.session_state.get(SIGNED_OUT_KEY):
        user = session.session_user(_cookies().get(session.COOKIE))
        if user:
            st.session_state[USER_KEY] = user
            st.session_state[FROM_COOKIE_KEY] = True
    return st.session_state.get(USER_KEY) or (_oidc_user() if auth.oidc_configured() else None)


def _cookies() -> dict[str, str]:
    try:
        return dict(st.context.cookies)
    except Exception:  # no browser request behind this run (AppTest)
        return {}


def _go(url: str) -> None:
    """Send the browser to `url` (a route of this console), as st.login and st.logout do."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        msg = ForwardMsg()
        msg.auth_redirect.url = url
        ctx.enqueue(msg)


def _client() -> tuple[str, str]:
    """(browser session id, client address): what failed sign-ins are counted against."""
    ctx = get_script_run_ctx()
    try:
        address = st.context.ip_address
    except Exception:  # no browser request behind this run (AppTest)
        address = None
    if not isinstance(address, str) or not address:
        address = "unknown"
    return (ctx.session_id if ctx is not None else "unknown"), address


def current_actor() -> Actor:
    """The signed-in user as jobs/access.py judges them: the open demo's single user and the local
    admin are admins; a company sign-in user is one when CONSOLE_ADMINS lists them."""
    user = current_user() or "console"
    if auth.open_demo() or st.session_state.get(USER_KEY) == auth.ADMIN_USER:
        return Actor(user, admin=True)
    return actor_named(user)


def sign_out() -> None:
    """Sign this browser out and draw the sign-in page in the same run (a rerun would drop the
    redirect that deletes the cookie, see `require_sign_in`). Until the browser follows it, this
    session no longer takes the user from the cookie it connected with. The sign-out route acts
    only because this asked for it (console/session.py `SignOutGate`)."""
    user = st.session_state.pop(USER_KEY, None)
    st.session_state.pop(FROM_COOKIE_KEY, None)
    cookies = _cookies()
    if auth.oidc_configured() and _oidc_user():
        session.ask_sign_out(cookies.get(session.OIDC_COOKIE))
        st.logout()
    elif user:
        st.session_state[SIGNED_OUT_KEY] = True
        _go(session.sign_out_url(user))  # the cookie is HttpOnly: only a response can delete it
    require_sign_in()


def require_sign_in() -> str:
    """Return the user, or draw the sign-in page and stop the script.

    A successful password sign-in goes on in the same run (the form is cleared and the page drawn)
    while the browser follows the redirect that sets the session cookie: a rerun here would start
    a new run, and Streamlit drops the messages a run has not yet sent when the next one starts, so
    on a busy server the redirect (the cookie, the deep link) was lost."""
    user = current_user()
    if user:
        return user
    if auth.open_demo():
        st.error("This console runs in open demo mode (no sign-in), which serves only the machine it runs on: "
                 "ask its administrator to configure a sign-in (python -m console.auth set-password).",
                 icon=":material/lock:")
        st.stop()
    gate = st.empty()
    with gate.container():
        signed_in = _sign_in_form()
    if signed_in:
        gate.empty()
        return signed_in
    st.stop()


def _sign_in_form() -> str | None:
    """The sign-in page; the user once the admin password was right (the redirect is on its way)."""
    st.title("Sign in to the ACGS2 Import Console")
    st.caption("The console reads your trackers with your credentials, so it asks who you are first.")
    has_oidc, stored = auth.oidc_configured(), auth.admin_hash()
    if has_oidc and st.button("Sign in with your company account", type="primary", icon=":material/login:"):
        st.login()
    if stored:
        if has_oidc:
            st.divider()
        with st.form("sign_in"):
            st.text_input("User", value=auth.ADMIN_USER, disabled=True)
            password = st.text_input("Admin password", type="password", key="sign_in_password")
            submitted = st.form_submit_button("Sign in", type="primary")
        if submitted:
            client_session, address = _client()
            result = auth.sign_in(password, stored, session=client_session, address=address)
            st.session_state.pop("sign_in_password", None)
            if result.ok:
                st.session_state[USER_KEY] = auth.ADMIN_USER
                st.session_state.pop(SIGNED_OUT_KEY, None)
                try:
                    wanted = session.next_from(st.context.url)
                except Exception:  # no browser request behind this run (AppTest)
                    wanted = "/"
                _go(session.ticket_url(auth.ADMIN_USER, wanted))  # sets the cookie, then opens `wanted`
                return auth.ADMIN_USER
            st.error(result.message)
    if not has_oidc and not stored:
        st.warning("No sign-in method is configured on this server yet.")
        st.markdown(
            "An administrator can choose one:\n\n"
            "- **Local admin password** (one team): run `python -m console.auth set-password` and restart.\n"
            "- **Company sign-in (OIDC)**: add an `[auth]` section to `.streamlit/secrets.toml` "
            "(see `.streamlit/secrets.toml.example`).\n"
            "- **Open demo mode** (a demo laptop, never a shared server): start with `CONSOLE_OPEN_DEMO=1`."
        )
    return None
