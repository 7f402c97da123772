"""Start: what the console does, the quickest way in (the demo), and the three journeys."""
import streamlit as st

from console import help as guides
from console import signin, state
from importers.errors import SourceError
from jobs import api

signin.require_sign_in()  # also when Streamlit runs this page without app.py (see console/signin.py)


def begin(journey: str | None, demo: bool) -> None:
    """Open the wizard with the journey's defaults (demo source preselected when asked)."""
    state.begin(journey, demo)
    st.switch_page("pages/import_wizard.py")


st.title("Import your data into ACGS2")
st.markdown("Bring your work over from **JIRA, ServiceNow, GitHub or GitLab**: preview before anything is "
            "written, follow the import live, act on a failure report, and re-run it later without duplicates.")

with st.container(border=True):
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.markdown("#### New here? Try the demo import\n"
                  "50 realistic work items with people and comments, no credentials needed: "
                  "about a minute from here to your data in the Workspace.")
    if right.button("Try the demo import", type="primary", icon=":material/play_arrow:", width="stretch",
                    key="demo_quick"):
        begin("pitch", demo=True)

st.subheader("Choose your journey")
cols = st.columns(len(guides.JOURNEYS))
for col, journey in zip(cols, guides.JOURNEYS, strict=True):
    with col.container(border=True, height="stretch"):
        st.markdown(f"#### {journey.title}")
        st.caption(journey.fits.capitalize())
        st.write(journey.summary)
        st.page_link("pages/guides.py", label=f"Read the {journey.title.lower()} guide", icon=":material/menu_book:",
                     query_params={"guide": journey.key})
        if st.button("Start the import", key=f"start_{journey.key}", icon=journey.icon, width="stretch"):
            begin(journey.key, demo=journey.key == "pitch")

st.subheader("At a glance")
try:
    recent = api.jobs(5)
except SourceError as exc:
    recent = []
    st.error(str(exc))
if recent:
    last = recent[0]
    a, b, c = st.columns(3)
    a.metric("Imports run", api.job_count())
    b.metric("Last import", f"{last['source']} / {', '.join(last['projects'])}"[:40])
    c.metric("Its status", last["status"])
    st.page_link("pages/jobs.py", label="See all imports", icon=":material/history:")
else:
    st.info("No import has run yet. The demo above is the quickest way to see one.", icon=":material/info:")
