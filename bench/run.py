"""End-to-end benchmark: ringwatch against the floor and a naive pipeline, in one run on the same files.

For each size it generates the demo scenario once (`ringwatch generate`, timed but reported
apart: the generator is no part of ringwatch's time), then runs, each in its own process:

- floor: a plain DuckDB load of the same files, no validation (``CREATE TABLE ... AS SELECT *
  FROM read_parquet(...)`` for signups and usage, then ``CHECKPOINT``);
- ringwatch's stages as a user runs them: ingest (signups and usage), detect, export bans,
  review, evaluate (``ringwatch evaluate --json`` against the labels file);
- naive: `bench/naive.py` (pandas and networkx) on the signups file; its flagged accounts are
  scored here with ringwatch's own ``evaluate`` and labels reader, so precision and recall
  mean the same for both.

Per stage: wall time of the process, start to exit (interpreter start and imports included,
as a user waits for it); peak memory of the process tree, the larger of ``ru_maxrss`` from
``os.wait4`` of the stage's process (on Linux the largest resident set of that process or of
any descendant it waited for) and the tree's resident memory summed from /proc every quarter
second (the Spark stage's JVM is not waited for); rows per second: signup plus usage rows
for generate, floor and ingest, accounts (the size asked for) for the others.

- spark: detection again with ``--engine spark`` (local mode) on a copy of the ingested store;
  its flagged accounts, ring ids and ring scores are compared with the embedded engine's.

Then ingest ÷ floor (time and memory), ringwatch (ingest + detect) ÷ naive, and both
pipelines' precision and recall. It prints Markdown tables and writes every number, with
the machine's facts (cores, memory, load average at start and end, library versions,
ringwatch's commit, the DuckDB memory limit the stages ran under), to one JSON file. Not a
test: run it by hand.

    python bench/run.py --accounts 1000000 3000000 10000000
    python bench/run.py --accounts 100000 --workdir /tmp/bench --skip naive
    python bench/run.py --accounts 1000000 --data /tmp/demo-1m --only floor ingest
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from ringwatch.graph.reports.evaluation import evaluate
from ringwatch.ingest.reader import read_records

import ringwatch
from ringwatch.settings import child_environment, memory_limit

STAGES = ("floor", "ingest", "detect", "export", "review", "evaluate", "naive", "spark")
# A stage is skipped when the stage it reads from failed in this run.
NEEDS = {"detect": "ingest", "export": "detect", "review": "detect", "evaluate": "detect", "spark": "ingest"}
ROW_STAGES = ("generate", "floor", "ingest")
QUALITY = ("precision", "recall", "f1", "flagged_accounts", "fraud_accounts")
RINGWATCH = [sys.executable, "-c", "import sys; from ringwatch.cli import main; sys.argv[0] = 'ringwatch'; main()"]
NAIVE = Path(__file__).with_name("naive.py")
FLOOR = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1])
for name, path in zip(("signups", "usage"), sys.argv[2:]):
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?)", [path])
con.execute("CHECKPOINT")
con.close()
"""


