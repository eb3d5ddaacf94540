"""The figures of a results file against the issue's targets: printed to the terminal after a
run, and BENCHMARKS.md rendered from every bench/results/*.json (the notes section kept)."""
from __future__ import annotations

import json

from bench.measure import ROOT

RESULTS_DIR = ROOT / "bench" / "results"
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"

# Targets from the issue (stated for `large` on a 2-core machine).
TARGETS = {
    "full_build_s": 20 * 60,
    "events_vs_floor": 3.0,
    "refresh_s": 60,
    "refresh_growth": 1.2,
    "peak_rss_gb": 6.0,
    "noop_s": 15,
}


def fmt_s(v) -> str:
    if v is None:
        return "-"
    return f"{v / 60:.1f} min ({v:.0f} s)" if v >= 120 else f"{v:.1f} s"


def rows_of(r: dict) -> list[tuple[str, str, str, str]]:
    """(figure, value, target, load average before -> after)."""
    f = r["figures"]

    def la(key):
        s = r.get(key)
        return f"{s['load_before']:.1f} -> {s['load_after']:.1f}" if s else "-"

    def ok(v, t, fmt):
        if v is None:
            return "-"
        return f"{fmt(t)} {'✅' if v <= t else '❌'}"

    fb = r["full_build"]
    st = fb.get("steps", {})
    ev = r["full_build"].get("usage_events") or 0
    rows = [
        ("1. full build, wall time", fmt_s(f["full_build_s"]),
         ok(f["full_build_s"], TARGETS["full_build_s"], lambda t: f"< {t // 60} min"), la("full_build")),
        ("   - ingestion (9 objects) / dbt build / publish (s)",
         f"{st.get('ingest_s', 0):.0f} / {st.get('dbt_step_s', 0):.0f} / {st.get('publish_s', 0):.0f}",
         "", ""),
        ("   - peak memory (process tree RSS)", f"{f['full_build_peak_rss_gb']:.2f} GB",
         ok(f["full_build_peak_rss_gb"], TARGETS["peak_rss_gb"], lambda t: f"< {t:g} GB"), la("full_build")),
        ("2. daily refresh after the full build (history D)", fmt_s(f["refresh_s"]),
         ok(f["refresh_s"], TARGETS["refresh_s"], lambda t: f"< {t} s"), la("refresh")),
        ("3. the same refresh with half the history (D/2)", fmt_s(f.get("refresh_half_s")), "", la("refresh_half")),
        ("   - growth when the history doubles (2. / 3.)", "-" if f["refresh_growth"] is None else f"{f['refresh_growth']:.2f}x",
         ok(f["refresh_growth"], TARGETS["refresh_growth"], lambda t: f"<= {t}x"), ""),
        ("4. floor: DuckDB reads + aggregates the usage events", f"{f['floor_s']:.1f} s ({ev / 1e6:.1f} M events)",
         "", la("floor")),
        ("   - pipeline event processing (ingest + event models)", fmt_s(f["events_processing_s"]), "", ""),
        ("   - ratio to the floor", "-" if f["events_vs_floor"] is None else f"{f['events_vs_floor']:.1f}x",
         ok(f["events_vs_floor"], TARGETS["events_vs_floor"], lambda t: f"<= {t:g}x"), ""),
        ("5. run with nothing new (no-op)", fmt_s(f["noop_s"]),
         ok(f["noop_s"], TARGETS["noop_s"], lambda t: f"< {t} s"), la("noop")),
        ("peak memory over all runs", f"{f['peak_rss_gb']:.2f} GB",
         ok(f["peak_rss_gb"], TARGETS["peak_rss_gb"], lambda t: f"< {t:g} GB"), ""),
    ]
    return rows


def print_figures(r: dict) -> None:
    print(f"\n=== {r['preset']}: {r['params']['accounts']:,} accounts x {r['params']['days']} days, "
          f"{(r['full_build'].get('usage_events') or 0):,} usage events in the full build ===")
    for fig, val, tgt, la in rows_of(r):
        print(f"{fig:<56} {val:>24}  {tgt:<14} {('load ' + la) if la and la != '-' else ''}")
    for key in ("half_build", "refresh_half", "full_build", "refresh"):
        s = r.get(key)
        if not s or "steps" not in s:
            continue
        st = s["steps"]
        print(f"\n{key}: steps (s): ingest {st['ingest_s']}, dbt {st['dbt_step_s']} "
              f"(nodes: {s['dbt'].get('by_type_s')}), publish {st['publish_s']}, "
              f"checks/other {st['checks_and_other_s']}")
        print("  ingestion per object:", ", ".join(f"{k.split('__', 1)[1]} {v}" for k, v in
                                                   st["ingest_per_object_s"].items()))
        print("  slowest models:", ", ".join(f"{m['name']} {m['s']:.1f}" for m in s["dbt"].get("models", [])[:8]))
    print(f"\nresults: {RESULTS_DIR / (r['preset'] + '.json')}; total {r['total_s']:.0f}s")


NOTES_START, NOTES_END = "<!-- notes:start -->", "<!-- notes:end -->"
ORDER = ["tiny", "small", "medium", "large"]


