"""Import wizard at /import: choose a source, configure and test it, map its values, preview, start."""
from datetime import date

import pandas as pd
import streamlit as st

from console import components, mapping_step, signin, start_words, state
from console import help as guides
from console.safe_markdown import literal
from importers import source_class
from importers.demo import kept_sizes, parse_size
from importers.errors import CONSOLE, AuthError, ConfigError, SourceError
from importers.words import counted
from jobs import api, dry_run
from store import credentials

signin.require_sign_in()  # also when Streamlit runs this page without app.py (see console/signin.py)

DESCRIPTIONS = {
    "jira": "Issues, comments, people and links from Jira Cloud, Server or Data Center.",
    "servicenow": "Incidents and tasks with their work notes and assignees.",
    "github": "Issues (not pull requests), labels, assignees and comments of a repository.",
    "gitlab": "Issues, labels, assignees and notes of a project.",
    "demo": "Realistic sample projects with people and comments. No credentials needed.",
}
DEMO_SIZES = {"small": "Small: 50 items", "medium": "Medium: 1,500 items", "large": "Large: 100,000 items"}
KEPT = "kept"  # the size choice that gives none: each project as it was imported before

wizard = state.wizard()
st.title("Import data")
if wizard.journey:
    chosen = guides.BY_KEY[wizard.journey]
    fitting = guides.fitting_journey(wizard.size, wizard.journey)
    note = "" if fitting == wizard.journey or fitting is None else \
        f": at this size, the {guides.BY_KEY[fitting].title.lower()} guide fits better (see ?)"
    st.caption(f"Journey: {chosen.title} ({chosen.fits}){note}")
components.step_indicator(wizard.step)


def header(title: str, step: str, error: str | None = None) -> None:
    left, right = st.columns([12, 1], vertical_alignment="bottom")
    left.subheader(title)
    with right:
        guides.help_button(step, wizard.size, wizard.journey, error, admin=signin.current_actor().admin)


def form_words(exc: SourceError) -> str:
    """An error as the form shows it: in the console's words ("enter them in the form", the fields' labels), not
    the environment variables the CLI names (`SourceError.shown_in`)."""
    return exc.shown_in(CONSOLE)


def go(step: int) -> None:
    wizard.step = step
    st.rerun()


# -- 1. choose source ----------------------------------------------------------------------
def choose_source() -> None:
    header("1. Choose where your data comes from", "source")
    try:
        found = api.sources()
    except SourceError as exc:
        st.error(literal(exc))
        return
    order = ["demo"] + [s.name for s in found if s.name != "demo"]
    by_name = {s.name: s for s in found}
    for row in range(0, len(order), 3):  # one row of columns at a time: cards of a row share a height
        cols = st.columns(3)
        for col, name in zip(cols, order[row:row + 3], strict=False):
            source_card(col, by_name[name])


def source_card(col, info) -> None:
    name = info.name
    label, color = components.AUTH_LABELS.get(info.auth, (info.auth, "gray"))
    with col.container(border=True, height="stretch"):
        with st.container(height="stretch"):
            st.markdown(f"#### {info.label}")
            st.badge(label, color=color)
            st.caption(DESCRIPTIONS.get(name, ""))
        primary = name == "demo" or (wizard.source == name)
        if st.button(f"Choose {info.label}", key=f"choose_{name}", type="primary" if primary else "secondary",
                     width="stretch"):
            wizard.choose(name)
            st.rerun()


# -- 2. configure --------------------------------------------------------------------------
def test_connection(config: dict[str, str], secrets: dict[str, str]) -> None:
    """Connect with `config`; `secrets` maps each secret setting's name to its environment variable, the name
    an error about it gives."""
    wizard.config = {k: v for k, v in config.items() if v}
    wizard.forget_connection()
    wizard.saved_note, wizard.dropped = None, ()
    with st.spinner(f"Connecting to {source_class(wizard.source).label}..."):
        try:
            wizard.account = api.check(wizard.source, wizard.config)
            wizard.check_error = None
        except SourceError as exc:
            wizard.check_error = form_words(exc)
            # a secret that failed is not kept: the field asks for it again instead of silently reusing it;
            # one the error is not about (a wrong URL) stays, so only the field to fix needs typing again
            failed = set(secrets) if isinstance(exc, AuthError) else {n for n, env in secrets.items()
                                                                       if env in str(exc)}
            wizard.dropped = tuple(name for name in failed if name in wizard.config)
            wizard.config = {k: v for k, v in wizard.config.items() if k not in failed}


