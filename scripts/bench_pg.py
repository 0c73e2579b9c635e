#!/usr/bin/env python3
"""Benchmark many accounts on many workers, SQLite and PostgreSQL side by side; prints Markdown.

20 Jobber accounts of 2,000 jobs each (one fake, no cost budget, so integ and the database are
what is measured, not Jobber's pacing) are synced by 1, 2 and 4 worker processes at once, each
`integ sync jobs --shard I/N`:
  - SQLite: the workers share one INTEG_HOME (one integ.db, one encrypted secrets file);
  - PostgreSQL: a fresh database per scenario (INTEG_DATABASE_URL), on the private server of
    scripts/with-postgres; the tokens stay in the shared file store by default, so both
    backends differ only in the database (`--pg-secrets database` puts them in the database
    secret store instead, with one INTEG_HOME per worker, as on a cluster).
Each scenario starts from an empty database with the accounts freshly connected. Reported per
scenario: wall time (first worker started to last one done), jobs and rows per second, CPU per
job (all workers' user + system), peak RSS per worker (max and each, from wait4 in a fresh
launcher, as in bench.py), the fake's CPU (when it nears wall time x cores, the fake is the
bottleneck), and every worker's exit code (5: another worker held an account's lock, which
shards should make impossible).

Usage:
  scripts/with-postgres scripts/bench_pg.py            # both backends (needs INTEG_DATABASE_URL support)
  scripts/bench_pg.py --backends sqlite                # SQLite only, no server needed
  scripts/bench_pg.py --accounts 4 --jobs 200 --workers 1,2 --debug   # a smoke run
Options: --accounts 20 --jobs 2000 --workers 1,2,4 --backends sqlite,postgres --repeat 1
         --pg-secrets file|database --debug (a debug build instead of release)

Needs curl (the browser stand-in) and, for PostgreSQL, psql (to create the databases).
Integ features it needs, detected at start and reported when missing: `integ sync --shard`
(without it only the 1-worker scenarios run), INTEG_DATABASE_URL (without it the PostgreSQL
half is skipped), and for --pg-secrets database the `database` secret store.
scripts/with-postgres runs its server with fsync=off and synchronous_commit=off (a test server),
while integ's SQLite syncs its WAL: PostgreSQL's commit cost is understated here.
Not a test: the numbers vary with the machine.
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import LAUNCHER, Fake, build, free_port  # noqa: E402

ROW_TABLES = ["jobs", "clients", "job_line_items", "job_visits", "job_visit_assignees"]


def integ_supports(integ, env, args):
    """Whether `integ ARGS --help` parses (clap reads every argument before acting on --help)."""
    return subprocess.run([integ] + args + ["--help"], env=env, capture_output=True).returncode == 0


def honours_database_url(integ, env):
    """integ before the PostgreSQL merge ignores INTEG_DATABASE_URL and reports an empty SQLite
    home (exit 0); one that honours it tries the (closed) port and fails."""
    probe = dict(env, INTEG_DATABASE_URL="postgres://nobody@127.0.0.1:1/nothing?connect_timeout=2",
                 INTEG_HOME=tempfile.mkdtemp(prefix="integ-bench-probe-"))
    r = subprocess.run([integ, "status"], env=probe, capture_output=True)
    shutil.rmtree(probe["INTEG_HOME"], ignore_errors=True)
    return r.returncode != 0


class Postgres:
    """The server scripts/with-postgres started: a database per scenario, through psql."""

    def __init__(self):
        self.admin = os.environ.get("INTEG_TEST_PG_URL", "")
        self.password = os.environ.get("INTEG_TEST_PG_PASSWORD", "")
        self.base = self.admin.rsplit("/", 1)[0]
        self.created = []

    def available(self):
        return bool(self.admin) and shutil.which("psql") is not None

    def sql(self, url, statement):
        env = dict(os.environ, PGPASSWORD=self.password, PGCONNECT_TIMEOUT="10")
        r = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atqc", statement], env=env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"psql failed: {statement}\n{r.stderr}")
        return r.stdout

    def new_database(self, name):
        self.sql(self.admin, f"CREATE DATABASE {name}")
        self.created.append(name)
        return f"{self.base}/{name}"

    def count_rows(self, url):
        q = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in ROW_TABLES)
        return {t: int(n) for t, n in (line.split("|") for line in self.sql(url, q).split())}

    def drop_all(self):
        for name in self.created:
            self.sql(self.admin, f"DROP DATABASE IF EXISTS {name}")


def sqlite_rows(home):
    db = sqlite3.connect(os.path.join(home, "integ.db"))
    rows = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ROW_TABLES}
    db.close()
    return rows


def proc_cpu(pid):
    """User + system CPU seconds of a running process (the fake), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_measured(cmd, env):
    """Start cmd under a fresh launcher (bench.py's), which reports its rusage as JSON."""
    return subprocess.Popen([sys.executable, "-S", "-c", LAUNCHER] + cmd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def scenario(a, integ, fake, pg, backend, workers, shard_ok):
    tmp = tempfile.mkdtemp(prefix=f"integ-bench-pg-{backend}-{workers}-")
    browser = os.path.join(tmp, "browser")
    with open(browser, "w") as f:
        f.write('#!/bin/sh\nexec curl -sS -L -o /dev/null "$1"\n')
    os.chmod(browser, 0o755)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp, "INTEG_HOME": os.path.join(tmp, "home"),
           "INTEG_SECRET_STORE": "file", "INTEG_SECRET_KEY": "bench-key-0123456789", "BROWSER": browser}
    env.update(fake.env)
    homes = [env["INTEG_HOME"]] * workers
    url = None
    if backend == "postgres":
        # A fresh database per scenario; integ reads the password from INTEG_DATABASE_PASSWORD.
        url = pg.new_database(f"integ_bench_{workers}w_{os.getpid()}_{int(time.time() * 1000) % 10**9}")
        env.update(INTEG_DATABASE_URL=url, INTEG_DATABASE_PASSWORD=pg.password)
        if a.pg_secrets == "database":
            # Tokens in the database, a key file, and one INTEG_HOME per worker: nothing shared
            # but the database, as on a cluster.
            key = os.path.join(tmp, "integ.key")
            with open(key, "w") as f:
                f.write("bench-database-store-key-0123456789\n")
            os.chmod(key, 0o600)
            del env["INTEG_SECRET_KEY"]
            env.update(INTEG_SECRET_STORE="database", INTEG_SECRET_KEY_FILE=key)
            homes = [os.path.join(tmp, f"home-{i + 1}") for i in range(workers)]
            env["INTEG_HOME"] = homes[0]
        run(integ, ["db", "migrate"], env)

    t0 = time.monotonic()
    for k in range(1, a.accounts + 1):
        fake.post("/_fake/jobber/login", {"id": f"bench-account-{k}", "name": f"Bench {k}"})
        run(integ, ["connect", "jobber", "--account", f"bench-{k}", "--timeout", "60"], env)
    connect_s = time.monotonic() - t0
    fake.post("/_fake/stats/reset", {})

    fake_cpu0 = proc_cpu(fake.proc.pid)
    start = time.monotonic()
    procs = []
    for i in range(workers):
        cmd = [integ, "sync", "jobs", "--quiet"] + (["--shard", f"{i + 1}/{workers}"] if shard_ok else [])
        procs.append(start_measured(cmd, dict(env, INTEG_HOME=homes[i])))
    results = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode != 0 or not out.strip():
            sys.exit(f"launcher failed ({p.returncode}): {err.decode()}")
        r = json.loads(out)
        r["stderr"] = err.decode()
        results.append(r)
    wall = time.monotonic() - start
    fake_cpu = proc_cpu(fake.proc.pid) - fake_cpu0

    rows = pg.count_rows(url) if backend == "postgres" else sqlite_rows(env["INTEG_HOME"])
    shutil.rmtree(tmp, ignore_errors=True)
    expected = a.accounts * a.jobs
    if rows["jobs"] != expected:
        print(f"warning: {backend}, {workers} workers: {rows['jobs']} jobs stored, {expected} expected",
              file=sys.stderr)
    for r in results:
        if r["code"] != 0:
            print(f"warning: {backend}, {workers} workers: a worker exited {r['code']}:\n{r['stderr']}",
                  file=sys.stderr)
    cpu = sum(r["user"] + r["system"] for r in results)
    return {"backend": backend, "workers": workers, "wall": wall, "cpu": cpu, "rows": rows,
            "rss": [r["maxrss"] for r in results], "floor": max(r["floor"] for r in results),
            "codes": [r["code"] for r in results], "fake_cpu": fake_cpu, "connect_s": connect_s}


