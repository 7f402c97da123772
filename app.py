"""ACGS2 Import Console: the router. Signs the user in, then hands over to one of the pages.

Run it with `./start.sh` (Redis, a worker and this console), or `streamlit run console/server.py`
(the same app behind a small ASGI entry that fixes direct links to pages, see console/server.py).
"""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st
from dotenv import load_dotenv

if not os.environ.get("ACGS2_NO_DOTENV"):  # tests keep a developer's .env out
    load_dotenv()

from console import auth, signin  # noqa: E402  (after .env is loaded)

ICON = Path(__file__).resolve().parent / "console" / "assets" / "icon.png"
st.set_page_config(page_title="ACGS2 Import Console", page_icon=str(ICON), layout="wide")

user = signin.require_sign_in()

pages = [
    st.Page("pages/start.py", title="Start", icon=":material/home:", url_path="", default=True),
    st.Page("pages/import_wizard.py", title="Import", icon=":material/upload:", url_path="import"),
    st.Page("pages/progress.py", title="Progress", icon=":material/monitoring:", url_path="progress"),
    st.Page("pages/jobs.py", title="Jobs", icon=":material/history:", url_path="jobs"),
    st.Page("pages/workspace.py", title="Workspace", icon=":material/table_view:", url_path="workspace"),
    st.Page("pages/guides.py", title="Guides", icon=":material/menu_book:", url_path="guides"),
]
page = st.navigation(pages)

with st.sidebar:
    if auth.open_demo():
        st.warning("**Open demo mode**: no sign-in is required. Use it on a demo machine only; "
                   "set an admin password before sharing this console.", icon=":material/lock_open:")
    else:
        st.text(f"Signed in as {user}")
        if st.button("Sign out", icon=":material/logout:"):
            signin.sign_out()
            st.rerun()

page.run()