def kept_label(kept: dict[str, dict[str, str]]) -> str:
    """"As imported before: ACME 300 items, OPS 1 item (new projects: Small)"."""
    listing = kept_sizes(kept)
    return f"As imported before: {listing} (new projects: Small)" if listing else \
        "As imported before (new projects: Small)"


def demo_settings(key: str) -> dict[str, str] | None:
    """The demo's choices, outside any form so the custom size shows only when chosen; None while a custom size is
    still empty. A workspace holding demo projects offers (and starts on) "as imported before": no size given, so
    each project is read at the size it was imported at (a re-run at Small of a project imported at 5,000 marked
    4,950 items deleted), a new one at Small."""
    kept = api.kept_by_project("demo")
    current = wizard.config.get("size") or (KEPT if kept else "small")
    options = ([KEPT] if kept else []) + list(DEMO_SIZES) + ["custom"]
    choice = st.radio("How much demo data?", options, horizontal=True,
                      index=options.index(current) if current in options else len(options) - 1,
                      format_func=lambda v: kept_label(kept) if v == KEPT else DEMO_SIZES.get(v, "A number of items"),
                      key=f"{key}_size")
    size = "" if choice == KEPT else choice
    if choice == "custom":
        size = st.text_input("Number of items a project", value="" if current in options else current,
                             key=f"{key}_custom", placeholder="e.g. 2000").strip()
        if not size:
            return None
        try:  # said at the field: it is no connection failure (review: "Connection failed: demo size 'abc' ...")
            parse_size(size)
        except ConfigError:
            st.error(f"{literal(size)} is not a number of items: type a whole number from 0 to 5,000,000.",
                     icon=":material/edit:")
            return None
    failing = st.checkbox("Include 3 items a project that fail the first read (shows the failure report and "
                          "Retry failed items)", value=wizard.config.get("failures", "0") != "0",
                          key=f"{key}_failures")
    return {"size": size, "failures": "3" if failing else "0"}


def secret_hint(setting, env: dict[str, str], saved_secrets: list[str]) -> tuple[str, str | None]:
    """(label, placeholder) of a secret field: what an empty field means, never the secret itself."""
    if wizard.config.get(setting.name):
        kept = "kept" if wizard.check_error else "tested"
        return f"{setting.label} ({kept}: leave empty to keep it)", None
    if env.get(setting.name):
        return setting.label, "set on the server: leave empty to use it"
    if setting.name in saved_secrets:
        return setting.label, "saved, encrypted: leave empty to use it"
    if setting.name in wizard.dropped:  # only a secret typed and dropped: an empty field was never kept
        return f"{setting.label} (enter it again: it is not kept after a failed test)", None
    return setting.label, None


def account_hint(setting, env: dict[str, str], saved_public: dict[str, str]) -> str | None:
    """The placeholder of an account field (`Setting.account`): the server's or the saved account is used for an
    empty field, and then only with their own server's secret, so the form leaves it empty instead of filling it in
    (filled in, it was the user's own, and went with their token to any URL they typed)."""
    if env.get(setting.name):
        return f"set on the server ({env[setting.name]}): leave empty to use it"
    if saved_public.get(setting.name):
        return f"saved ({saved_public[setting.name]}): leave empty to use it"
    return None


