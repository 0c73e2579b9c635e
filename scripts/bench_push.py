#!/usr/bin/env python3
"""Benchmark the push stream (`integ sync push`) against the local fakes; prints Markdown.

One rule pushes every visit of a seeded Jobber account into one new Google (or Microsoft)
calendar. Measured, for the integ process only (os.wait4 rusage of that child, not the fake):
  (1) the first push: requests per visit, CPU per visit, wall time;
  (2) a second run with nothing changed: requests (goal: 0);
  (3) after 5% of the visits moved by an hour (whole jobs, through the fake's control API, then
      `integ sync jobs`): requests per changed visit.

Usage: scripts/bench_push.py [--jobs 2200] [--provider google|microsoft] [--release]
Not a test: the numbers vary with the machine.
"""

import argparse
import datetime
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Fake, build, free_port  # noqa: E402


def measured(cmd, env):
    """Like run, with the child's own rusage (Popen.communicate reaps it, so wait4 directly)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, ru = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), time.monotonic() - start, ru.ru_utime + ru.ru_stime, out.decode(), err.decode()


def requests(fake, provider):
    s = fake.get("/_fake/stats")[provider]
    return sum(s.get("endpoints", {}).values()), s.get("endpoints", {})


def shift(ts, hours):
    t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")) + datetime.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2200)
    ap.add_argument("--provider", default="google", choices=["google", "microsoft"])
    ap.add_argument("--release", action="store_true")
    a = ap.parse_args()
    bindir = build(a.release)
    p = a.provider
    port = free_port()
    fake = Fake(bindir, ["--jobber-redirect-uri", f"http://localhost:{port}/callback/jobber",
                         "--jobber-seed-jobs", str(a.jobs), "--jobber-restore-rate", "1e9",
                         "--jobber-request-limit", "100000000", "--now", "2026-11-21T12:00:00Z"])
    tmp = tempfile.mkdtemp(prefix="integ-bench-push-")
    browser = os.path.join(tmp, "browser")
    with open(browser, "w") as f:
        f.write('#!/bin/sh\nexec curl -sS -L -o /dev/null "$1"\n')
    os.chmod(browser, 0o755)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp, "INTEG_HOME": os.path.join(tmp, "home"),
           "INTEG_SECRET_STORE": "file", "INTEG_SECRET_KEY": "bench-key", "BROWSER": browser,
           "INTEG_TEST_NOW": "2026-11-21T12:00:00Z"}
    env.update(fake.env)
    integ = os.path.join(bindir, "integ")
    for cmd in (["connect", "jobber"], ["connect", p, "--write"], ["sync", "jobs"],
                ["push", "add", "--to", p, "--create", "Bench", "--past-days", "3650", "--future-days", "3650"]):
        subprocess.run([integ] + cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = sqlite3.connect(os.path.join(tmp, "home", "integ.db"))

    fake.post("/_fake/stats/reset", {})
    code, wall, cpu, out, err = measured([integ, "sync", "push", "--json"], env)
    if code != 0:
        sys.exit(f"push failed ({code}):\n{err}")
    visits = db.execute("select count(*) from pushed_events where event_id is not null").fetchone()[0]
    first, first_by = requests(fake, p)

    fake.post("/_fake/stats/reset", {})
    code, wall2, cpu2, _, err = measured([integ, "sync", "push"], env)
    if code != 0:
        sys.exit(f"second push failed ({code}):\n{err}")
    nochange, _ = requests(fake, p)

    # 5% of the visits move by an hour, whole jobs at a time.
    truth = fake.get("/_fake/jobber/truth")
    target, moved = visits * 5 // 100, 0
    for job in truth["jobs"]:
        if moved >= target:
            break
        vs = [v for v in job["visits"] if v["startAt"]]
        if not vs:
            continue
        body = []
        for v in job["visits"]:
            body.append({"id": v["id"], "title": v["title"],
                         "startAt": shift(v["startAt"], 1) if v["startAt"] else None,
                         "endAt": shift(v["endAt"], 1) if v["endAt"] else None,
                         "completedAt": v["completedAt"], "isComplete": v["isComplete"],
                         "visitStatus": v["visitStatus"], "assignedUsers": [u["id"] for u in v["assignedUsers"]]})
        fake.post("/_fake/jobber/jobs/" + urllib.parse.quote(job["id"], safe=""), {"visits": body})
        moved += len(vs)
    subprocess.run([integ, "sync", "jobs"], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fake.post("/_fake/stats/reset", {})
    code, wall3, cpu3, out3, err = measured([integ, "sync", "push", "--json"], env)
    if code != 0:
        sys.exit(f"third push failed ({code}):\n{err}")
    changed, changed_by = requests(fake, p)
    summary = json.loads(out3)
    updated = sum(s.get("updated", 0) for s in summary if s.get("stream") == "push")
    fake.close()

    profile = "release" if a.release else "debug"
    print(f"## `integ sync push`, {visits} visits into one {p} calendar ({profile} build, {os.cpu_count()} cores)\n")
    print("| Measure | Value | Goal |")
    print("|---|---|---|")
    print(f"| first push: requests | {first} ({', '.join(f'{k} {v}' for k, v in sorted(first_by.items()))}) | |")
    print(f"| first push: requests per visit | {first / visits:.3f} | 1 |")
    print(f"| first push: CPU per visit (integ only) | {cpu / visits * 1e6:.0f} µs | |")
    print(f"| first push: wall | {wall:.1f} s | |")
    print(f"| no change: requests | {nochange} | 0 |")
    print(f"| no change: CPU, wall | {cpu2 * 1e3:.0f} ms, {wall2:.2f} s | |")
    print(f"| 5% moved ({moved} visits; {updated} events updated): requests | {changed} ({', '.join(f'{k} {v}' for k, v in sorted(changed_by.items()))}) | |")
    print(f"| 5% moved: requests per changed visit | {changed / max(moved, 1):.3f} | 1 |")
    print(f"| 5% moved: CPU, wall | {cpu3 * 1e3:.0f} ms, {wall3:.2f} s | |")


if __name__ == "__main__":
    main()
