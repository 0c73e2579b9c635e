#!/usr/bin/env python3
"""Benchmark `integ sync jobs` against the local fakes; prints a Markdown report.

Measures, for the integ process only (os.wait4 rusage of that child, not the fake):
  (a) CPU time per job and jobs per second with no latency and no cost budget (restore rate
      1e9) over 20,000 jobs;
  (b) with the real cost model (10,000-point bucket) and a scaled-up restore rate: wall time
      against the cost-bound minimum (total query cost - 10,000) / restore rate, and the number
      of THROTTLED answers;
  (c) peak memory (max RSS) at 2,000 and 20,000 jobs.

Usage: scripts/bench.py [--jobs 20000] [--small 2000] [--restore 50000] [--repeat 3] [--release]
       scripts/bench.py --release --compare path/to/other/integ [--repeat 5] [--json runs.json]
           A/B in one run: scenario (a) and the events scenario of each provider, for this build
           and another integ binary, in alternating pairs (ABBA order), both against this build's
           fakes; reports medians, min - max spreads, after/before ratios and max RSS.
Needs curl (the browser stand-in). Not a test: the numbers vary with the machine; compare
ratios measured in one run.

Max RSS: `ru_maxrss` of a child is at least the RSS of the process that forked it (Linux keeps
the high-water mark of the memory image an exec replaces), so a long-running harness would
inflate it. Every measured command is therefore started by a fresh, minimal Python launcher
(LAUNCHER below, ~10 MiB), which reports the child's rusage and its own peak memory image
(VmHWM, an upper bound on what it can add to the child's figure); the report prints that
bound, and a max RSS at or below it is marked as not integ's own.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(release):
    cmd = ["cargo", "build", "--quiet", "--bins"] + (["--release"] if release else [])
    subprocess.run(cmd, cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release" if release else "debug")


def free_port():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Fake:
    def __init__(self, bindir, args):
        self.proc = subprocess.Popen(
            [os.path.join(bindir, "integ-fakes"), "serve", "--port", "0", "--exit-on-stdin-eof"] + args,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        banner = json.loads(self.proc.stdout.readline())
        self.base = banner["base_url"]
        self.env = banner["env"]

    def get(self, path):
        with urllib.request.urlopen(self.base + path) as r:
            return json.load(r)

    def post(self, path, body):
        req = urllib.request.Request(self.base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req) as r:
            return json.load(r)

    def close(self):
        self.proc.kill()
        self.proc.wait()


# Started afresh for every measured command: forks the command, waits for it with wait4 and
# prints its rusage (and the launcher's own peak RSS, a bound on what it adds to the child's
# ru_maxrss) as JSON.
LAUNCHER = r"""
import json, os, sys, time
# The launcher's own memory image (VmHWM, not ru_maxrss, which also holds its parent's peak).
with open("/proc/self/status") as f:
    floor = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
start = time.monotonic()
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        os.execve(sys.argv[1], sys.argv[1:], os.environ)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - start
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "wall": wall, "user": ru.ru_utime,
                  "system": ru.ru_stime, "maxrss": ru.ru_maxrss, "floor": floor}))