def credential_form(cls) -> None:
    env = cls.config_from_env()
    saved = api.saved_settings(wizard.source)
    saved_public, saved_secrets = saved or ({}, [])
    if saved:
        st.info("Saved credentials (encrypted) are used for every field you leave empty"
                + (": " + ", ".join(f"{s.label} {saved_public[s.name]}" for s in cls.settings
                                    if s.name in saved_public) if saved_public else "")
                + ". Type a value to replace one for this import.", icon=":material/key:")
    elif cls.configured_from_env(env) and any(s.secret for s in cls.settings):
        st.info("This server has credentials for this tool in its environment; they are used for every field "
                "you leave empty.", icon=":material/dns:")
    secret_names = {s.name for s in cls.settings if s.secret}
    with st.form("credentials", border=True):
        values: dict[str, str] = {}
        for setting in cls.settings:
            key = f"cred_{wizard.source}_{setting.name}_{wizard.form_generation}"
            if setting.secret:
                label, placeholder = secret_hint(setting, env, saved_secrets)
                values[setting.name] = st.text_input(label, type="password", key=key, help=setting.help or None,
                                                     placeholder=placeholder) or wizard.config.get(setting.name, "")
            else:
                default = wizard.config.get(setting.name) or env.get(setting.name) or saved_public.get(setting.name)
                placeholder = setting.default or None
                if setting.account:  # not filled in: typed, it goes wherever the URL points (merge_layers)
                    default, placeholder = wizard.config.get(setting.name), account_hint(setting, env, saved_public)
                label = setting.label + ("" if setting.required else " (optional)")
                if setting.choices:  # no free text: a value it does not take (an environment's) shows none chosen
                    current = (default or setting.default).strip().lower()
                    index = setting.choices.index(current) if current in setting.choices else None
                    values[setting.name] = st.selectbox(label, setting.choices, index=index, key=key,
                                                        help=setting.help or None) or ""
                else:
                    values[setting.name] = st.text_input(label, value=default or "", key=key,
                                                         help=setting.help or None, placeholder=placeholder)
        save = False
        if secret_names and signin.current_actor().admin:
            if credentials.can_save():
                save = st.checkbox("Save these credentials (encrypted) for later imports", key="save_credentials")
            else:
                st.caption(":material/lock: Credentials cannot be saved on this server: CREDENTIAL_ENCRYPTION_KEY "
                           "is not set. They are used for this import only.")
        submitted = st.form_submit_button("Test connection", type="primary", icon=":material/cable:")
    if submitted:
        test_connection(values, {s.name: s.env for s in cls.settings if s.secret})
        if wizard.connected and save:
            try:
                _, secrets = api.split_config(wizard.source, wizard.config)
                api.save_credentials(wizard.source, wizard.config, signin.current_actor())
                wizard.saved_note = "Credentials saved, encrypted." if secrets else None
            except SourceError as exc:
                wizard.saved_note = f"Not saved: {form_words(exc)}"
        # Draw the form again under new widget keys: the password fields come back empty and the
        # typed secrets leave the widget state (they stay only in the wizard until the job starts).
        wizard.form_generation += 1
        st.rerun()


def demo_configure() -> None:
    """Demo has nothing secret: its choices apply as they change, and the test runs by itself."""
    chosen = demo_settings(f"demo_{wizard.form_generation}")
    if chosen is None:
        wizard.forget_connection()
        return
    if ({k: v for k, v in chosen.items() if v} != {k: wizard.config[k] for k in chosen if wizard.config.get(k)}
            or (not wizard.connected and not wizard.check_error)):
        test_connection(chosen, {})


