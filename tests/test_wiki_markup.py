"""JIRA wiki markup (Server/Data Center bodies) to Markdown: each construct of the notation
(https://jira.atlassian.com/secure/WikiRendererHelpAction.jspa?section=all) renders, and is checked the way
the console shows it (CommonMark with tables and strikethrough, HTML off); no text is dropped; and the
score against the jira2markdown library's own test expectations (tests/wiki_score.py) does not fall."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bench.wiki_worst import PATTERNS, hostile
from importers.jira.wiki import _CODE_BLOCK, _MONOSPACE, EMOTICONS, _block_sub, _span, wiki_to_markdown
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


# -- hostile input: unclosed openers (attacker review: quadratic time, `*a ` x 100 KB took 96 s) -----------
# Speed is measured by bench/wiki_worst.py (10/100/1000 KB, linear growth), never here; these check that the
# one-pass rules give the text back as typed, and that they match exactly what the old regexes matched.
UNCLOSED = ["code_unclosed", "noformat_unclosed", "code_param_unclosed", "panel_unclosed", "panel_param",
            "monospace_open", "star_open", "under_open", "minus_open", "plus_open", "caret_open", "tilde_open",
            "cite_open", "mention_open", "attach_open", "link_open", "mailto_open", "color_param"]


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_hostile_input_keeps_its_text(name):
    wiki = hostile(name, 8)
    markdown = wiki_to_markdown(wiki)
    if name in UNCLOSED:
        assert markdown == wiki.strip()  # nothing closes: the text as typed
    text = re.sub(r"\{(panel|quote)\}", "", wiki)  # the words of the markup are not text
    for letter in "abtx":
        assert markdown.count(letter) >= text.count(letter), letter


def _old_span(mark: str) -> re.Pattern:  # the regex the one-pass rule replaced: same matches, quadratic time
    m = re.escape(mark)
    return re.compile(rf"(?<![\w{m}]){m}(?=[^\s{m}])(.+?)(?<=[^\s{m}]){m}(?![\w{m}])")


@settings(max_examples=400, deadline=None)
@example("*", "{{}}} *a* *b\nc* {{{x}}}")  # monospace of one `}`; no span over a line break
@given(st.sampled_from(["*", "_", "-", "+", "^", "~", "??"]), st.text(st.sampled_from("*_-+^~?a b\n{}"), max_size=30))
def test_one_pass_spans_match_what_the_regex_matched(mark, text):
    assert _span(mark, "<", ">").sub(text) == _old_span(mark).sub(r"<\1>", text)
    assert _MONOSPACE.sub(text, lambda inside: f"<{inside}>") == re.sub(r"\{\{(.+?)\}\}", r"<\1>", text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["{code}", "{code:", "{noformat}", "{noformat:", "{panel}", "}", "{", "x", ":", "\n"]),
                max_size=12).map("".join))
def test_one_pass_blocks_match_what_the_regex_matched(text):
    old = re.compile(r"\{(code|noformat)(?::([^}]*))?\}(.*?)\{\1\}", re.S)
    assert (_block_sub(text, _CODE_BLOCK, lambda kind, params, body: f"<{kind}|{params}|{body}>")
            == old.sub(lambda m: f"<{m.group(1)}|{m.group(2)}|{m.group(3)}>", text))


# -- fences nothing inside can end (attacker review: `{code}` content broke out into Markdown) ------------
def test_code_content_cannot_end_its_fence():
    breakout = html("{code}\na\n```\n# Heading\n[link](https://evil.example)\n{code}")
    assert "<h1>" not in breakout and "<a " not in breakout and "# Heading" in breakout
    assert breakout.count("<pre>") == 1
    assert "<h1>" not in html("{noformat}\n````\n# Heading\n{noformat}")
    language = html("{code:a```b}\n# Heading\n{code}")  # a language that is not a plain name is left out
    assert "<h1>" not in language and "<pre><code># Heading" in language
    assert '<code class="language-c++">' in html("{code:c++}\nint x;\n{code}")


def test_monospace_content_cannot_end_its_code_span():
    assert "<code>a`b</code>" in html("run {{a`b}} now")
    assert "<code>`x</code>" in html("run {{`x}} now") and "<code>y``</code>" in html("run {{y``}} now")


def test_a_code_block_inside_a_container_stays_one_code_block():
    for container in ("{panel}", "{panel:title=T}", "{quote}"):
        end = container.split(":")[0] if ":" in container else container
        end = end if end.endswith("}") else end + "}"
        rendered = html(f"{container}\nbefore\n{{code:python}}\nq = 1\n\nr = 2\n{{code}}\nafter\n{end}")
        assert rendered.count("<pre>") == 1, rendered
        assert '<pre><code class="language-python">q = 1\n\nr = 2\n</code></pre>' in rendered, rendered
        assert rendered.index("<blockquote>") < rendered.index("<pre>") < rendered.index("</blockquote>")
        assert "<p>q" not in rendered and "<p>after</p>" in rendered
