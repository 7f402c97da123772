"""The peer: MeltanoLabs' Singer tap for GitHub, extracting the same repository to JSON lines.

The benchmark installs `meltanolabs-tap-github` into a virtual environment of its own under
bench/.venvs/ (gitignored) on first use, points its `api_url_base` at the fake GitHub, selects
the `issues` and `issue_comments` streams (the tap reads comments repo-wide, as we do) and
writes its Singer messages to a file. It runs without a token: the tap checks every token
against https://api.github.com/rate_limit whatever `api_url_base` says, so the fake serves the
repository as a public one (the same requests, without an Authorization header). Time is the tap's wall time;
memory its peak RSS. A tap that exits with an error is kept as a result with its last error line: it reads the
repository comment listing by page number, which GitHub refuses past about 40,000 comments (422; the fake does
the same), so at 100,000 issues it stops there.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bench.fakes import PROJECTS
from bench.procs import PeakRss

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venvs" / "tap-github"
PACKAGE = "meltanolabs-tap-github==1.30.1"
STREAMS = ("repositories", "issues", "issue_comments")  # the two we compare, and the parent they hang off


def tap() -> Path:
    """The tap's executable, installing it into its own venv the first time."""
    exe = VENV / "bin" / "tap-github"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", PACKAGE], check=True)
    return exe


def _config(url: str, workdir: Path) -> Path:
    path = workdir / "tap-config.json"
    path.write_text(json.dumps({"repositories": [PROJECTS["github"]], "api_url_base": url,
                                "start_date": "2000-01-01T00:00:00Z"}))
    return path


def _catalog(exe: Path, config: Path, workdir: Path) -> Path:
    """The tap's own discovered catalog with only STREAMS selected."""
    found = json.loads(subprocess.run([str(exe), "--config", str(config), "--discover"], capture_output=True,
                                      text=True, check=True).stdout)
    for stream in found["streams"]:
        chosen = stream["tap_stream_id"] in STREAMS
        for entry in stream.get("metadata", []):
            if entry.get("breadcrumb") == []:
                entry["metadata"]["selected"] = chosen
    path = workdir / "tap-catalog.json"
    path.write_text(json.dumps(found))
    return path


def extract_once(url: str, workdir: Path) -> dict:
    exe = tap()
    config = _config(url, workdir)
    catalog = _catalog(exe, config, workdir)
    output = workdir / "tap-output.jsonl"
    with output.open("w") as sink:
        started = time.perf_counter()
        sampler = PeakRss(subprocess.Popen([str(exe), "--config", str(config), "--catalog", str(catalog)],
                                           stdout=sink, stderr=(workdir / "tap-stderr.log").open("w")))
        code = sampler.wait()
        seconds = time.perf_counter() - started
    counts: dict[str, int] = {}
    with output.open() as lines:
        for line in lines:
            if line.startswith('{"type":"RECORD"') or '"type": "RECORD"' in line[:40]:
                stream = json.loads(line)["stream"]
                counts[stream] = counts.get(stream, 0) + 1
    output.unlink()
    result = {"items": counts.get("issues", 0), "comments": counts.get("issue_comments", 0), "seconds": seconds,
              "rss_mb": sampler.mb}
    if code != 0:  # kept as a result: at 100,000 issues the tap stops where GitHub refuses deep comment pages
        result.update(failed=1, error=_last_error(workdir / "tap-stderr.log") or f"tap-github exited {code}")
        print(f"# peer tap failed after {seconds:.1f} s: {result['error']}", file=sys.stderr, flush=True)
    return result


def _last_error(log: Path) -> str:
    """The tap's last traceback line (its exception and message), shortened."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