"""


def run_measured(cmd, env):
    """Run cmd through a fresh launcher; return (exit code, wall s, (user CPU s, system CPU s),
    max RSS KiB, stderr, launcher's own peak RSS KiB)."""
    proc = subprocess.run([sys.executable, "-S", "-c", LAUNCHER] + cmd, env=env, capture_output=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        sys.exit(f"launcher failed ({proc.returncode}): {proc.stderr.decode()}")
    r = json.loads(proc.stdout)
    return r["code"], r["wall"], (r["user"], r["system"]), r["maxrss"], proc.stderr.decode(), r["floor"]


def scenario(bindir, jobs, restore, latency_ms=0, integ=None):
    port = free_port()
    redirect = f"http://localhost:{port}/callback/jobber"
    args = ["--jobber-redirect-uri", redirect, "--jobber-seed-jobs", str(jobs),
            "--jobber-restore-rate", str(restore), "--jobber-request-limit", "100000000"]
    if latency_ms:
        args += ["--latency-ms", str(latency_ms)]
    fake = Fake(bindir, args)
    tmp = tempfile.mkdtemp(prefix="integ-bench-")
    browser = os.path.join(tmp, "browser")
    with open(browser, "w") as f:
        f.write('#!/bin/sh\nexec curl -sS -L -o /dev/null "$1"\n')
    os.chmod(browser, 0o755)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp, "INTEG_HOME": os.path.join(tmp, "home"),
           "INTEG_SECRET_STORE": "file", "INTEG_SECRET_KEY": "bench-key", "BROWSER": browser}
    env.update(fake.env)
    integ = integ or os.path.join(bindir, "integ")
    subprocess.run([integ, "connect", "jobber"], env=env, check=True, stderr=subprocess.DEVNULL)
    fake.post("/_fake/stats/reset", {})
    code, wall, (user, system), rss, err, floor = run_measured([integ, "sync", "jobs"], env)
    if code != 0:
        sys.exit(f"sync failed ({code}):\n{err}")
    stats = fake.get("/_fake/stats")["jobber"]
    fake.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return {"jobs": jobs, "wall": wall, "cpu": user + system, "user": user, "system": system, "rss_kib": rss,
            "floor_kib": floor, "stats": stats, "summary": err.strip()}


def events_scenario(bindir, provider, events, integ=None):
    """Full sync of `events` seeded events of one provider, then a no-change incremental.
    `integ` (default: this build's) runs against this build's fakes."""
    args = [f"--{provider}-seed-events", str(events), "--calendly-api-rate-limit", "100000000"]
    fake = Fake(bindir, args)
    tmp = tempfile.mkdtemp(prefix="integ-bench-")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp, "INTEG_HOME": os.path.join(tmp, "home"),
           "INTEG_SECRET_STORE": "file", "INTEG_SECRET_KEY": "bench-key",
           "BROWSER": f"{os.path.join(bindir, 'integ-fakes')} browse"}
    env.update(fake.env)
    integ = integ or os.path.join(bindir, "integ")
    subprocess.run([integ, "connect", provider], env=env, check=True, stderr=subprocess.DEVNULL)
    # Sync every calendar, not only the primary one.
    cals = json.loads(subprocess.run([integ, "calendars", "list", "--json"], env=env, check=True,
                                     capture_output=True).stdout)
    for c in cals:
        subprocess.run([integ, "calendars", "select", c["id"], "--provider", provider], env=env, check=True,
                       stderr=subprocess.DEVNULL)
    code, wall, (user, system), rss, err, floor = run_measured([integ, "sync", "events"], env)
    cpu = user + system
    if code != 0:
        sys.exit(f"events sync failed ({code}):\n{err}")
    import sqlite3
    db = sqlite3.connect(os.path.join(tmp, "home", "integ.db"))
    stored = db.execute("select count(*) from events").fetchone()[0]
    db.close()
    fake.post("/_fake/stats/reset", {})
    code2, wall2, cpu2, _, err2, _ = run_measured([integ, "sync", "events"], env)
    if code2 != 0:
        sys.exit(f"no-change events sync failed ({code2}):\n{err2}")
    stats = fake.get("/_fake/stats")[provider]
    # Event-list requests per calendar (the endpoint counters file one request under two names).
    requests = sum(stats.get("calendars", {}).values()) or sum(stats.get("endpoints", {}).values())
    fake.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return {"provider": provider, "seeded": events, "stored": stored, "calendars": len(cals), "wall": wall,
            "cpu": cpu, "user": user, "system": system, "rss_kib": rss, "floor_kib": floor,
            "nochange_requests": requests, "nochange_wall": wall2}