def configure() -> None:
    cls = source_class(wizard.source)
    head = st.container()  # drawn last, so its `?` knows this run's size and error
    if wizard.source == "demo":
        demo_configure()
    else:
        credential_form(cls)
    if wizard.check_error:
        st.error(f"Connection failed: {literal(wizard.check_error)}", icon=":material/error:")
        st.caption("Fix the settings above and test again. Preview stays locked until the connection works.")
    elif wizard.connected:
        st.success("Connected", icon=":material/check_circle:")
        st.text(f"Account reached: {wizard.account}")
    elif wizard.source == "demo":
        st.info("Enter the number of items a project.", icon=":material/info:")
    else:
        st.info("Enter the settings and press Test connection.", icon=":material/info:")
    if wizard.saved_note:
        st.caption(wizard.saved_note)

    if wizard.connected:
        st.markdown("##### What to import")
        try:
            projects = api.list_projects(wizard.source, wizard.config)
        except SourceError as exc:
            projects = []
            st.error(f"Could not list projects: {literal(exc)}")
        keys = [p.key for p in projects]
        names = {p.key: p.name for p in projects}
        preferred = wizard.projects or [p for p in [cls.default_project() or wizard.config.get("default_project")]
                                        if p in keys] or keys[:1]
        if keys:
            wizard.projects = st.multiselect("Projects", keys, default=[p for p in preferred if p in keys],
                                             format_func=lambda k: f"{k}: {names.get(k, '')}".rstrip(": "),
                                             key="projects", help="Several projects import in one run, each "
                                                                  "with its own mapping and row in Progress")
        else:
            typed = st.text_input("Project keys (comma-separated)", value=", ".join(wizard.projects),
                                  key="project_typed")
            wizard.projects = [p.strip() for p in typed.split(",") if p.strip()]
        if wizard.project not in wizard.projects:
            wizard.project = wizard.projects[0] if wizard.projects else None
        policies = {"update": "Apply changes to items already imported",
                    "skip": "Keep items already imported as they are (freeze)"}
        wizard.duplicates = st.radio("Items already in the workspace", list(policies), horizontal=True,
                                     index=list(policies).index(wizard.duplicates), format_func=policies.get,
                                     key="duplicates")
        only_since = st.checkbox("Only items updated since a date", value=bool(wizard.since), key="use_since")
        if only_since:
            picked = st.date_input("Updated since", value=date.fromisoformat(wizard.since) if wizard.since
                                   else date.today().replace(day=1), max_value=date.today(), key="since")
            wizard.since = picked.isoformat() if picked else None
        else:
            wizard.since = None

    back, _, nxt = st.columns([1, 4, 1])
    if back.button("Back", icon=":material/arrow_back:", width="stretch"):
        go(1)
    ready = wizard.connected and bool(wizard.projects)
    if nxt.button("Next", type="primary", disabled=not ready, icon=":material/arrow_forward:", width="stretch",
                  key="next_configure", help=None if ready else "Test the connection first"):
        go(state.MAP)
    with head:
        header(f"2. Configure {cls.label}", "configure_demo" if wizard.source == "demo" else "configure",
               wizard.check_error)


# -- 3. map --------------------------------------------------------------------------------
def load_mappings() -> None:
    """Each chosen project's mapping, read once per (source, projects, settings)."""
    key = (wizard.source, tuple(wizard.projects), tuple(sorted(wizard.config.items())))
    if wizard.mapping_key == key:
        return
    state.forget_widgets("map_")
    wizard.mappings, wizard.mapping_errors, wizard.mapping_key, wizard.merges_confirmed = {}, {}, key, False
    with st.spinner("Reading the source's statuses, priorities, types and people..."):
        for project in wizard.projects:
            try:
                wizard.mappings[project] = api.mapping(wizard.source, project, wizard.config)
            except SourceError as exc:
                wizard.mapping_errors[project] = form_words(exc)


def map_step() -> None:
    load_mappings()
    head = st.container()  # drawn last: its `?` knows this run's error
    project = wizard.projects[0]
    if len(wizard.projects) > 1:
        project = st.radio("Project", wizard.projects, horizontal=True, key="map_project")
    st.caption("Every status, priority, type and person of the project as the source names it, how many items "
               "carry it, and what it becomes in the workspace. Change what you want: the mapping is saved with "
               "the import and used again by later runs.")
    error = wizard.mapping_errors.get(project)
    if error:
        st.error(f"Could not read the mapping: {literal(error)}", icon=":material/error:")
        if st.button("Try again", icon=":material/refresh:", key="map_retry"):
            wizard.mapping_key = None
            st.rerun()
    else:
        mapping_step.draw(wizard.mappings[project], f"map_{project}")
    confirmed = mapping_step.confirm_merges(wizard.mappings)
    wizard.merges_confirmed = bool(confirmed)
    blockers = wizard.blockers()
    back, _, nxt = st.columns([1, 4, 1])
    if back.button("Back", icon=":material/arrow_back:", width="stretch"):
        go(state.CONFIGURE)
    if nxt.button("Next", type="primary", disabled=bool(blockers), icon=":material/arrow_forward:", width="stretch",
                  key="next_map", help=blockers[0] if blockers else None):
        go(state.PREVIEW)
    with head:
        header(f"3. Map {source_class(wizard.source).label} values", "map", error)


# -- 4. preview ----------------------------------------------------------------------------
def load_preview() -> None:
    mapping = wizard.mappings.get(wizard.project)
    key = (wizard.source, wizard.project, wizard.since, tuple(sorted(wizard.config.items())),
           mapping.fingerprint() if mapping else None)
    if wizard.preview_key == key and (wizard.preview is not None or wizard.preview_error):
        return
    wizard.preview, wizard.preview_error, wizard.preview_key = None, None, key
    with st.spinner("Loading a preview from the source..."):
        try:
            wizard.preview = api.preview(wizard.source, wizard.project, wizard.config, limit=20, since=wizard.since,
                                         mapping=mapping)
        except SourceError as exc:
            wizard.preview_error = form_words(exc)


