"""The benchmark's tables: throughput, requests and memory per cell, then reads and scale-out."""
from __future__ import annotations

COLUMNS = (("ceiling", "ceiling items"), ("ceiling_comments", "ceiling +comments"), ("ours_sqlite", "ours sqlite"),
           ("ours_postgresql", "ours pg"), ("ours_rest", "ours REST"), ("naive", "naive"), ("peer", "peer tap"),
           ("ours_process", "ours 2 procs"), ("ours_one_process", "ours 1 proc"))
RATIOS = (("ours/ceiling", "ours/ceil"), ("ours/ceiling+comments", "ours/ceil+c"), ("rest/ceiling", "REST/ceil"),
          ("ours/naive", "ours/naive"), ("ours/peer", "ours/peer"), ("process/peer", "2 procs/peer"),
          ("one process/peer", "1 proc/peer"))


def _rate(m: dict | None) -> str:
    if not m:
        return "-"
    if m.get("failed"):
        return f"failed after {m['items']:,.0f} items"
    return f"{m['items'] / m['seconds']:,.0f}/s {m['requests']:,.0f}r {m['rss_mb']:,.0f}MB" if m["seconds"] else "-"


def print_table(results: dict) -> None:
    print("items/s, requests (r) and peak memory (our worker tree: summed Pss) per measurement; medians of the runs; "
          "ratios taken within a run;")
    print("ceiling: the client library reading the items only, or the items and every comment (no latency only);")
    print("ours REST: GitLab read over its REST API (GITLAB_API=rest; ours: GraphQL); GitHub as whole processes timed "
          "start to exit, as the tap is:")
    print("ours 2 procs: `cli.py run` then a burst `cli.py worker`; ours 1 proc: `cli.py run --in-process`\n")
    head = ["vendor", "N", "lat", "runs"] + [title for _, title in COLUMNS] + [title for _, title in RATIOS]
    rows = [head]
    for cell in results["cells"]:
        m = cell["median"]
        ratios = m.get("ratios", {})
        rows.append([cell["vendor"], f"{cell['n']:,}", f"{cell['latency'] * 1000:.0f}ms", str(cell["runs"])]
                    + [_rate(m.get(key)) for key, _ in COLUMNS]
                    + [f"{ratios[r]:.2f}" if r in ratios else "-" for r, _ in RATIOS])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for row in rows:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())
    if results["reads"]:
        print("\nstatus reads (1000 calls each: in-process, and over HTTP to the console's server) and preview "
              "(slowest of 3); targets: status p99 <= 10 ms, preview <= 1 s")
        for key, doc in results["reads"].items():
            status, http = doc["status"], doc["http"]
            print(f"  {key:<18} jobs.api.status p50 {status['api']['p50_ms']:.2f} ms "
                  f"p99 {status['api']['p99_ms']:.2f} ms"
                  f" | cli status --json p50 {status['cli']['p50_ms']:.2f} ms p99 {status['cli']['p99_ms']:.2f} ms"
                  f" | preview {doc['preview_s']:.2f} s"
                  f" | HTTP GET /import/status p50 {http['status']['p50_ms']:.2f} ms "
                  f"p99 {http['status']['p99_ms']:.2f} ms"
                  f" | HTTP preview {http['preview_s']:.2f} s")


def print_scale(scale: dict) -> None:
    print(f"\nscale-out: GitHub, {scale['repos']} repositories x {scale['issues_per_repo']:,} issues, "
          f"{scale['latency'] * 1000:.0f} ms a request")
    for i, run in enumerate(scale["runs"], 1):
        one, two = run["1 worker"], run["2 workers"]
        print(f"  run {i}: 1 worker {one['seconds']:.1f} s ({one['items']:,} items, {one['requests']:,}r), "
              f"2 workers {two['seconds']:.1f} s ({two['items']:,} items, {two['requests']:,}r, "
              f"parts add up: {two['parts_add_up']}) -> {run['speedup']:.2f}x")
    print(f"  median speed-up with 2 workers: {scale['speedup']:.2f}x")