def compare(bindir, other, jobs, events, providers, repeat, json_out=None):
    """This build ("after") and another integ binary ("before") in one run, alternating pairs in
    ABBA order (so drift and first-of-pair effects hit both), every run against this build's
    fakes: scenario (a) (unless jobs is 0), then the events scenario of each provider."""
    builds = {"before": os.path.abspath(other), "after": os.path.join(bindir, "integ")}
    plan = ([("jobs", None)] if jobs else []) + ([("events", p) for p in providers] if events else [])
    seen = {(kind, p, b): [] for kind, p in plan for b in builds}
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    for i in range(repeat):
        order = list(builds) if i % 2 == 0 else list(builds)[::-1]
        for kind, p in plan:
            for b in order:
                if kind == "jobs":
                    r = scenario(bindir, jobs, 1e9, integ=builds[b])
                else:
                    r = events_scenario(bindir, p, events, integ=builds[b])
                r.update(build=b, pair=i, load=os.getloadavg()[0])
                seen[(kind, p, b)].append(r)
                print(f"pair {i + 1}/{repeat} {p or kind} {b}: cpu {r['cpu']:.3f} s, wall {r['wall']:.2f} s, "
                      f"max RSS {r['rss_kib'] / 1024:.1f} MiB, load {r['load']:.2f}", file=sys.stderr, flush=True)
    finished = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    if json_out:
        with open(json_out, "w") as f:
            json.dump({"before": builds["before"], "after": builds["after"], "started": started,
                       "finished": finished, "runs": [r for rs in seen.values() for r in rs]}, f, indent=1)

    med = statistics.median
    us = lambda x: f"{x * 1e6:.1f}"
    floors = [r["floor_kib"] for rs in seen.values() for r in rs]
    loads = [r["load"] for rs in seen.values() for r in rs]
    print(f"## before = `{builds['before']}`, after = `{builds['after']}`\n")
    print(f"{repeat} alternating pairs per scenario (ABBA order), {started} – {finished}, {os.cpu_count()} cores, "
          f"1-minute load average {min(loads):.2f} – {max(loads):.2f}. Medians, with min – max over the runs; "
          f"ratio = after / before of the medians, and the median (min – max) of the {repeat} paired ratios. "
          f"Launcher's own peak RSS (a max RSS at or below it would not be integ's): {min(floors) / 1024:.1f} – {max(floors) / 1024:.1f} MiB.\n")
    print("| Scenario | Build | CPU per unit | spread | user | system | wall | units/s | max RSS | no-change requests |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for kind, p in plan:
        name = f"jobs, {jobs}" if kind == "jobs" else f"{p} events, {events} seeded"
        per = {}
        for b in builds:
            rs = seen[(kind, p, b)]
            units = [r["jobs"] if kind == "jobs" else max(r["stored"], 1) for r in rs]
            cpu = [r["cpu"] / u for r, u in zip(rs, units)]
            rss = [r["rss_kib"] for r in rs]
            rss_mark = "" if all(r["rss_kib"] > r["floor_kib"] for r in rs) else " (≤ launcher's, not integ's)"
            stored = "" if kind == "jobs" else f", {sorted(set(u for u in units))} stored"
            req = "–" if kind == "jobs" else ", ".join(str(x) for x in sorted(set(r["nochange_requests"] for r in rs)))
            per[b] = (cpu, rss)
            print(f"| {name}{stored} | {b} | {us(med(cpu))} µs | {us(min(cpu))} – {us(max(cpu))} | "
                  f"{us(med(r['user'] / u for r, u in zip(rs, units)))} µs | "
                  f"{us(med(r['system'] / u for r, u in zip(rs, units)))} µs | {med(r['wall'] for r in rs):.2f} s | "
                  f"{med(u / r['wall'] for r, u in zip(rs, units)):,.0f} | {med(rss) / 1024:.1f} MiB{rss_mark} | {req} |")
        paired = [a / b for a, b in zip(per["after"][0], per["before"][0])]
        ratios.append((name, med(per["after"][0]) / med(per["before"][0]), med(paired), min(paired), max(paired),
                       med(per["after"][1]) / med(per["before"][1])))
    print()
    print("| Scenario | CPU ratio (medians) | paired ratios: median | min – max | max RSS ratio |")
    print("|---|---|---|---|---|")
    for name, r, pm, lo, hi, rss in ratios:
        print(f"| {name} | **{r:.3f}** | {pm:.3f} | {lo:.3f} – {hi:.3f} | {rss:.3f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=20000)
    ap.add_argument("--small", type=int, default=2000)
    ap.add_argument("--restore", type=float, default=50000)
    ap.add_argument("--release", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="runs of scenario (a); the median is reported")
    ap.add_argument("--events", type=int, default=50000, help="events seeded per calendar provider (0 skips)")
    ap.add_argument("--compare", metavar="INTEG",
                    help="A/B: scenario (a) and the events scenario per provider, this build (after) and another "
                         "integ binary (before), --repeat alternating pairs; --jobs 0 or --events 0 skips one")
    ap.add_argument("--providers", default="google,microsoft,calendly",
                    help="calendar providers of the events scenario (comma-separated)")
    ap.add_argument("--json", metavar="PATH", help="with --compare: write every run's figures to PATH")
    a = ap.parse_args()
    bindir = build(a.release)
    providers = [p for p in a.providers.split(",") if p]
    if a.compare:
        return compare(bindir, a.compare, a.jobs, a.events, providers, a.repeat, a.json)
    profile = "release" if a.release else "debug"

    # (a) is the noisiest figure on a shared machine: run it several times, report the median.
    runs = sorted((scenario(bindir, a.jobs, 1e9) for _ in range(a.repeat)), key=lambda r: r["cpu"])
    big = runs[len(runs) // 2]
    small = scenario(bindir, a.small, 1e9)
    paced = scenario(bindir, a.jobs, a.restore)
    cost = paced["stats"].get("actual_cost") or paced["stats"].get("total_cost") or 0
    minimum = max(cost - 10000, 0) / a.restore

    print(f"## `integ sync jobs` ({profile} build, {os.cpu_count()} cores)\n")
    print("| Measure | Value | Target |")
    print("|---|---|---|")
    print(f"| (a) CPU per job, {a.jobs} jobs, no budget | {big['cpu'] / a.jobs * 1e6:.1f} µs | ≤ 20 µs |")
    print(f"| (a) of which user / system | {big['user'] / a.jobs * 1e6:.1f} / {big['system'] / a.jobs * 1e6:.1f} µs | |")
    print(f"| (a) spread over {a.repeat} runs (min – max CPU per job) | "
          f"{runs[0]['cpu'] / a.jobs * 1e6:.1f} – {runs[-1]['cpu'] / a.jobs * 1e6:.1f} µs | |")
    print(f"| (a) jobs per second (wall) | {a.jobs / big['wall']:.0f} | |")
    print(f"| (a) requests | {big['stats'].get('api_calls')} | |")
    print(f"| (b) wall time with the cost model, restore {a.restore:.0f}/s | {paced['wall']:.1f} s | |")
    print(f"| (b) cost-bound minimum (({cost:.0f} − 10,000) / {a.restore:.0f}) | {minimum:.1f} s | |")
    ratio = paced['wall'] / minimum if minimum else float('nan')
    print(f"| (b) wall / minimum | {ratio:.3f} | ≤ 1.10 |")
    print(f"| (b) THROTTLED answers | {paced['stats'].get('throttled')} | 0 |")
    print(f"| (c) peak RSS, {a.small} jobs | {small['rss_kib'] / 1024:.1f} MiB | < 64 MiB |")
    print(f"| (c) peak RSS, {a.jobs} jobs | {big['rss_kib'] / 1024:.1f} MiB | < 64 MiB, flat |")
    print(f"| (c) the launcher's own peak RSS (figures at or below it are not integ's) | {big['floor_kib'] / 1024:.1f} MiB | |")
    if a.events:
        print()
        print(f"## `integ sync events` ({profile} build), {a.events} seeded events per provider\n")
        print("| Provider | Calendars | Events stored (in the window) | Wall | Events/s | CPU per event | Peak RSS | No-change incremental: requests, wall |")
        print("|---|---|---|---|---|---|---|---|")
        for p in providers:
            r = events_scenario(bindir, p, a.events)
            print(f"| {p} | {r['calendars']} | {r['stored']} | {r['wall']:.1f} s | {r['stored'] / r['wall']:.0f} | "
                  f"{r['cpu'] / max(r['stored'], 1) * 1e6:.1f} µs | {r['rss_kib'] / 1024:.1f} MiB | "
                  f"{r['nochange_requests']}, {r['nochange_wall']:.2f} s |")
    print()
    print("Summaries:")
    for s in (big, small, paced):
        print(f"- {s['jobs']} jobs: {s['summary'].splitlines()[-1] if s['summary'] else ''}")


if __name__ == "__main__":
    main()
