"""Worst-case inputs for the JIRA wiki markup converter (importers/jira/wiki.py): seconds for 10, 100 and
1000 KB of each hostile pattern (unclosed openers of every rule, blocks that never close, long table cells).
Linear rules take about 10 times longer for 10 times the text; a rule that scans to the end of the line or
text from every unclosed opener takes about 100 times longer (the attacker review's finding: 100 KB of
`*a ` took 96 s). A pattern stops growing once one size takes more than --cap seconds.

Run as `python -m bench.wiki_worst [--sizes 10 100 1000] [--cap 10] [PATTERN...]`.
"""
from __future__ import annotations

import argparse
import sys
import time

from importers.jira.wiki import wiki_to_markdown

PATTERNS = {  # name -> (text before the repeated unit, the unit)
    "code_unclosed": ("", "{code:a}x"),
    "noformat_unclosed": ("", "{noformat:a}"),
    "code_param_unclosed": ("", "{code:a"),
    "panel_unclosed": ("", "{panel:title=t}x"),
    "panel_param": ("", "{panel:x}"),
    "quote_pairs": ("", "{quote}x "),
    "panel_nest": ("", "{panel}{quote}"),
    "monospace_open": ("", "{{a "),
    "star_open": ("", "*a "),
    "under_open": ("", "_a "),
    "minus_open": ("", "-a "),
    "plus_open": ("", "+a "),
    "caret_open": ("", "^a "),
    "tilde_open": ("", "~a "),
    "cite_open": ("", "??a "),
    "mention_open": ("", "[~a "),
    "mention_alias": ("", "[a|~"),
    "attach_open": ("", "[^a "),
    "link_open": ("", "[a|"),
    "mailto_open": ("", "[a|mailto:"),
    "image_open": ("", "!a|"),
    "color_param": ("", "{color:a"),
    "emoticons": ("", ":):)"),
    "dashes": ("", "-- "),
    "table_cells": ("", "|a"),
    "table_rows": ("", "|a\n"),
    "table_cell_lines": ("|a\n", "b\n"),
    "lists": ("", "* a\n"),
    "blank_lines": ("", "a\n\n\n"),
}


def hostile(name: str, kb: int) -> str:
    prefix, unit = PATTERNS[name]
    return prefix + unit * (kb * 1024 // len(unit))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000], help="sizes in KB")
    parser.add_argument("--cap", type=float, default=10.0, help="stop a pattern after a size slower than this")
    parser.add_argument("patterns", nargs="*", metavar="PATTERN", help=f"any of {', '.join(PATTERNS)}; all by default")
    args = parser.parse_args(argv)
    if unknown := set(args.patterns) - set(PATTERNS):
        parser.error(f"no such pattern: {', '.join(sorted(unknown))}")
    print(f"{'pattern':20s}" + "".join(f"{kb:>9d} KB" for kb in args.sizes) + "   growth per 10x")
    for name in args.patterns or list(PATTERNS):
        seconds: list[float] = []
        for kb in args.sizes:
            text = hostile(name, kb)
            start = time.perf_counter()
            wiki_to_markdown(text)
            seconds.append(time.perf_counter() - start)
            if seconds[-1] > args.cap:
                break
        cells = "".join(f"{s:10.3f} s" for s in seconds) + " " * 12 * (len(args.sizes) - len(seconds))
        growth = " ".join(f"x{b / a:.0f}" if a > 0.0005 else "-" for a, b in zip(seconds, seconds[1:], strict=False))
        print(f"{name:20s}{cells}   {growth}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