def ended_dry_run() -> dict | None:
    """The wizard's dry run's progress document once it has ended; None while there is none or it still runs."""
    doc = api.status(wizard.dry_run_job) if wizard.dry_run_job else None
    return doc if doc and doc["status"] in components.FINISHED else None


@st.fragment(run_every="1s")
def dry_run_status(job_id: str, drawn_ended: bool) -> None:
    """The dry run's progress, redrawn alone every second; `drawn_ended`: whether the step was last drawn with it
    ended (a fragment's reruns keep the arguments of the page's last run), else the step is drawn again once it
    ends, so that "What will be created" above takes its counts."""
    try:
        doc = api.shown_in(api.status(job_id), CONSOLE)
    except SourceError as exc:
        st.error(literal(exc))
        return
    if doc["status"] in ("queued", "running"):
        if not components.total_known(doc):
            components.indeterminate_bar(f"Dry run: {doc['processed']:,} checked so far")
        else:
            st.progress(min(doc["percentage"] / 100, 1.0),
                        text=f"Dry run: {doc['processed']:,} / {components.count(doc['total'])} checked")
        return
    if not drawn_ended:
        st.rerun()
    if dry_run.stopped(doc):  # failed or cancelled: its counts are partial; its reason below
        components.outcome_alert(doc, again=dry_run.START_OVER)
    elif doc["status"] == "succeeded":
        st.success(f"Dry run passed: {counted(doc['processed'], 'items')} checked; the import "
                   f"{dry_run.would_do(doc)}. Nothing was written.")
        return
    else:
        st.warning(f"Dry run {components.job_state_label(doc).lower()}: {counted(doc['failed'], 'items')} would "
                   f"fail; the import {dry_run.would_do(doc)}. Nothing was written.")
    if doc.get("error"):
        st.text(doc["error"])
    failures = api.failures(job_id, limit=50)
    if failures:
        components.table(pd.DataFrame(failures))


def what_will_be_created(ended: dict | None) -> None:
    """Counts and lists of what the import creates: from the dry run when one read every item, else the preview's
    basis (a dry run that failed or was cancelled counted only the items it read before it stopped). `ended`: the
    dry run's document once it ended (`ended_dry_run`)."""
    mapping = wizard.mappings.get(wizard.project)
    if mapping is None:
        return
    dry = None
    if ended and not dry_run.stopped(ended):
        dry = api.job_forecast(wizard.dry_run_job).get(wizard.project)
        for found in wizard.mappings.values():  # the Map step shows exact counts from now on
            api.count_by_dry_run(found, wizard.dry_run_job)
    forecast = dry or api.forecast(mapping, wizard.preview.estimated_total if wizard.preview else None,
                                   wizard.preview.items if wizard.preview else (), wizard.duplicates)
    summary = forecast.summary()
    st.markdown("##### What will be created")
    st.caption(f"Basis: {forecast.basis}. Nothing has been written.")
    if summary["items_existing"]:
        st.text(f"Items: {summary['items_new']:,} new; {summary['items_existing']:,} already in the workspace, "
                f"{forecast.existing_outcome()} (not created again).")
    counts = [  # (label, value, note); a value None is not known before a dry run
            ("New items", summary["items_new"] if summary["items_new"] is not None else summary["items"],
             f"{summary['items_existing']:,} more already in the workspace: {forecast.existing_outcome()}"
             if summary["items_existing"] else None), ("Comments", summary["comments"], "counted by a dry run"),
            ("Attachments", summary["attachments"], "counted by a dry run"),
            # what is created: the new ones (review: "People 22" where all 22 were in the workspace already)
            ("New people", summary["people_new"], f"{summary['people']:,} read: {summary['people_matched']:,} "
                                                  f"matched to people in the workspace"),
            ("New labels", summary["labels_new"], f"{summary['labels']:,} read, the rest in the workspace already"),
            ("New states", summary["states_new"], f"{summary['states']:,} read, the rest in the workspace already"),
            ("New types", summary["types_new"], f"{summary['types']:,} read, the rest in the workspace already")]
    # a count the preview cannot make is said in words below, not drawn as a bare "?" in a metric
    known = [(label, value, note) for label, value, note in counts if value is not None]
    for col, (label, value, note) in zip(st.columns(len(known)), known, strict=True):
        col.metric(label, f"{value:,}", help=note)
    if unknown := forecast.not_counted():
        st.caption(f"{unknown.capitalize()}.")
    for label, rows, note in (
            ("Items", forecast.items_list, "the first read" if dry else "the preview's sample"),
            ("Comments", forecast.comments_list, "by author" if dry else "a dry run lists them by author"),
            ("Attachments", forecast.attachments_list, "items with attachments, the first read; files stay linked "
             "at the source" if dry else "a dry run lists the items that have attachments"),
            ("People", forecast.people, None), ("Labels", forecast.labels, None),
            ("States", [{**s, "category": components.item_status(None, s["category"])} for s in forecast.states], None),
            ("Types", forecast.types, None)):
        # a list only a dry run makes is not "0 listed" before one (review: "Comments (0 listed)" read as no comments)
        title = f"{label} ({len(rows):,} listed)" if note and (rows or dry) else \
            f"{label} (listed by a dry run)" if note else f"{label} ({len(rows):,})"
        with st.expander(title):
            if note:
                st.caption(note.capitalize() + ".")
            if rows:
                components.table(pd.DataFrame(rows))


