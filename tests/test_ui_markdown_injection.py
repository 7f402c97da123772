"""Text from a vendor or an API caller shows as text on the console's pages, never as a live link or image
(regression: a project named `ACME ![p](http://canary/pixel.png) [Sign in again](https://evil.example/login)`, sent
through the API's execute, rendered as a loaded image and a link on Progress and Jobs; vendor error text did the
same in st.error). Each Markdown-rendering element's source is rendered with CommonMark (markdown-it-py) and must
hold no link and no image, and no bare URL that GFM would turn into one."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from importers.errors import ConfigError
from jobs import api
from store.schema import import_jobs, import_parts

APP = str(Path(__file__).resolve().parent.parent / "app.py")
HOSTILE = "ACME ![p](http://canary/pixel.png) [Sign in again](https://evil.example/login) <https://evil.example>"
RENDER = MarkdownIt("commonmark")


def _page(path: str, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def _markdown_sources(at: AppTest) -> list[str]:
    """What every Markdown-rendering element of the page was given: texts, captions, alerts, page link labels."""
    found = [str(e.value) for kind in ("markdown", "caption", "error", "warning", "info", "success")
             for e in at.get(kind)]
    found += [e.proto.label for e in at.get("page_link")]
    return found


def _assert_inert(sources: list[str]) -> None:
    for source in sources:
        html = RENDER.render(source)
        assert "<a " not in html and "<img" not in html, source
        assert not re.search(r"(?<!\\)(https?://|www\.)", source), source  # GFM's bare autolinks


def _hostile_job() -> str:
    """A job whose project name and error came from outside (as stored before project names were checked)."""
    job_id = api.start_import("demo", ["ACME"], config={"size": "10"})
    from store.db import engine_for

    with engine_for().begin() as conn:
        conn.execute(update(import_jobs).where(import_jobs.c.id == job_id).values(projects=[HOSTILE]))
        conn.execute(update(import_parts).where(import_parts.c.job_id == job_id).values(
            project=HOSTILE, status="failed", error=f"JIRA said: {HOSTILE}"))
    api.cancel(job_id)
    return job_id


def test_a_hostile_project_name_and_error_show_as_text_on_progress_and_jobs():
    job_id = _hostile_job()
    progress = _page("pages/progress.py", job=job_id)
    sources = _markdown_sources(progress)
    assert any("Sign in again" in s for s in sources), sources  # the name is shown, as text
    _assert_inert(sources)
    jobs = _page("pages/jobs.py")
    labels = [e.proto.label for e in jobs.get("page_link")]
    assert any("Sign in again" in label for label in labels)
    _assert_inert(_markdown_sources(jobs))


def test_launch_refuses_a_project_name_that_is_not_one():
    with pytest.raises(ConfigError, match=r"is not a project name: use letters, digits and \. _ - /") as refused:
        api.start_import("demo", [HOSTILE], config={"size": "10"})
    assert "\n" not in str(refused.value)
    assert api.jobs() == []