def run(integ, args, env):
    r = subprocess.run([integ] + args, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"`integ {' '.join(args)}` failed ({r.returncode}):\n{r.stderr}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2000, help="jobs per account")
    ap.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--repeat", type=int, default=1, help="runs per scenario; the median wall time is reported")
    ap.add_argument("--pg-secrets", choices=["file", "database"], default="file",
                    help="PostgreSQL scenarios: tokens in the shared file store, or in the database secret store")
    ap.add_argument("--debug", action="store_true", help="a debug build instead of release")
    a = ap.parse_args()
    worker_counts = [int(w) for w in a.workers.split(",") if w]
    backends = [b for b in a.backends.split(",") if b]
    bindir = build(not a.debug)
    integ = os.path.join(bindir, "integ")
    base_env = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir()}

    notes = []
    shard_ok = integ_supports(integ, base_env, ["sync", "--shard", "1/2"])
    if not shard_ok:
        notes.append("this integ has no `sync --shard`: only the 1-worker scenarios ran (several workers "
                     "without shards would all sync every account, one at a time, under the lock)")
        worker_counts = [w for w in worker_counts if w == 1]
    pg = Postgres()
    if "postgres" in backends:
        why = None
        if not pg.available():
            why = "no server (run the script as `scripts/with-postgres scripts/bench_pg.py`) or no psql"
        elif not honours_database_url(integ, base_env):
            why = "this integ does not honour INTEG_DATABASE_URL yet (it syncs only into SQLite)"
        elif a.pg_secrets == "database" and not integ_supports(integ, base_env, ["secrets", "copy", "--to", "database"]):
            why = "this integ has no `database` secret store (run with --pg-secrets file)"
        if why:
            notes.append(f"PostgreSQL skipped: {why}")
            backends = [b for b in backends if b != "postgres"]
    for n in notes:
        print(f"note: {n}", file=sys.stderr)

    port = free_port()
    fake = Fake(bindir, ["--jobber-redirect-uri", f"http://localhost:{port}/callback/jobber",
                         "--jobber-restore-rate", "1e9", "--jobber-request-limit", "100000000"])
    for k in range(1, a.accounts + 1):
        fake.post("/_fake/jobber/login", {"id": f"bench-account-{k}", "name": f"Bench {k}"})
        fake.post("/_fake/jobber/seed", {"jobs": a.jobs, "seed": k})

    results = []
    try:
        for w in worker_counts:
            for b in backends:
                runs = []
                for i in range(a.repeat):
                    r = scenario(a, integ, fake, pg, b, w, shard_ok)
                    runs.append(r)
                    print(f"{b}, {w} workers, run {i + 1}/{a.repeat}: wall {r['wall']:.2f} s, CPU {r['cpu']:.2f} s, "
                          f"max RSS {max(r['rss']) / 1024:.1f} MiB, fake CPU {r['fake_cpu']:.2f} s, exits {r['codes']} "
                          f"(connecting {a.accounts} accounts took {r['connect_s']:.1f} s)", file=sys.stderr, flush=True)
                runs.sort(key=lambda r: r["wall"])
                results.append(runs[len(runs) // 2])
    finally:
        fake.close()
        pg.drop_all()

    profile = "debug" if a.debug else "release"
    total = a.accounts * a.jobs
    print(f"## {a.accounts} Jobber accounts of {a.jobs:,} jobs, 1 to {max(worker_counts)} workers "
          f"({profile} build, {os.cpu_count()} cores)\n")
    cmd = "`integ sync jobs --shard I/N`" if shard_ok else "`integ sync jobs` (no --shard in this integ)"
    print(f"Each worker: {cmd}, all started at once; a fresh database per scenario; "
          f"no Jobber cost budget (the fake restores 1e9 points/s). PostgreSQL tokens: {a.pg_secrets} store. "
          f"Median of {a.repeat} run(s) by wall time. Launcher's own peak RSS (a figure at or below it is not "
          f"integ's): {max(r['floor'] for r in results) / 1024:.1f} MiB.\n")
    print("| Backend | Workers | Wall | Jobs/s | Rows/s | CPU per job (all workers) | Peak RSS per worker: max (each) | Fake's CPU | Exit codes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        rows = sum(r["rows"].values())
        each = ", ".join(f"{x / 1024:.1f}" for x in r["rss"])
        print(f"| {r['backend']} | {r['workers']} | {r['wall']:.2f} s | {r['rows']['jobs'] / r['wall']:,.0f} | "
              f"{rows / r['wall']:,.0f} | {r['cpu'] / total * 1e6:.1f} µs | {max(r['rss']) / 1024:.1f} MiB ({each}) | "
              f"{r['fake_cpu']:.2f} s | {' '.join(str(c) for c in r['codes'])} |")
    if results:
        print(f"\nRows per scenario: {', '.join(f'{t} {n:,}' for t, n in results[0]['rows'].items())}.")
    for n in notes:
        print(f"\nNote: {n}.")


if __name__ == "__main__":
    main()