def step_line(title: str, s: dict) -> str:
    st, dbt = s["steps"], s.get("dbt", {})
    nodes = dbt.get("by_type_s", {})
    node_s = sum(nodes.values())
    ev = s.get("dagster_events", {})
    objs = ", ".join(f"{k.split('__', 1)[1]} {v:.1f}" for k, v in st["ingest_per_object_s"].items())
    return (f"{title}, per step (s): ingestion {st['ingest_s']:.0f} ({objs}); dbt build step "
            f"{st['dbt_step_s']:.0f}, of which dbt node execution {node_s:.0f} (models "
            f"{nodes.get('model', 0):.0f}, tests {nodes.get('test', 0):.0f}); GX and other checks "
            f"{st['checks_and_other_s']:.0f}; publish {st['publish_s']:.0f}. Slowest models: "
            + ", ".join(f"{x['name']} {x['s']:.1f}" for x in dbt.get("models", [])[:5])
            + (f". Dagster event log: {ev.get('ASSET_MATERIALIZATION', 0):,} materialization events, "
               f"{ev.get('ASSET_MATERIALIZATION_PLANNED', 0):,} planned" if ev else "") + ".")


def write_markdown() -> None:
    results = []
    for path in sorted(RESULTS_DIR.glob("*.json")):
        try:
            r = json.loads(path.read_text())
        except ValueError:
            continue
        if "figures" in r:
            results.append(r)
    results.sort(key=lambda r: ORDER.index(r["preset"]) if r["preset"] in ORDER else 99)
    notes = ""
    if BENCHMARKS_MD.exists():
        text = BENCHMARKS_MD.read_text()
        if NOTES_START in text and NOTES_END in text:
            notes = text[text.index(NOTES_START) + len(NOTES_START):text.index(NOTES_END)].strip("\n")
    lines = [
        "# Benchmarks",
        "",
        "Generated by `bench/run.py` (`make bench PRESET=<preset>`) from `bench/results/<preset>.json`;",
        "do not edit the tables by hand (the notes section at the end is kept). What each scenario",
        "does is described in bench/README.md.",
        "",
        "Definitions:",
        "- **full build**: `python -m orchestration.cli build` on a fresh state with D daily drops in the",
        "  landing zone: one Dagster run that ingests every drop of the nine objects, runs `dbt build`",
        "  (seeds, all models, all tests), the blocking GX checks, and publishes the serving database.",
        "- **daily refresh**: the same command after the next day's drop arrives (incremental models",
        "  reprocess the late-event lookback window), ending in publication.",
        "- **growth with history**: the daily refresh after the full build (history D) divided by the",
        "  same refresh on a state built from D/2 drops (`half_build`, then drop D/2+1 arrives).",
        "  The history is doubled by halving the baseline, not by loading 2D drops: for `large` that",
        "  would need ~120 GB of disk (bench/README.md).",
        "- **floor**: DuckDB alone (in-memory, default threads) reading the landing-zone usage-event",
        "  Parquet files of the D drops once and aggregating count(*), count(distinct user_id) per account",
        "  and UTC day (best of two runs, same files, same benchmark run).",
        "- **pipeline event processing**: the Dagster step time of the `raw/usage/events` ingestion plus",
        "  dbt's execution time (run_results.json) of the models reading the usage events",
        "  (`stg_usage__events` and the models that select from it directly).",
        "- **no-op**: the command when every complete drop is loaded and published (\"Up to date\").",
        "- **peak memory**: the largest sum of RSS over the command's process tree, polled every 0.2 s.",
        "- Load average: the 1-minute load average before -> after each figure (2 cores: above 2 the",
        "  machine was shared and the figure is pessimistic).",
        "",
        "Targets (issue, for `large` on 2 cores): full build < 20 min and event processing <= 3x the",
        "floor; refresh < 60 s and <= 1.2x when the history doubles; peak memory < 6 GB; no-op < 15 s.",
        "",
    ]
    for r in results:
        m, p = r["machine"], r["params"]
        v = m["versions"]
        lines += [
            f"## {r['preset']}: {p['accounts']:,} accounts x {p['days']} days "
            f"({(r['full_build'].get('usage_events') or 0) / 1e6:.1f} M usage events in the full build)",
            "",
            f"{r['date']}, commit {m.get('commit') or '?'}; {m['cores']} cores ({m['cpu']}), "
            f"{m['memory_gb']:g} GB RAM; Python {v.get('python')}, DuckDB {v.get('duckdb')}, "
            f"dbt-core {v.get('dbt-core')}, dbt-duckdb {v.get('dbt-duckdb')}, Dagster {v.get('dagster')}, "
            f"dagster-dbt {v.get('dagster-dbt')}, GX {v.get('great_expectations')}.",
            "",
            "| figure | value | target | load avg |",
            "|---|---:|---|---|",
        ]
        for fig, val, tgt, la in rows_of(r):
            lines.append(f"| {fig.strip().replace('- ', '↳ ')} | {val} | {tgt} | {la} |")
        for c in r.get("caveats", []):
            lines += ["", f"**Caveat:** {c}"]
        for key, title in (("full_build", "Full build"), ("refresh", "Refresh (history D)"),
                           ("refresh_half", "Refresh with half the history")):
            if "steps" in r.get(key, {}):
                runs = r[key].get("runs", 1)
                lines += ["", step_line(title + (f" ({runs} Dagster runs, summed)" if runs > 1 else ""), r[key])]
        lines.append("")
    lines += ["## Notes", "", NOTES_START, notes, NOTES_END, ""]
    BENCHMARKS_MD.write_text("\n".join(lines))