def preview_step() -> None:
    if len(wizard.projects) > 1:
        picked = st.radio("Project", wizard.projects, horizontal=True, key="preview_project",
                          index=wizard.projects.index(wizard.project) if wizard.project in wizard.projects else 0)
        if picked != wizard.project:
            wizard.project, wizard.preview_key = picked, None
    load_preview()
    header(f"4. Preview {source_class(wizard.source).label} / {wizard.project}", "preview", wizard.preview_error)
    if wizard.preview_error:
        st.error(f"Preview failed: {literal(wizard.preview_error)}", icon=":material/error:")
        if st.button("Try again", icon=":material/refresh:"):
            wizard.preview_key = None
            st.rerun()
    elif wizard.preview is not None:
        result = wizard.preview
        # a project no larger than the preview is shown whole: "a sample" and "20 / 20 samples" said otherwise
        st.caption(f"All {counted(len(result.items), 'items')} this import reads. Nothing has been written yet."
                   if result.whole else "A sample of what will be imported. Nothing has been written yet.")
        a, b, c = st.columns(3)
        a.metric("Items" if result.whole else "Estimated total",
                 "unknown" if result.estimated_total is None else f"{result.estimated_total:,}")
        b.metric("Already in the workspace", f"{result.already_imported:,}",
                 help="Items of this source and project imported before")
        c.metric("Of these, already imported" if result.whole else "Of these samples, already imported",
                 f"{result.existing:,} / {len(result.items):,}")
        frame = components.preview_frame(result.items)
        # the whole width: six columns
        components.table(frame, column_config=components.PREVIEW_COLUMNS)
        counts = frame.groupby("status").size().reset_index(name="items")
        components.bar_chart(counts, "status", title="Status of the items" if result.whole else "Status in the sample")
        if result.already_imported and wizard.duplicates == "skip":
            st.info("Items already imported will be kept as they are, even where they changed at the source "
                    "(the job counts them). Choose \"Apply changes\" in step 2 to refresh them instead.",
                    icon=":material/info:")
        if not result.items:
            st.warning("The source returned no items for this project (and date filter).")
        ended = ended_dry_run()
        what_will_be_created(ended)
        # open while it holds a dry run: the step drawn again when one ends (above) must not fold its outcome away
        with st.expander("Dry run: check the whole import without writing anything",
                         expanded=wizard.dry_run_job is not None):
            st.caption("Reads every item and validates it, then reports what the import would create, update, "
                       "skip or fail. Needs a running worker.")
            if st.button("Start dry run", icon=":material/fact_check:", key="dry_run"):
                try:
                    wizard.dry_run_job = api.start_import(
                        wizard.source, wizard.projects, config=wizard.config, duplicates=wizard.duplicates,
                        since=wizard.since, dry_run=True, requested_by=signin.current_user() or "console",
                        mappings=wizard.mappings)
                except SourceError as exc:
                    st.error(literal(exc))
            if wizard.dry_run_job:  # one the button above started had not ended when the step was drawn
                drawn = ended is not None and ended["job_id"] == wizard.dry_run_job
                dry_run_status(wizard.dry_run_job, drawn_ended=drawn)
    back, _, nxt = st.columns([1, 4, 1])
    if back.button("Back", icon=":material/arrow_back:", width="stretch"):
        go(state.MAP)
    if nxt.button("Next", type="primary", disabled=wizard.preview is None, icon=":material/arrow_forward:",
                  width="stretch", key="next_preview"):
        go(state.START)


