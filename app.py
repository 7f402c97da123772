"""ACGS2 Import Console: the router. Signs the user in, then hands over to one of the pages.

Run it with `./start.sh` (Redis, a worker and this console), `streamlit run console/server.py`
or `streamlit run app.py`: all three serve the same console through console/server.py's ASGI
entry, which fixes direct links to pages such as /import (see there).
"""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st
from dotenv import load_dotenv

if __name__ != "__main__":
    # `streamlit run app.py` reads this file, finds the st.App below and imports it as a module:
    # serve the console as console/server.py does. Without it Streamlit would start in its legacy
    # pages-directory mode (a pages/ folder sits beside this file) and open /import behind a
    # "Page not found" dialog. Each browser session then runs this file as its script (__main__).
    from console.server import APP_SCRIPT, app_options

    app = st.App(APP_SCRIPT, **app_options())
else:
    if not os.environ.get("ACGS2_NO_DOTENV"):  # tests keep a developer's .env out
        load_dotenv()

    from console import auth, components, signin

    ICON = Path(__file__).resolve().parent / "console" / "assets" / "icon.png"
    st.set_page_config(page_title="ACGS2 Import Console", page_icon=str(ICON), layout="wide")
    components.page_style()

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

    if auth.open_demo():  # in the page itself, not only the sidebar: a phone shows the sidebar collapsed
        st.warning("**Open demo mode**: no sign-in is required. Use it on a demo machine only; set an admin "
                   "password before sharing this console.", icon=":material/lock_open:")
    else:
        with st.sidebar:
            st.text(f"Signed in as {user}")
            if st.button("Sign out", icon=":material/logout:"):
                signin.sign_out()  # draws the sign-in page and ends the run

    page.run()
