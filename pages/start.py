"""Start: what the console does, the one-click demos, the three journeys, and the last import."""
import streamlit as st

from console import components, signin, state
from console import help as guides
from console.safe_markdown import literal
from importers.errors import SourceError
from importers.words import counted
from jobs import api

signin.require_sign_in()  # also when Streamlit runs this page without app.py (see console/signin.py)


def begin(journey: str) -> None:
    """Open the wizard with the journey's defaults (the demo source preselected for a pitch)."""
    state.begin(journey, demo=journey == "pitch")
    st.switch_page("pages/import_wizard.py")


def run_demo(kind: str) -> None:
    """One click: the demo import starts and the progress view opens on it."""
    try:
        job_id = api.start_demo(kind, requested_by=signin.current_user() or "console", actor=signin.current_actor())
    except SourceError as exc:
        st.error(f"The demo could not start: {literal(exc)}", icon=":material/error:")
        return
    st.session_state["started_job"] = job_id
    st.switch_page("pages/progress.py", query_params={"job": job_id})


st.title("Import your data into ACGS2")
st.markdown("Bring your work over from **JIRA, ServiceNow, GitHub or GitLab**: preview before anything is "
            "written, follow the import live, act on a failure report, and re-run it later without duplicates.")

def one_click_words() -> str:
    """"50 realistic work items", or the size the click reads instead: its project's size when last imported (review:
    the card promised 50 where the click read the 1 item ACME had last been imported at)."""
    try:
        demo = api.one_click("clean")
    except SourceError:  # the store is down: the click says why when it is made
        return "realistic work items"
    kept = f" (the size {demo.project} was last imported at)" if demo.kept else ""
    return f"{counted(demo.items, 'realistic work items', 'realistic work item')}{kept}"


with st.container(border=True):
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.markdown("#### New here? Try the demo import\n"
                  f"One click imports {one_click_words()} with people and comments, no credentials needed, "
                  "and shows the import live. Then open the Workspace.")
    if right.button("Try the demo import", type="primary", icon=":material/play_arrow:", width="stretch",
                    key="demo_quick"):
        run_demo("clean")
    left.caption("Want to show what happens when a source has bad data? The demo with failures has 3 items "
                 "that fail on the first read: the failure report, its CSV and Retry failed items.")
    if right.button("Demo with failures", icon=":material/report:", width="stretch", key="demo_failures"):
        run_demo("failures")

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
            begin(journey.key)

st.subheader("At a glance")
try:
    recent = api.jobs(1)
    count = api.job_count() if recent else 0
except SourceError as exc:
    recent, count = [], 0
    st.error(literal(exc))
if recent:
    last = recent[0]
    a, b = st.columns([1, 3])
    # every run started, dry runs and undone imports too (review: "Imports run 13" counted them as imports)
    a.metric("Runs", f"{count:,}", help="Imports and dry runs started in this workspace, undone ones included")
    with b, st.container(border=True):
        dry = " · dry run: nothing was written" if last.get("dry_run") else ""  # not a "Succeeded" import
        st.text(f"Last run: {components.job_name(last)}{dry}")
        components.status_badge(last)
        st.page_link("pages/progress.py", label="Open it", icon=":material/monitoring:",
                     query_params={"job": last["job_id"]})
    st.page_link("pages/jobs.py", label="See all imports", icon=":material/history:")
else:
    st.info("No import has run yet. The demo above is the quickest way to see one.", icon=":material/info:")