def measure(cmd: list, logs: Path, env: dict, timeout: float | None = None) -> dict:
    """Run ``cmd`` in its own process: wall time, peak memory (MB) and, if it failed, why."""
    logs.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(f"{logs}.out", "w") as out, open(f"{logs}.err", "w") as err:
        proc = subprocess.Popen([str(part) for part in cmd], stdout=out, stderr=err, env=env)
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        if timer:
            timer.start()
        tree = TreeMemory(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        tree.stop()
        if timer:
            timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    waited = round(usage.ru_maxrss / 1024)
    result = {"seconds": round(time.perf_counter() - started, 2), "peak_mb": max(waited, tree.peak_mb),
              "waited_peak_mb": waited, "sampled_peak_mb": tree.peak_mb}
    if proc.returncode:
        tail = Path(f"{logs}.err").read_text().strip().splitlines()[-3:]
        killed = timeout and result["seconds"] >= timeout
        result["error"] = f"stopped after {timeout:g} s" if killed else f"exit {proc.returncode}: " + " | ".join(tail)
    return result


class TreeMemory:
    """The largest resident memory of a process and its descendants together, sampled from /proc every quarter
    second. ``ru_maxrss`` covers only processes the stage waited for; Spark's JVM is started and left by PySpark."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._done = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.25):
            self.peak = max(self.peak, sum(_rss(pid) for pid in _tree(self.pid)))

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    @property
    def peak_mb(self) -> int:
        return round(self.peak / 2**20)


def _tree(root: int) -> list[int]:
    """``root`` and every process below it, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def data_folder(accounts: int, seed: int, workdir: Path, env: dict) -> tuple[Path, dict]:
    """The generated files for this size and seed, generated now unless a finished folder is there."""
    folder = workdir / f"data-{accounts}-seed{seed}"
    if all((folder / f"{kind}.parquet").exists() for kind in ("signups", "usage", "labels")):
        return folder, {"reused": str(folder)}
    partial = folder.with_name(folder.name + ".partial")  # renamed once whole, so a crash is never reused
    shutil.rmtree(partial, ignore_errors=True)
    result = measure([*RINGWATCH, "generate", "--accounts", accounts, "--seed", seed, "--out", partial],
                     workdir / "logs" / f"generate-{accounts}", env)
    if "error" in result:
        sys.exit(f"generate failed: {result['error']}")
    partial.rename(folder)
    return folder, result


def score(flagged_csv: Path, signups: Path, labels: Path) -> dict:
    """Flagged accounts against the labels, by ringwatch's ``evaluate`` over every account in the signups."""
    accounts = pq.read_table(signups, columns=["account_id"])["account_id"].to_pandas().dropna().unique()
    flagged = pd.read_csv(flagged_csv, dtype=str).drop_duplicates("account_id").set_index("account_id")["group"]
    ring = pd.Series(accounts).map(flagged)
    results = pd.DataFrame({"account_id": accounts, "ring_id": ring, "flagged": ring.notna(),
                            "risk_score": ring.notna().astype(float)})
    truth = pd.concat([batch.rows for batch in read_records("labels", labels)], ignore_index=True)
    return evaluate(results, truth)


def commands(data: Path, run: Path, seed: int) -> dict[str, list]:
    """Each stage's command line."""
    signups, usage, db = data / "signups.parquet", data / "usage.parquet", run / "store.duckdb"
    return {
        "floor": [sys.executable, "-c", FLOOR, run / "floor.duckdb", signups, usage],
        "ingest": [*RINGWATCH, "ingest", "--db", db, "--signups", signups, "--usage", usage,
                   "--quarantine", run / "quarantine.csv"],
        "detect": [*RINGWATCH, "detect", "--db", db, "--seed", seed],
        "export": [*RINGWATCH, "export", "bans", "--db", db, "--out", run / "bans.csv", "--analyst", "bench"],
        "review": [*RINGWATCH, "review", "--db", db, "--out", run / "review.html"],
        "evaluate": [*RINGWATCH, "evaluate", "--db", db, "--json", "--labels", data / "labels.parquet"],
        "naive": [sys.executable, NAIVE, signups, run / "naive-flagged.csv", "--seed", seed],
        "spark": [*RINGWATCH, "detect", "--engine", "spark", "--db", run / "spark.duckdb", "--seed", seed],
    }


def fresh(*paths: Path) -> None:
    """Remove what an earlier run left, so a stage starts from nothing."""
    for path in paths:
        for leftover in (path, Path(f"{path}.wal")):
            leftover.unlink(missing_ok=True)


def run_size(accounts: int, seed: int, stages: list[str], workdir: Path, data: Path | None, env: dict,
             timeout: float | None) -> dict:
    """Generate (or reuse) the files for one size and run the chosen stages on them."""
    generated = {"reused": str(data)} if data else None
    if data is None:
        data, generated = data_folder(accounts, seed, workdir, env)
    run = workdir / f"run-{accounts}-seed{seed}"
    run.mkdir(parents=True, exist_ok=True)
    rows = {kind: pq.ParquetFile(data / f"{kind}.parquet").metadata.num_rows for kind in ("signups", "usage")}
    out = {"accounts": accounts, "seed": seed, "data": str(data), "rows": rows, "stages": {"generate": generated}}
    quality = {}
    for name, cmd in commands(data, run, seed).items():
        need = out["stages"].get(NEEDS.get(name), {})
        if name not in stages:
            continue
        if "error" in need or "skipped" in need:
            out["stages"][name] = {"skipped": f"{NEEDS[name]} did not finish"}
            continue
        fresh(*{"floor": [run / "floor.duckdb"], "ingest": [run / "store.duckdb", run / "quarantine.csv"],
                "naive": [run / "naive-flagged.csv"], "spark": [run / "spark.duckdb"]}.get(name, []))
        if name == "spark":
            shutil.copyfile(run / "store.duckdb", run / "spark.duckdb")  # the ingested store, detected again
        print(f"{accounts:,} accounts: {name} ...", file=sys.stderr, flush=True)
        result = out["stages"][name] = measure(cmd, run / "logs" / name, env, timeout)
        if name == "floor":
            fresh(run / "floor.duckdb")  # as large as the data; nothing reads it
        if "error" in result:
            continue
        if name == "evaluate":
            text = Path(f"{run / 'logs' / name}.out").read_text()
            quality["ringwatch"] = {k: json.loads(text[text.index("{"):])[k] for k in QUALITY}
        if name == "naive":
            quality["naive"] = {k: score(run / "naive-flagged.csv", data / "signups.parquet",
                                         data / "labels.parquet")[k] for k in QUALITY}
        if name == "spark":
            result["same_as_embedded"] = same_rings(run / "store.duckdb", run / "spark.duckdb")
    for name, result in out["stages"].items():
        if result and "seconds" in result:
            count = rows["signups"] + rows["usage"] if name in ROW_STAGES else accounts
            result["rows_per_second"] = round(count / result["seconds"])
    out["quality"], out["compare"] = quality, compare(out["stages"])
    return out


def same_rings(embedded: Path, spark: Path) -> dict:
    """The Spark engine's results against the embedded engine's on the same records: flagged accounts, rings."""
    from ringwatch.graph.engines import EngineError, open_engine

    found = []
    for path in (embedded, spark):
        try:
            with open_engine("embedded", path) as engine:
                accounts, rings = engine.results("accounts"), engine.results("rings")
        except EngineError as exc:  # the embedded stage was not run: nothing to compare with
            return {"error": str(exc)}
        found.append((frozenset(accounts.loc[accounts["flagged"].astype(bool), "account_id"]),
                      sorted(rings["ring_id"]), rings.sort_values("ring_id")["risk_score"].round(9).tolist()))
    (flag_e, ids_e, score_e), (flag_s, ids_s, score_s) = found
    return {"flagged": len(flag_s), "same_flagged": flag_e == flag_s, "same_ring_ids": ids_e == ids_s,
            "same_ring_scores": score_e == score_s}


def compare(stages: dict) -> dict:
    """Ingest ÷ floor and ringwatch (ingest + detect) ÷ naive: time and peak memory."""
    done = {name: r for name, r in stages.items() if r and "seconds" in r and "error" not in r}
    out = {}
    if {"ingest", "floor"} <= done.keys():
        out["ingest_over_floor"] = {"time": round(done["ingest"]["seconds"] / done["floor"]["seconds"], 2),
                                    "memory": round(done["ingest"]["peak_mb"] / done["floor"]["peak_mb"], 2)}
    if {"ingest", "detect", "naive"} <= done.keys():
        seconds = done["ingest"]["seconds"] + done["detect"]["seconds"]
        peak = max(done["ingest"]["peak_mb"], done["detect"]["peak_mb"])
        out["ringwatch_over_naive"] = {"ringwatch_seconds": round(seconds, 2), "ringwatch_peak_mb": peak,
                                       "time": round(seconds / done["naive"]["seconds"], 2),
                                       "memory": round(peak / done["naive"]["peak_mb"], 2)}
    return out


def machine() -> dict:
    """Cores, memory, versions and ringwatch's commit (of the code actually imported)."""
    source = Path(ringwatch.__file__).resolve().parent
    git = ["git", "-C", str(source)]
    commit = subprocess.run([*git, "rev-parse", "HEAD"], check=False, capture_output=True, text=True).stdout.strip()
    status = subprocess.run([*git, "status", "--porcelain"], check=False, capture_output=True, text=True).stdout
    versions = {}
    for package in ("duckdb", "pandas", "networkx", "networkit", "pyarrow", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"cores": os.cpu_count(), "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(), "versions": versions,
            "ringwatch_commit": commit + ("+changes" if status.strip() else ""), "ringwatch_source": str(source)}


def tables(sizes: list[dict]) -> str:
    """The per-stage table and the comparison table, in Markdown."""
    lines = ["| accounts | stage | seconds | peak MB | rows/s | note |", "|---:|---|---:|---:|---:|---|"]
    for size in sizes:
        for name, r in size["stages"].items():
            note = r.get("error") or r.get("skipped") or ("reused files" if "reused" in r else "")
            if name == "generate":
                note = note or "not part of ringwatch's time"
            cells = ["" if k not in r else f"{r[k]:,.1f}" if k == "seconds" else f"{r[k]:,}"
                     for k in ("seconds", "peak_mb", "rows_per_second")]
            lines.append(f"| {size['accounts']:,} | {name} | " + " | ".join(cells) + f" | {note} |")
    head = ("| accounts | ingest ÷ floor time | ingest ÷ floor memory | ringwatch s (ingest + detect) | naive s | "
            "ringwatch ÷ naive time | ringwatch ÷ naive memory | precision ringwatch / naive | recall ringwatch / naive |")
    lines += ["", head, "|---:|" + "---:|" * 8]
    for size in sizes:
        floor, naive = size["compare"].get("ingest_over_floor", {}), size["compare"].get("ringwatch_over_naive", {})
        q = size["quality"]
        pair = [" / ".join(f"{q[who][k]:.3f}" if who in q else "–" for who in ("ringwatch", "naive"))
                for k in ("precision", "recall")]
        cells = [floor.get("time"), floor.get("memory"), naive.get("ringwatch_seconds"),
                 size["stages"].get("naive", {}).get("seconds"), naive.get("time"), naive.get("memory")]
        lines.append(f"| {size['accounts']:,} | " + " | ".join("–" if c is None else str(c) for c in cells)
                     + f" | {pair[0]} | {pair[1]} |")
    for size in sizes:
        same = size["stages"].get("spark", {}).get("same_as_embedded")
        if same:
            lines.append(f"\n{size['accounts']:,} accounts, Spark engine against the embedded engine: " + ", ".join(
                f"{k.replace('_', ' ')} {v}" for k, v in same.items()))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the generated files (reused by a later run) and stores here; default: a temp dir")
    parser.add_argument("--data", type=Path, default=None,
                        help="use this folder's signups, usage and labels Parquet files (one --accounts size)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--only", nargs="+", choices=STAGES, default=None, help="run only these stages")
    which.add_argument("--skip", nargs="+", choices=STAGES, default=[], help="run all stages but these")
    parser.add_argument("--memory-limit", default=None, help="RINGWATCH_MEMORY_LIMIT for ringwatch's stages")
    parser.add_argument("--timeout", type=float, default=None,
                        help="stop a stage after this many seconds (recorded as failed; the others go on)")
    parser.add_argument("--json", type=Path, default=Path("bench.json"), help="where to write every number")
    args = parser.parse_args(argv)
    if args.data and len(args.accounts) != 1:
        parser.error("--data holds one size: give one --accounts")
    stages = [s for s in STAGES if s in (args.only or STAGES) and s not in args.skip]
    env = child_environment(memory_limit=args.memory_limit) if args.memory_limit else dict(os.environ)
    facts = machine() | {"load_start": os.getloadavg(), "memory_limit": memory_limit(env)}
    with tempfile.TemporaryDirectory(prefix="ringwatch-bench-") as scratch:
        workdir = (args.workdir or Path(scratch)).resolve()
        sizes = [run_size(n, args.seed, stages, workdir, args.data, env, args.timeout) for n in args.accounts]
    facts["load_end"] = os.getloadavg()
    report = {"machine": facts, "options": {"seed": args.seed, "stages": stages, "memory_limit": args.memory_limit,
                                 "timeout": args.timeout},
              "sizes": sizes}
    args.json.write_text(json.dumps(report, indent=2, default=str))
    print(tables(sizes))
    print(f"\nload average {facts['load_start'][0]:.2f} at start, {facts['load_end'][0]:.2f} at end; "
          f"{facts['cores']} cores, {facts['memory_gb']} GB; every number in {args.json}")
    failed = any("error" in r for size in sizes for r in size["stages"].values() if r)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
