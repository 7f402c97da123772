"""JIRA wiki markup (Server/Data Center bodies) to Markdown: each construct of the notation
(https://jira.atlassian.com/secure/WikiRendererHelpAction.jspa?section=all) renders, and is checked the way
the console shows it (CommonMark with tables and strikethrough, HTML off); no text is dropped; and the
score against the jira2markdown library's own test expectations (tests/wiki_score.py) does not fall."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from importers.jira.wiki import EMOTICONS, wiki_to_markdown
from tests.wiki_score import score

NAMES = {"bob": "Bob Builder", "JIRAUSER10101": "Bob Builder", "5b10a2844c20165700ede001": "Bob Builder"}
RENDER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def html(wiki: str) -> str:
    return RENDER.render(wiki_to_markdown(wiki, NAMES))


@pytest.mark.parametrize("wiki, markdown", [
    ("h1. Title\nh3. Sub", "# Title\n### Sub"),
    ("*bold* _italic_ -struck- +under+ ^sup^ ~sub~ ??cite??",
     "**bold** *italic* ~~struck~~ under <sup>sup</sup> <sub>sub</sub> *cite*"),
    ("x {color:red}red{color} and {color:#00ff00}green{color}", "x red and green"),  # colour: plain text
    ("run {{make -all-}}", "run `make -all-`"),
    ("{code:python|title=x.py}\nx = *1*\n{code}", "```python\nx = *1*\n```"),
    ("{code:title=Bar.java|borderStyle=solid}\nint x;\n{code}", "```\nint x;\n```"),  # parameters are no language
    ("{noformat}\n*not bold* [~bob]\n{noformat}", "```\n*not bold* [~bob]\n```"),
    ("{panel:title=Setup|borderStyle=dashed}\nrun *it*\n{panel}", "> **Setup**\n>\n> run **it**"),
    ("{panel}\nno title\n{panel}", "> no title"),
    ("{quote}\nsaid *this*\n{quote}", "> said **this**"),
    ("bq. quoted\nnext", "> quoted\n\nnext"),
    ("* one\n** two\n*** three\n# first\n## second\n#* mixed",
     "- one\n  - two\n    - three\n1. first\n   1. second\n   - mixed"),
    ("||h1||h2||\n|a|b|", "|h1|h2|\n|---|---|\n|a|b|"),
    ("|a|b|\n|c|d|", "|a|b|\n|---|---|\n|c|d|"),  # no header row in JIRA: the first row becomes one
    ("[the doc|https://a.example/x_y_z] [https://b.example] [www.c.example]",
     "[the doc](https://a.example/x_y_z) <https://b.example> <https://www.c.example>"),
    ("[mailto:ops@acme.example] [Ops|mailto:ops@acme.example]", "<ops@acme.example> [Ops](mailto:ops@acme.example)"),
    ("see [^trace.log] and !shot.png|thumbnail!", "see [attachment: trace.log] and [attachment: shot.png]"),
    ("!https://img.example/a.png!", "![https://img.example/a.png](https://img.example/a.png)"),
    ("[~bob] [~JIRAUSER10101] [~accountid:5b10a2844c20165700ede001] [Robert|~bob] [~stranger]",
     "@Bob Builder @Bob Builder @Bob Builder @Bob Builder @stranger"),
    ("thanks[~bob]!", "thanks @Bob Builder!"),
    ("ok :) (y) (!) (x) (/)", "ok 🙂 👍 ⚠️ ❌ ✅"),
    ("a -- b --- c, well-known x - y", "a – b — c, well-known x - y"),
    ("line\\\\break", "line  \nbreak"),
    ("text\n----\nmore", "text\n\n---\nmore"),
])
def test_wiki_construct_becomes_markdown(wiki, markdown):
    assert wiki_to_markdown(wiki, NAMES) == markdown


def test_every_jira_emoticon_has_its_emoji():
    for emoticon, emoji in EMOTICONS.items():
        assert wiki_to_markdown(f"so {emoticon} here") == f"so {emoji} here"


def test_markdown_shows_as_the_console_renders_it():
    assert "<h2>Steps</h2>" in html("h2. Steps")
    assert "<table>" in html("|a|b|\n|c|d|") and "<th>a</th>" in html("|a|b|\n|c|d|")
    nested = html("* one\n** two\n# first\n## second")
    assert re.search(r"<li>one\s*<ul>\s*<li>two</li>", nested)
    assert re.search(r"<li>first\s*<ol>\s*<li>second</li>", nested)
    panel = html("{panel:title=Setup}\nrun it\n{panel}")
    assert "<blockquote>" in panel and "<p><strong>Setup</strong></p>" in panel  # the title its own line
    assert "<h2>" not in html("text\n----") and "<hr />" in html("text\n----")  # a rule, not a heading
    quote_then_text = html("bq. quoted\nnot quoted")
    assert quote_then_text.index("</blockquote>") < quote_then_text.index("not quoted")
    assert '<a href="mailto:ops@acme.example">' in html("[mailto:ops@acme.example]")
    assert "<s>gone</s>" in html("-gone-")
    assert '<code class="language-python">' in html("{code:python}\nx = 1\n{code}")


def test_awkward_text_converts():
    assert wiki_to_markdown("|") == "|" and wiki_to_markdown("a\n|\nb") == "a\n|\nb"  # the library raises on these
    assert (wiki_to_markdown("|multi\nline|cell|\n|open\nend\n\nafter")
            == "|multi line|cell|\n|---|---|\n|open end|\n\nafter")
    assert wiki_to_markdown("{code}never closed") == "{code}never closed"
    assert wiki_to_markdown("[a|b") == "[a|b" and wiki_to_markdown("[not a link|just text]") == "[not a link|just text]"


WORD = st.from_regex(r"[A-Za-z][a-z0-9]{2,8}", fullmatch=True)
WRAPS = ["{}", "*{}*", "_{}_", "-{}-", "+{}+", "^{}^", "~{}~", "??{}??", "{{{{{}}}}}", "{{color:red}}{}{{color}}",
         "[{}|https://x.example/p]", "h2. {}", "bq. {}", "* {}", "** {}", "# {}", "|{}|", "||{}||",
         "{{panel:title=T}}\n{}\n{{panel}}", "{{quote}}\n{}\n{{quote}}", "{{code:java}}\n{}\n{{code}}",
         "{{noformat}}\n{}\n{{noformat}}", "[^{}.log]", "!{}.png|thumbnail!", "[~{}]", "{}\\\\", "(y) {} :)"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(WRAPS), WORD, st.sampled_from([" ", "\n", "\n\n"])), min_size=1, max_size=12))
def test_no_text_is_dropped(parts):
    wiki = "".join(wrap.format(word) + sep for wrap, word, sep in parts)
    markdown = wiki_to_markdown(wiki)
    for _, word, _ in parts:
        assert word in markdown, (wiki, markdown)


def test_score_against_the_library_expectations_does_not_fall():
    result = score(wiki_to_markdown)
    assert result["tests"] == 299 and result["asserts"] == 401
    # measured when written: 115/299 exactly, 230/299 allowing the deliberate differences tests/wiki_score.py
    # lists (the rules before: 68 and 131)
    assert result["exact"] >= 115 and result["allowed"] >= 230, result["missed"][:5]