# -- 5. start ------------------------------------------------------------------------------
def start_step() -> None:
    header("5. Start the import", "start")
    cls = source_class(wizard.source)
    sizes = wizard.project_sizes()
    total = sum(n for n in sizes.values() if n is not None) if sizes else wizard.size
    since = {} if wizard.since else api.incremental_since(wizard.source, wizard.projects, wizard.duplicates)
    blockers = wizard.blockers()
    several = len(wizard.projects) > 1
    with st.container(border=True):
        st.markdown("**Ready to import**" if not blockers else "**Not ready yet**")
        st.text(f"Source: {cls.label}    Project{'s' if several else ''}: "
                f"{', '.join(wizard.projects)}")
        changed = {p: m.changed_rows for p, m in wizard.mappings.items()}
        st.text(start_words.mapping_line(changed))
        # every project read since its last import (a mix is said project by project in the note below)
        incremental = bool(since) and all(since.values()) and not st.session_state.get("full_run")
        st.text(start_words.items_line(sizes, incremental) if sizes
                else "Items: unknown until the import has read them")
        st.text("Existing items: " + ("skipped" if wizard.duplicates == "skip" else "updated"))
        if wizard.since:
            st.text(f"Only items updated since {wizard.since} (the date chosen in step 2)")
        elif not any(since.values()):
            st.text(f"All items (a full read: no earlier import of {'these projects' if several else 'this project'}"
                    f" to start from). Later runs of the same import are incremental: they read only what changed "
                    f"since the run before.")
    full = False
    if any(since.values()):
        full = st.checkbox("Read everything again (a full run, e.g. after changing the mapping)", key="full_run")
        if full:
            st.caption("Every item is read; items already in the workspace are "
                       + ("skipped." if wizard.duplicates == "skip" else "updated where they changed."))
        else:
            st.info(start_words.incremental_note(since), icon=":material/update:")
    if total and total > guides.PILOT_MAX:
        st.caption("Large imports run in batches that are committed as they go: you can leave this page, "
                   "and a crashed worker resumes where it stopped.")
    if wizard.source == "demo" and wizard.config.get("size"):
        kept = {p: parse_size(s["size"]) for p, s in api.kept_by_project("demo").items()
                if p in wizard.projects and s.get("size")}
        if cut := start_words.fewer_than_kept(kept, parse_size(wizard.config["size"])):
            st.warning(cut, icon=":material/delete:")
    for blocker in blockers:
        st.error(f"Go back to step 3 (Map): {literal(blocker)}.", icon=":material/flag:")
    back, _, go_col = st.columns([1, 3, 2])
    if back.button("Back", icon=":material/arrow_back:", width="stretch"):
        go(state.PREVIEW)
    if go_col.button("Start import", type="primary", icon=":material/rocket_launch:", width="stretch",
                     key="start_import", disabled=bool(blockers)):
        try:
            job_id = api.start_import(wizard.source, wizard.projects, config=wizard.config,
                                      duplicates=wizard.duplicates, since=wizard.since, incremental=not full,
                                      requested_by=signin.current_user() or "console", mappings=wizard.mappings,
                                      actor=signin.current_actor())
        except SourceError as exc:
            st.error(f"The import could not start: {literal(exc)}")
            return
        state.reset()  # the typed secrets go: the job holds an encrypted reference
        st.session_state["started_job"] = job_id
        st.switch_page("pages/progress.py", query_params={"job": job_id})


if wizard.step == state.CHOOSE or not wizard.source:
    choose_source()
elif wizard.step == state.CONFIGURE:
    configure()
elif wizard.step == state.MAP:
    map_step()
elif wizard.step == state.PREVIEW:
    preview_step()
else:
    start_step()
