"""Time and memory of a subprocess: wall time, and the peak RSS summed over its process tree
(polled every 0.2 s from /proc), with the 1-minute load average before and after; the size
of a directory tree; the bench's log line."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def load() -> float:
    return round(os.getloadavg()[0], 2)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')} load {load():.1f}] {msg}", flush=True)


def _proc_table() -> dict[int, tuple[int, int]]:
    """{pid: (ppid, rss_bytes)} for every process."""
    page = os.sysconf("SC_PAGE_SIZE")
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rfind(")") + 2:].split()[1])
            with open(f"/proc/{d}/statm") as f:
                rss = int(f.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue
        out[int(d)] = (ppid, rss)
    return out


def tree_rss(root: int) -> int:
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            total += table[pid][1]
        stack.extend(children.get(pid, []))
    return total


def run_measured(cmd: list[str], env: dict, log_path: Path, cwd: Path = ROOT) -> dict:
    """Run a command, polling the RSS of its process tree; wall time, peak, exit code, output."""
    load_before = load()
    t0 = time.perf_counter()
    with open(log_path, "w") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        peak = 0
        while proc.poll() is None:
            try:
                peak = max(peak, tree_rss(proc.pid))
            except Exception:
                pass
            time.sleep(0.2)
    wall = time.perf_counter() - t0
    text = log_path.read_text(errors="replace")
    return {"wall_s": round(wall, 2), "peak_rss_gb": round(peak / 2**30, 3), "rc": proc.returncode,
            "load_before": load_before, "load_after": load(), "log": str(log_path),
            "tail": text.strip().splitlines()[-3:]}


def du(path: Path) -> float:
    total = 0
    for p in Path(path).rglob("*"):
        try:
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
        except OSError:
            pass
    return round(total / 2**30, 3)
