"""Every label the guides and the `?` panel name in **bold** is one the console shows (a page, step, button, option,
state or message), so a user can find it: the pilot guide said "Update items that already exist" for the wizard's
"Apply changes to items already imported", and "**Contact us** in the `?` panel" where none is shown.

The guides' convention: **bold** names something the console shows, *italic* is emphasis. A label is found when it
is part of a string the code draws (a constant in pages/, console/, app.py, jobs/ or importers/, docstrings aside), or
a whole f-string label with its values filled in. The journeys' titles and the contact link are the panel's
(console/help.py); the panel's own bold labels are looked for everywhere else."""
import ast
import re
from pathlib import Path

import pytest

from console import help as guides
from tests.test_ui_pages import page
from tests.test_ui_wizard import texts

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "console").glob("*.py")),
           *sorted((ROOT / "jobs").rglob("*.py")), *sorted((ROOT / "importers").rglob("*.py"))]
PANEL = ROOT / "console" / "help.py"  # the `?` panel's own words: its labels are checked against the rest


def _drawn(paths: list[Path]) -> tuple[list[str], list[tuple[re.Pattern, int]]]:
    """The string constants of `paths` (docstrings aside), and their f-strings as patterns with the length of their
    fixed text."""
    constants: list[str] = []
    patterns: list[tuple[re.Pattern, int]] = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                constants.append(node.value)
            elif isinstance(node, ast.JoinedStr):
                fixed = [v.value for v in node.values if isinstance(v, ast.Constant)]
                patterns.append((re.compile("".join(re.escape(v.value) if isinstance(v, ast.Constant) else ".+"
                                                    for v in node.values)), len("".join(fixed))))
    return constants, patterns


EVERYWHERE = _drawn(SOURCES)
BEYOND_THE_PANEL = _drawn([p for p in SOURCES if p != PANEL])


def shown(label: str, drawn=EVERYWHERE) -> bool:
    """Part of a constant, or a whole f-string's label that is mostly its fixed text (f"{a}: {b}" names nothing)."""
    constants, patterns = drawn
    return any(label in c for c in constants) or any(p.fullmatch(label) and 2 * fixed >= len(label)
                                                     for p, fixed in patterns)


def bold(markdown: str) -> list[str]:
    """The **bold** spans of `markdown`, their line breaks and indents read as one space."""
    return [" ".join(span.split()) for span in re.findall(r"\*\*(.+?)\*\*", markdown, flags=re.S)]


def guide_labels(key: str) -> list[str]:
    body = guides.guide_text(key).partition("\n## ")[2]  # the heading's **For:**, **Size:** and **Time:** aside
    return bold(body)


@pytest.mark.parametrize("key", [j.key for j in guides.JOURNEYS])
def test_every_label_a_guide_names_is_one_the_console_shows(key):
    labels = guide_labels(key)
    assert labels, "the guide names no label in bold: the convention changed?"
    assert [label for label in labels if not shown(label)] == []


def test_every_label_the_help_panel_names_is_one_the_console_shows():
    lines = [guides.said(line, admin) for info in guides.STEP_HELP.values()
             for line in (info.needs, *info.problems) for admin in (True, False)]
    assert [label for label in bold("\n".join(lines)) if not shown(label, BEYOND_THE_PANEL)] == []


def test_a_label_no_page_has_is_caught():
    assert not shown("Update items that already exist") and shown("Apply changes to items already imported")
    assert not shown("Contact us in the ? panel") and shown("Try the demo import")


def test_the_pitch_guide_says_what_the_workspace_and_a_second_run_show():
    """Review: the pitch guide named charts "by source and by status" (the Workspace draws Items by project and Items
    by status), said a re-run's items were "skipped (with update: updated where it changed, counted unchanged
    otherwise)", and gave the one-click demo, which reads 10 items a second, 2 to 5 seconds."""
    shown = " ".join(" ".join(texts(page("pages/guides.py", guide="pitch"), "markdown")).split())
    assert "*Charts*: **Items by project** and **Items by status** (coloured by category)" in shown
    assert ("With the default **Apply changes to items already imported**, the second run counts the items that "
            "changed as *updated* and the rest as *unchanged*." in shown)
    assert "| One-click demo import, 50 items | about 5 to 7 seconds (it reads 10 items a second" in shown
    assert "items by source" not in shown and "Every item is skipped" not in shown
