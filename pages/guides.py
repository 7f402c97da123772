"""Guides: the pitch, pilot and migration guides (Markdown under guides/), one tab each."""
import streamlit as st

from console import help as guides
from console import signin, state

signin.require_sign_in()  # also when Streamlit runs this page without app.py (see console/signin.py)

st.title("Guides")
wanted = st.query_params.get("guide") or "pitch"
if wanted not in guides.BY_KEY:
    wanted = "pitch"
titles = {j.key: f"{j.title} ({j.fits})" for j in guides.JOURNEYS}
picked = st.segmented_control("Journey", list(titles), default=wanted, format_func=titles.get, key="guide_pick",
                              label_visibility="collapsed") or wanted
if picked != st.query_params.get("guide"):
    st.query_params["guide"] = picked
    st.query_params.pop("section", None)  # a section of the guide left behind

journey = guides.BY_KEY[picked]
body = guides.guide_text(picked)
section = guides.guide_section(picked, st.query_params.get("section") or "") if picked == wanted else None
left, right = st.columns([3, 1])
with left:
    if section:  # from a wizard step's `?`: the part that fits first, the whole guide below
        with st.container(border=True, key="guide_section"):
            st.caption(f"From the {journey.title.lower()} guide")
            st.markdown(f"### {section[0]}\n\n{section[1]}")
        st.divider()
    if body:
        st.markdown(body)
    else:
        st.warning(f"The {journey.title.lower()} guide is missing (guides/{picked}.md).")
with right, st.container(border=True):
    st.markdown(f"**{journey.title}**")
    st.caption(journey.summary)
    if st.button(f"Start a {journey.title.lower()} import", type="primary", icon=journey.icon, width="stretch"):
        state.begin(picked, demo=picked == "pitch")
        st.switch_page("pages/import_wizard.py")
    guides.contact_line(signin.current_actor().admin)
