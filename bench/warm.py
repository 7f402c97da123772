"""Warm a fake for every client the benchmark times: `python -m bench.warm VENDOR URL`.

The fakes cache what they compute per query shape (sorted orders, keyset positions, rendered rows;
tests/fakes/dataset.py `Memo`), and our connector's queries are not the ceiling's (keyset pages
instead of offsets, bulk journal lookups), so whichever client met the fake first paid its one-off
work, on the same two cores as the client itself. Before any timed run, this reads the benchmark
project untimed once as the ceiling does (items and comments) and once as our connector does (its
`read()`, mapping included, nothing written). Prints one JSON line: the items and comments read.
"""
from __future__ import annotations

import json
import sys

from bench.ceiling import COMMENT, READERS
from bench.fakes import PROJECTS, source_config


def main(vendor: str, url: str) -> dict[str, int]:
    from importers import source_class

    counts = {"ceiling": sum(1 for kind, _ in READERS[vendor](url, True) if kind != COMMENT)}
    source = source_class(vendor)(source_config(vendor, url))
    try:
        counts["ours"] = sum(len(page.items) for page in source.read(PROJECTS[vendor]))
    finally:
        source.close()
    return counts


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
