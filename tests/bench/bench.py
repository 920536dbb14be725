#!/usr/bin/env python3
"""tests/bench/bench.py: `make bench` - every speed target of the project, each measured
against its baseline in the same run, written to BENCHMARKS.md.

    make bench                      # 1M events (SCALE=1M), writes BENCHMARKS.md
    make bench SCALE=10M            # the large run
    make bench SCALE=2k OUT=/tmp/b.md ROUNDS=1   # what CI runs, to keep it working

It starts its own PostgreSQL (tests/pg_server.sh, port 54339 unless K8S_EVENTS_PGPORT is
set), generates its data with `k8s-events generate` (120 simulated days), and runs each pair
ROUNDS times (default 3) side by side: the median and the spread (min..max) of each, and
their ratio, against the target. Targets are benchmarks, not tests: nothing here fails
when one is missed; BENCHMARKS.md says so.
"""
import json
import os
import pathlib
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import worker_bench

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
BIN = str(ROOT / "loader" / "k8s-events")
DAYS = 120


def scale_of(text):
    m = re.fullmatch(r"(\d+)([kKmM]?)", text)
    if not m:
        sys.exit(f"bench: SCALE must be a number of events such as 2k, 1M or 10M, not {text!r}")
    return int(m.group(1)) * {"": 1, "k": 1000, "K": 1000, "m": 10**6, "M": 10**6}[m.group(2)]


SCALE_TEXT = os.environ.get("SCALE", "1M")
SCALE = scale_of(SCALE_TEXT)
ROUNDS = int(os.environ.get("ROUNDS", "3"))
OUT = pathlib.Path(os.environ.get("OUT", ROOT / "BENCHMARKS.md"))
PORT = os.environ.get("K8S_EVENTS_PGPORT", "54339")
# A server directory of our own is removed at the end (a 10M run leaves some 20 GB).
OWN_PGDIR = not os.environ.get("K8S_EVENTS_PGDIR")
PGDIR = os.environ.get("K8S_EVENTS_PGDIR") or tempfile.mkdtemp(prefix="k8s_events_bench.")
os.makedirs(PGDIR, exist_ok=True)
os.chmod(PGDIR, 0o755)


def sh(cmd, **kw):
    p = subprocess.run(cmd, shell=isinstance(cmd, str), text=True, capture_output=True, **kw)
    if p.returncode != 0:
        # What failed, and why (a full disk, say), rather than only the command.
        sys.exit(f"bench: {cmd if isinstance(cmd, str) else shlex.join(cmd)} failed:\n{p.stderr}")
    return p.stdout


def psql(db, sql, *extra):
    """What psql -At prints, without its last newline (a value read back goes into the next
    query as a literal: with the newline, the object and namespace of the drill-down and
    namespace-wide queries were names that match nothing, and those timed empty answers)."""
    return sh(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, *extra, "-c", sql]).rstrip("\n")


def run_script(db, script):
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db],
                       input=script, text=True, capture_output=True)
    if p.returncode != 0:
        sys.exit(f"bench: psql failed on {db}:\n{script}\n{p.stderr}")
    return p.stdout


def timed_ms(db, sql, setup=None):
    """Server-side time of one statement, from psql's \\timing (without connection set-up)."""
    script = "\\timing on\n" + (setup + ";\n" if setup else "") + sql.rstrip().rstrip(";") + ";\n"
    out = run_script(db, script)
    times = [float(t) for t in re.findall(r"^Time: ([0-9.]+) ms", out, re.M)]
    return times[-1]


def timed_series(db, sql, n, setup=None):
    """n timings of a statement in one session after one untimed run, as a dashboard's pooled
    connection runs it: its catalog caches warm (a new backend first reads the entries of
    every partition and index it plans over)."""
    stmt = sql.rstrip().rstrip(";") + ";\n"
    script = (setup + ";\n" if setup else "") + stmt + "\\timing on\n" + stmt * n
    out = run_script(db, script)
    times = [float(t) for t in re.findall(r"^Time: ([0-9.]+) ms", out, re.M)]
    return times[-n:]


def fresh_db(name, version=None):
    sh(["psql", "-X", "-q", "-d", "postgres", "-c", "SET client_min_messages = warning",
        "-c", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}"])
    psql(name, "CREATE EXTENSION k8s_events" + (f" VERSION '{version}'" if version else ""))


def checkpoint():
    psql("postgres", "CHECKPOINT")


def fmt_ms(ms):
    return f"{ms:,.1f} ms" if ms < 100 else f"{ms:,.0f} ms"


def spread(values, f=fmt_ms):
    return f"{f(min(values))} .. {f(max(values))}"


def p95(values):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


results = []  # (section, name, measured text, baseline text, ratio text, target, met)
p50s = {}  # query title -> p50 in ms, for the growth from one scale to the next


def record(section, name, measured, baseline, ratio, target, met):
    results.append((section, name, measured, baseline, ratio, target, met))
    print(f"{section} | {name} | {measured} | {baseline} | {ratio} | {target} | {met}", flush=True)


def machine_line():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1048576:.1f} GiB"
    except OSError:
        pass
    version = psql("postgres", "SHOW server_version").strip()
    settings = psql("postgres", "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name)"
                    " FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'max_wal_size',"
                    " 'synchronous_commit', 'fsync', 'jit', 'max_parallel_workers_per_gather')")
    return (f"{cpu}, {os.cpu_count()} cores, {mem} memory, {platform.system()} {platform.release()};"
            f" PostgreSQL {version} ({settings.strip()})")


# ---------------------------------------------------------------- data

def generate(path):
    # The simulated cluster writes about 45,000 events a day per 200 nodes: size it so that
    # SCALE events span the 120 days (the default retention), then keep SCALE of them.
    nodes = max(2, min(1000, round(SCALE / DAYS / 45000 * 200)))
    namespaces = max(2, min(200, nodes // 5))
    hours = DAYS * 24
    cmd = (f"{shlex.quote(BIN)} generate --seed 11 --start now-{DAYS}d --hours {hours} --nodes {nodes}"
           f" --namespaces {namespaces} --cluster-version mixed | head -n {SCALE} > {shlex.quote(path)}")
    subprocess.run(["bash", "-c", "set +o pipefail; " + cmd], check=True)
    n = int(sh(["wc", "-l", path]).split()[0])
    return n, nodes, namespaces


COLS = ("cluster, uid, resource_version, event_time, first_time, namespace, kind, name, type, reason,"
        " message, count, occurrences, source_component, source_host, reporting_controller,"
        " reporting_instance, action, event")


def machine_cpu_s():
    """CPU time the whole machine has spent busy (every process, user and system, from
    /proc/stat), in seconds: a load's client and both its backends, or psql and the COPY's."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal: all but idle and iowait
    return (sum(fields[:8]) - fields[3] - fields[4]) / ticks


def load_pair(data, rows_file):
    """k8s-events load (with summaries) vs psql \\copy of the same rows into the same table."""
    load_s, copy_s, plain_s = [], [], []
    load_cpu, copy_cpu, plain_cpu = [], [], []
    store_s, plain_store_s = [], []
    summary_writes = []  # (inserted, updated) rows of the summary tables, per round
    for r in range(ROUNDS):
        fresh_db("bench_load")
        track_functions("bench_load")
        checkpoint()
        t0, c0 = time.monotonic(), machine_cpu_s()
        sh([BIN, "load", "-q", "-d", "bench_load", "--cluster", "bench", data])
        load_s.append(time.monotonic() - t0)
        load_cpu.append(machine_cpu_s() - c0)
        store_s.append(store_seconds("bench_load"))
        summary_writes.append(summary_rows_written("bench_load"))
        if r == 0 and not rows_file.exists():
            psql("bench_load", f"\\copy (SELECT {COLS} FROM k8s_events.events) TO '{rows_file}'")
        bounds = psql("bench_load", "SELECT min(event_time), max(event_time) FROM k8s_events.events").split("|")
        fresh_db("bench_copy")
        psql("bench_copy", f"SELECT count(*) FROM k8s_events.create_partitions('{bounds[0]}', '{bounds[1]}')")
        checkpoint()
        t0, c0 = time.monotonic(), machine_cpu_s()
        psql("bench_copy", f"\\copy k8s_events.events ({COLS}) FROM '{rows_file}'")
        copy_s.append(time.monotonic() - t0)
        copy_cpu.append(machine_cpu_s() - c0)
        # At 10M events each database takes some 20 GB: keep only the one queried below.
        psql("postgres", "DROP DATABASE bench_copy")
        # The same load into a 1.0 schema, which has no summaries: what they cost.
        fresh_db("bench_plain", "1.0")
        track_functions("bench_plain")
        checkpoint()
        t0, c0 = time.monotonic(), machine_cpu_s()
        sh([BIN, "load", "-q", "-d", "bench_plain", "--cluster", "bench", data])
        plain_s.append(time.monotonic() - t0)
        plain_cpu.append(machine_cpu_s() - c0)
        plain_store_s.append(store_seconds("bench_plain"))
        psql("postgres", "DROP DATABASE bench_plain")
    # The queries and functions measured in this database afterwards run as a user's do:
    # track_functions times every call of a C function (two clock reads and a statistics
    # entry), which built-ins such as date_bin() do not pay: 233 ms against 148 ms for
    # time_bucket() over 1M rows, by hand.
    psql("postgres", "ALTER DATABASE bench_load RESET track_functions")
    rows = int(psql("bench_load", "SELECT count(*) FROM k8s_events.events"))
    sb = psql("postgres", "SHOW shared_buffers").strip()
    lo, co, pl = statistics.median(load_s), statistics.median(copy_s), statistics.median(plain_s)
    sec = lambda s: f"{s:,.1f} s"
    record("write path", f"`k8s-events load` with summaries vs psql `\\copy` of the same {rows:,} rows"
           f" (shared_buffers {sb})",
           f"{rows / lo:,.0f} rows/s ({spread(load_s, sec)})", f"{rows / co:,.0f} rows/s ({spread(copy_s, sec)})",
           f"{co / lo:.2f}", ">= 0.8", co / lo >= 0.8)
    record("write path", "`k8s-events load` with summaries vs the same load without (a 1.0 schema)",
           f"{rows / lo:,.0f} rows/s", f"{rows / pl:,.0f} rows/s ({spread(plain_s, sec)})",
           f"{pl / lo:.2f}", "(what the summaries cost)", None)
    # Why the ratio is what it is: the work each does, as CPU time of the whole machine. A
    # load cannot take less time than its CPU time over the cores it has.
    cores = os.cpu_count() or 1
    lc, cc, pc = statistics.median(load_cpu), statistics.median(copy_cpu), statistics.median(plain_cpu)
    record("write path", f"CPU time of the machine (every process, /proc/stat) per 1,000 rows: `k8s-events load`"
           f" with summaries, without (a 1.0 schema), and `\\copy`; {cores} cores",
           f"with {lc / rows * 1000:.3f} s, without {pc / rows * 1000:.3f} s",
           f"\\copy {cc / rows * 1000:.3f} s", f"{lc / cc:.1f}x the CPU of \\copy",
           f"(at best {lc / cores:,.0f} s on {cores} cores, against \\copy's {co:,.0f} s)", None)
    # The other bound, which no number of cores lifts: a cluster's batches are stored one at
    # a time, in input order, under its ingest lock (the occurrences of an Event's
    # observations depend on the ones stored before), so a load takes at least the sum of
    # its ingest_copied() calls, whatever the client and the COPYs into the temporary table
    # do meanwhile on the other connection.
    st, ps = statistics.median(store_s), statistics.median(plain_store_s)
    record("write path", "the stored part, one batch after the other: the total time of `ingest_copied()`"
           " (track_functions) with summaries, and without (a 1.0 schema)",
           f"with {st:,.1f} s ({st / rows * 1000:.3f} s per 1,000), without {ps:,.1f} s",
           f"\\copy {co:,.1f} s", f"at most {co / st:.2f} of \\copy with summaries, {co / ps:.2f} without",
           "(the most any number of cores gives)", None)
    # Why the summaries cost more at 10M than at 1M: the larger cluster names more objects
    # and hours in each batch of 10,000 rows, and every one it names costs a summary row
    # inserted or, when stored by an earlier batch, rewritten (an UPDATE: a new row version
    # and its index entries).
    ins = statistics.median(w[0] for w in summary_writes)
    upd = statistics.median(w[1] for w in summary_writes)
    record("write path", "summary rows written per 1,000 events stored (pg_stat_user_tables of the"
           f" {len(SUMMARY_TABLES)} summary tables; batches of 10,000 rows)",
           f"{(ins + upd) / rows * 1000:,.0f}: {ins / rows * 1000:,.0f} inserted,"
           f" {upd / rows * 1000:,.0f} rewritten", "", "",
           "(what the summaries' cost grows with: the objects and hours a batch names)", None)
    return rows


SUMMARY_TABLES = ("k8s_events.resource_summary", "k8s_events.event_counts",
                  "k8s_events_internal.counts_by_hour", "k8s_events_internal.counts_by_day",
                  "k8s_events.pod_owners", "k8s_events.pod_images", "k8s_events.rollouts")


def summary_rows_written(db):
    """Rows inserted and updated in db's summary tables: the load's backends, which have
    exited (store_seconds() waited for their statistics)."""
    names = ", ".join(f"'{t}'::regclass" for t in SUMMARY_TABLES)
    ins, upd = psql(db, "SELECT sum(n_tup_ins), sum(n_tup_upd) FROM pg_catalog.pg_stat_user_tables"
                        f" WHERE relid IN ({names})").split("|")
    return int(ins), int(upd)


def track_functions(db):
    """Count the time of the extension's functions in a database (pg_stat_user_functions)."""
    psql("postgres", f"ALTER DATABASE {db} SET track_functions = 'all'")


def store_seconds(db):
    """Seconds all calls of k8s_events.ingest_copied() took in db: the loads' stored part."""
    # Each backend reports its counts when it exits; the load's have just exited.
    for _ in range(50):
        v = psql(db, "SELECT coalesce(sum(total_time), 0) / 1000 FROM pg_catalog.pg_stat_user_functions"
                     " WHERE schemaname = 'k8s_events' AND funcname = 'ingest_copied'")
        if float(v) > 0:
            return float(v)
        time.sleep(0.1)
    raise SystemExit(f"bench: no time of k8s_events.ingest_copied() in {db}'s statistics")


# ---------------------------------------------------------------- queries

# The queries run as the dashboard's connections and the BI login of docs/bi-tools.md do:
# without JIT, which costs more than these queries take (one row below measures it).
NO_JIT = "SET jit = off"


def query_pairs(db):
    """Each query of the targets, with the summaries and (the baseline) from the raw rows."""
    psql(db, "VACUUM ANALYZE")
    # Written out now, or a checkpoint of what VACUUM dirtied (gigabytes, with 2 GB of
    # shared_buffers) runs through the timings below.
    checkpoint()
    top_ns = psql(db, "SELECT namespace FROM k8s_events.resource_summary WHERE namespace IS NOT NULL"
                      " GROUP BY 1 ORDER BY sum(warning) DESC, 1 LIMIT 1")
    obj = psql(db, "SELECT namespace || '|' || kind || '|' || name FROM k8s_events.resource_summary"
                   " WHERE namespace IS NOT NULL ORDER BY observations DESC LIMIT 1").split("|")
    ns, kind, name = obj
    # The node with the fewest events: its pods are the rarest on the way down the index.
    node = psql(db, "SELECT source_host FROM k8s_events.events WHERE source_host IS NOT NULL"
                    " GROUP BY 1 ORDER BY count(*), 1 LIMIT 1")
    newest = psql(db, "SELECT date_trunc('hour', max(event_time)) + interval '1 hour' FROM k8s_events.events")
    q = lambda s: s.replace("$NS", ns).replace("$KIND", kind).replace("$NAME", name) \
        .replace("$TOP_NS", top_ns).replace("$NEWEST", newest).replace("$NODE", node)
    raw_resources = ("(SELECT e.cluster, e.namespace, e.kind, e.name,"
                     " coalesce(sum(e.occurrences) FILTER (WHERE e.type = 'Normal'), 0) AS normal,"
                     " coalesce(sum(e.occurrences) FILTER (WHERE e.type = 'Warning'), 0) AS warning,"
                     " max(e.event_time) AS last_event_time FROM k8s_events.events AS e"
                     " GROUP BY 1, 2, 3, 4) AS r")
    raw_hist = ("SELECT k8s_events.time_bucket('{b}', e.event_time), e.type, e.reason, sum(e.occurrences)"
                " FROM k8s_events.events AS e WHERE e.event_time >= timestamptz '$NEWEST' - interval '{d}'"
                " AND e.event_time < '$NEWEST' {f} GROUP BY 1, 2, 3")
    pairs = [
        ("overview: top 100 resources of the cluster by last event", "< 50 ms",
         "SELECT * FROM k8s_events.resources WHERE cluster = 'bench' ORDER BY last_event_time DESC LIMIT 100",
         f"SELECT * FROM {raw_resources} WHERE cluster = 'bench' ORDER BY last_event_time DESC LIMIT 100", 50),
        ("overview: top 100 resources of one namespace by warnings", "< 50 ms",
         "SELECT * FROM k8s_events.resources WHERE cluster = 'bench' AND namespace = '$TOP_NS' ORDER BY warning DESC LIMIT 100",
         f"SELECT * FROM {raw_resources} WHERE cluster = 'bench' AND namespace = '$TOP_NS' ORDER BY warning DESC LIMIT 100", 50),
        ("overview: top 100 resources one node reported events of, by last event", "< 50 ms",
         "SELECT * FROM k8s_events.resources WHERE cluster = 'bench' AND (nodes ? '$NODE'"
         " OR (kind = 'Node' AND name = '$NODE')) ORDER BY last_event_time DESC LIMIT 100",
         "SELECT * FROM k8s_events.resources AS s WHERE cluster = 'bench' AND (kind = 'Node' AND name = '$NODE'"
         " OR (s.namespace, s.kind, s.name) IN (SELECT e.namespace, e.kind, e.name FROM k8s_events.events AS e"
         " WHERE e.cluster = 'bench' AND e.source_host = '$NODE')) ORDER BY last_event_time DESC LIMIT 100", 50),
        ("drill-down: 30-day hourly histogram of one object", "< 20 ms",
         "SELECT * FROM k8s_events.histogram(timestamptz '$NEWEST' - interval '30 days', '$NEWEST', '1 hour',"
         " 'bench', '$NS', '$KIND', '$NAME')", None, 20),
        ("drill-down: the latest 100 events of one object (`object_events()`)", "< 20 ms",
         "SELECT event_time, type, reason, occurrences, message"
         " FROM k8s_events.object_events('bench', '$NS', '$KIND', '$NAME', max_rows => 100)",
         "SELECT event_time, type, reason, occurrences, message FROM k8s_events.events WHERE cluster = 'bench'"
         " AND namespace = '$NS' AND kind = '$KIND' AND name = '$NAME' ORDER BY event_time DESC LIMIT 100", 20),
        ("cluster-wide histogram, 30 days hourly", "< 50 ms",
         "SELECT * FROM k8s_events.histogram(timestamptz '$NEWEST' - interval '30 days', '$NEWEST', '1 hour', 'bench')",
         raw_hist.format(b="1 hour", d="30 days", f="AND e.cluster = 'bench'"), 50),
        ("cluster-wide histogram, 120 days daily", "< 50 ms",
         "SELECT * FROM k8s_events.histogram(timestamptz '$NEWEST' - interval '120 days', '$NEWEST', '1 day', 'bench')",
         raw_hist.format(b="1 day", d="120 days", f="AND e.cluster = 'bench'"), 50),
        ("namespace-wide histogram, 30 days hourly", "< 50 ms",
         "SELECT * FROM k8s_events.histogram(timestamptz '$NEWEST' - interval '30 days', '$NEWEST', '1 hour', 'bench', '$TOP_NS')",
         raw_hist.format(b="1 hour", d="30 days", f="AND e.cluster = 'bench' AND e.namespace = '$TOP_NS'"), 50),
        ("namespace-wide histogram, 120 days daily", "< 50 ms",
         "SELECT * FROM k8s_events.histogram(timestamptz '$NEWEST' - interval '120 days', '$NEWEST', '1 day', 'bench', '$TOP_NS')",
         raw_hist.format(b="1 day", d="120 days", f="AND e.cluster = 'bench' AND e.namespace = '$TOP_NS'"), 50),
    ]
    # The seed's questions as examples/ answers them, against the same questions as first
    # written over the raw rows (tests/bench/seed_questions_from_rows/).
    for example in sorted((ROOT / "examples").glob("*.sql")):
        sql = example.read_text()
        raw = ROOT / "tests" / "bench" / "seed_questions_from_rows" / example.name
        pairs.append((f"the seed's question `examples/{example.name}`", "< 1 s", sql,
                      raw.read_text() if raw.exists() else None, 1000))
    runs = max(ROUNDS, 5)
    for title, target, fast, slow, limit in pairs:
        # A query that answers nothing measures nothing: each must find rows, a histogram
        # occurrences (its empty buckets are rows too), and as many as its baseline.
        answer = lambda sql, what: psql(db, f"SELECT {what} FROM ({q(sql).rstrip().rstrip(';')}) AS a")
        found = answer(fast, "sum(a.occurrences)" if "histogram" in title else "count(*)")
        # (The seed's questions may rightly find nothing in a small run's few hours.)
        if found in ("", "0") and "seed" not in title:
            sys.exit(f"bench: {title} found nothing:\n{q(fast)}")
        if slow is not None and "histogram" in title:
            expected = answer(slow, "sum(a.sum)")
            if expected != found:
                sys.exit(f"bench: {title}: {found} occurrences, its baseline {expected}")
        fast_ms = timed_series(db, q(fast), runs, NO_JIT)
        f50 = statistics.median(fast_ms)
        p50s[title] = f50
        if slow is not None:
            slow_ms = timed_series(db, q(slow), max(2, ROUNDS), NO_JIT)
            s50 = statistics.median(slow_ms)
            record("queries", title, f"p50 {fmt_ms(f50)}, p95 {fmt_ms(p95(fast_ms))}",
                   f"from the rows: p50 {fmt_ms(s50)}", f"{s50 / f50:,.1f}x faster", target, f50 < limit)
        else:
            record("queries", title, f"p50 {fmt_ms(f50)}, p95 {fmt_ms(p95(fast_ms))}", "", "", target, f50 < limit)
    # The cluster-wide 30-day hourly histogram returns one row per hour, type and reason: what
    # returning those rows costs, read back from a table in order, is the floor of any query.
    psql(db, "DROP TABLE IF EXISTS bench_histogram_rows")
    psql(db, "CREATE TABLE bench_histogram_rows AS SELECT * FROM k8s_events.histogram(timestamptz"
             f" '{newest}' - interval '30 days', '{newest}', '1 hour', 'bench')")
    n = int(psql(db, "SELECT count(*) FROM bench_histogram_rows"))
    floor_ms = timed_series(db, "SELECT * FROM bench_histogram_rows", runs, NO_JIT)
    record("queries", f"the floor of the cluster-wide 30-day hourly histogram: its {n:,} rows read back from a table",
           f"p50 {fmt_ms(statistics.median(floor_ms))}", "", "", "(what returning them costs)", None)
    psql(db, "DROP TABLE bench_histogram_rows")
    # What JIT (PostgreSQL's default, jit = on) adds: it compiles the expressions of every
    # partition a plan touches before running it (docs/operations.md).
    trouble = (ROOT / "examples" / "node_trouble.sql").read_text()
    jit_ms = timed_series(db, trouble, max(2, ROUNDS), "SET jit = on")
    off_ms = timed_series(db, trouble, max(2, ROUNDS), NO_JIT)
    record("queries", "`examples/node_trouble.sql` with `jit = on` (PostgreSQL's default) vs off",
           f"p50 {fmt_ms(statistics.median(jit_ms))}", f"jit = off: p50 {fmt_ms(statistics.median(off_ms))}",
           f"{statistics.median(jit_ms) / statistics.median(off_ms):,.1f}x slower", "(why the queries run without JIT)", None)


# ---------------------------------------------------------------- C functions vs SQL

FUNCTION_ROWS = 1_000_000


def function_pairs(db):
    """Each C function against what a user would write without it, over the same 1M stored
    rows (the issue's size at every scale) copied to a table of their own: read from memory,
    so that what is compared is the functions, not how much of a 14 GB store the page cache
    kept for the one that ran second. Each pair runs once untimed, then alternates which of
    the two runs first."""
    src = "k8s_events_bench_functions"
    psql(db, f"DROP TABLE IF EXISTS {src}")
    psql(db, f"CREATE UNLOGGED TABLE {src} AS SELECT e.event, e.event_time, e.message"
             f" FROM k8s_events.events AS e LIMIT {FUNCTION_ROWS}")
    psql(db, f"VACUUM ANALYZE {src}")
    # The functions of a time or a message read a table of those columns only: scanning the
    # events beside them (some 1 KB a row) took most of each run and left the difference
    # between the two functions in that scan's noise.
    narrow = f"{src}_narrow"
    psql(db, f"DROP TABLE IF EXISTS {narrow}")
    psql(db, f"CREATE UNLOGGED TABLE {narrow} AS SELECT event_time, message FROM {src}")
    psql(db, f"VACUUM ANALYZE {narrow}")
    rows = int(psql(db, f"SELECT count(*) FROM {src}"))
    pairs = [
        ("`event_time(event)` vs the SQL COALESCE(...)::timestamptz", ">= 3x", 3.0,
         f"SELECT max(k8s_events.event_time(event)) FROM {src}",
         "SELECT max(coalesce(event->'series'->>'lastObservedTime', event->>'lastTimestamp', event->>'eventTime',"
         " event->>'deprecatedLastTimestamp', event->>'firstTimestamp', event->>'deprecatedFirstTimestamp',"
         f" event->'metadata'->>'creationTimestamp')::timestamptz) FROM {src}"),
        ("`time_bucket('15 minutes', t)` vs `date_bin`", ">= 1x", 1.0,
         # max(), as for event_time: count(DISTINCT ...) spent some 600 of its 770 ms sorting,
         # the same sort for both, which left the functions' difference in its noise.
         f"SELECT max(k8s_events.time_bucket('15 minutes', event_time)) FROM {narrow}",
         f"SELECT max(date_bin('15 minutes', event_time, '2000-01-03')) FROM {narrow}"),
        ("`regexp_extract(message, ...)` vs `substring(... from ...)`", ">= 1x", 1.0,
         f"SELECT count(k8s_events.regexp_extract(message, 'container ([a-z0-9-]+)', 1)) FROM {narrow}",
         f"SELECT count(substring(message from 'container ([a-z0-9-]+)')) FROM {narrow}"),
        ("`image_from_message(message)` vs the seed's pattern in SQL", ">= 1x", 1.0,
         f"SELECT count(k8s_events.image_from_message(message)) FROM {narrow}",
         f"SELECT count(substring(message from 'image \"([^\"]+)\"')) FROM {narrow}"),
    ]
    serial = "SET max_parallel_workers_per_gather = 0; SET track_functions = 'none'"
    runs = max(ROUNDS, 5)
    # What every one of these pays before it computes anything: reading each row and
    # detoasting its event. A function of the event cannot be more than (SQL's time / this)
    # faster than the SQL.
    timed_ms(db, f"SELECT count(event) FROM {src}", serial)
    floor = [timed_ms(db, f"SELECT count(event) FROM {src}", serial) for _ in range(runs)]
    for title, target, want, c_sql, sql_sql in pairs:
        timed_ms(db, c_sql, serial)
        timed_ms(db, sql_sql, serial)
        c_ms, s_ms = [], []
        for r in range(runs):
            first, second = (c_sql, sql_sql) if r % 2 == 0 else (sql_sql, c_sql)
            a, b = timed_ms(db, first, serial), timed_ms(db, second, serial)
            c_ms.append(a if first is c_sql else b)
            s_ms.append(b if first is c_sql else a)
        c50, s50 = statistics.median(c_ms), statistics.median(s_ms)
        record("functions", f"{title}, over {rows:,} rows", f"{fmt_ms(c50)} ({spread(c_ms)})",
               f"{fmt_ms(s50)} ({spread(s_ms)})", f"{s50 / c50:.2f}x", target, s50 / c50 >= want)
        if "event_time" in title:
            f50 = statistics.median(floor)
            record("functions", "reading and detoasting every event (`count(event)`): the floor of both",
                   f"{fmt_ms(f50)} ({spread(floor)})", "", f"SQL / floor: {s50 / f50:.2f}x",
                   "(the most any function can gain)", None)
    psql(db, f"DROP TABLE {src}, {narrow}")


# ---------------------------------------------------------------- retention

RETENTION_DAY = "2025-01-15"


def retention_pair(data_dir):
    """drop_partitions of one day holding up to ~1M events (four simulated 1000-node clusters
    of one day, each up to SCALE/4 events) vs DELETE of the same rows, and vs pg_partman's
    retention of the same partition (which keeps no summaries): each in a transaction that
    is rolled back, so every round finds the same data."""
    db = "bench_retention"
    fresh_db(db)
    per_cluster = max(1, SCALE // 4)
    for k in range(4):
        path = os.path.join(data_dir, f"day{k}.ndjson")
        cmd = (f"{shlex.quote(BIN)} generate --seed {21 + k} --start {RETENTION_DAY}T00:00:00Z --hours 24"
               f" --nodes 1000 --namespaces 200 --cluster-version mixed | head -n {per_cluster} > {shlex.quote(path)}")
        subprocess.run(["bash", "-c", "set +o pipefail; " + cmd], check=True)
        sh([BIN, "load", "-q", "-d", db, "--cluster", f"day{k}", path])
        os.unlink(path)
    # A generated day can spill past midnight; the day's partition is the one timed.
    part = psql(db, f"SELECT partition FROM k8s_events.partition_bounds() WHERE range_from = '{RETENTION_DAY}'").strip()
    rows = int(psql(db, f"SELECT count(*) FROM {part}"))
    psql(db, "VACUUM ANALYZE")
    checkpoint()
    frm, to = RETENTION_DAY, psql(db, f"SELECT date '{RETENTION_DAY}' + 1").strip()
    # pg_partman (postgresql-15-partman) told about the table as a daily native partition
    # set; its retention drops a child once its start plus a day is older than now - retention.
    psql(db, "CREATE SCHEMA partman")
    psql(db, "CREATE EXTENSION pg_partman SCHEMA partman")
    psql(db, "INSERT INTO partman.part_config (parent_table, control, partition_interval, partition_type,"
             " datetime_string, retention, retention_keep_table, retention_keep_index)"
             " VALUES ('k8s_events.events', 'event_time', '1 day', 'native', 'YYYYMMDD', '1 day', false, false)")
    drop_ms, delete_ms, plain_ms = [], [], []
    for _ in range(ROUNDS):
        delete_ms.append(_timed_tx(db, f"DELETE FROM k8s_events.events WHERE event_time >= '{frm}' AND event_time < '{to}'"))
        drop_ms.append(_timed_tx(db, f"SELECT k8s_events.drop_partitions(now() - timestamptz '{to}')",
                                 f"SELECT count(*) FROM k8s_events.drop_partitions(now() - timestamptz '{frm}')"))
        plain_ms.append(_timed_tx(db, "SELECT partman.drop_partition_time('k8s_events.events',"
                                      f" p_retention => now() - timestamptz '{to}' - interval '1 second')"))
    d50, x50, p50 = statistics.median(drop_ms), statistics.median(delete_ms), statistics.median(plain_ms)
    record("retention", f"`drop_partitions` of a day ({rows:,} events), summaries kept exact, vs DELETE of its rows",
           f"{fmt_ms(d50)} ({spread(drop_ms)})", f"{fmt_ms(x50)} ({spread(delete_ms)})", f"{x50 / d50:,.1f}x faster",
           "faster than DELETE", d50 < x50)
    record("retention", "`drop_partitions` of the same day vs pg_partman 4.7's retention"
           " (`partman.drop_partition_time`: DETACH and DROP, no summaries kept)",
           f"{fmt_ms(d50)}", f"{fmt_ms(p50)} ({spread(plain_ms)})", f"{d50 / max(p50, 0.001):,.0f}x slower",
           "(what keeping the summaries exact costs)", None)
    psql("postgres", f"DROP DATABASE {db}")


def steady_retention_pair(db):
    """drop_partitions of the oldest day of the queried store, where many objects of that day
    have later events too (their rows in it are read to take them out of their summaries),
    vs DELETE of the same rows: retention as it runs every day at steady state. What keeping
    the summaries exact costs there, not a target (the issue's is the day of 1M events):
    DELETE leaves the summaries wrong and its dead rows to VACUUM, neither counted here, and
    each DELETE, rolled back, leaves its transaction id on every row of the day, which the
    drop after it then reads (nothing does that before a real drop)."""
    bounds = psql(db, "SELECT range_from || '|' || range_to FROM k8s_events.partitions LIMIT 1").strip()
    if not bounds:
        return
    frm, to = bounds.split("|")
    rows = int(psql(db, f"SELECT count(*) FROM k8s_events.events WHERE event_time >= '{frm}' AND event_time < '{to}'"))
    spanning = psql(db, "SELECT count(*) FILTER (WHERE last_event_time < $2) || '|' ||"
                        " count(*) FILTER (WHERE first_event_time < $2 AND last_event_time >= $2)"
                        " FROM k8s_events.resource_summary".replace("$2", f"'{to}'")).strip().split("|")
    drop_ms, delete_ms = [], []
    for _ in range(max(2, ROUNDS)):
        delete_ms.append(_timed_tx(db, f"DELETE FROM k8s_events.events WHERE event_time >= '{frm}' AND event_time < '{to}'"))
        drop_ms.append(_timed_tx(db, f"SELECT k8s_events.drop_partitions(now() - timestamptz '{to}')"))
    d50, x50 = statistics.median(drop_ms), statistics.median(delete_ms)
    record("retention", f"`drop_partitions` of the oldest day of the queried store ({rows:,} events; {spanning[0]}"
           f" objects wholly in it, {spanning[1]} with later events too), vs DELETE of its rows",
           f"{fmt_ms(d50)} ({spread(drop_ms)})", f"{fmt_ms(x50)} ({spread(delete_ms)})", f"{x50 / d50:,.1f}x faster",
           "(what exact summaries cost at steady state)", None)


def _timed_tx(db, sql, before=None):
    """Statements inside a transaction that is rolled back, so the next round finds the same
    data: the sum of their times."""
    script = "BEGIN;\n" + (before + ";\n" if before else "") + f"\\timing on\n{sql};\n\\timing off\nROLLBACK;\n"
    out = run_script(db, script)
    return sum(float(t) for t in re.findall(r"^Time: ([0-9.]+) ms", out, re.M))


# ---------------------------------------------------------------- main

# Each run's results are kept per scale (tests/bench/results/1M.json, 10M.json for the
# default OUT; beside OUT otherwise), and BENCHMARKS.md shows every scale measured, with
# the growth of each query from one scale to the next.
DEFAULT_OUT = ROOT / "BENCHMARKS.md"


def results_dir():
    return ROOT / "tests" / "bench" / "results" if OUT.resolve() == DEFAULT_OUT else OUT.parent


def save_run(events, nodes, namespaces, partitions, started, elapsed):
    run = {
        "scale": SCALE_TEXT, "events": events, "nodes": nodes, "namespaces": namespaces,
        "partitions": partitions, "started": started, "minutes": round(elapsed / 60),
        "command": f"make bench SCALE={SCALE_TEXT} ROUNDS={ROUNDS}", "rounds": ROUNDS,
        "machine": machine_line(), "results": results, "p50_ms": p50s,
        "load_shared_buffers": LOAD_SETTINGS[0] if LOAD_SETTINGS else None,
    }
    d = results_dir()
    d.mkdir(parents=True, exist_ok=True)
    name = f"{SCALE_TEXT}.json" if OUT.resolve() == DEFAULT_OUT else f"{OUT.stem}.{SCALE_TEXT}.json"
    (d / name).write_text(json.dumps(run, indent=1) + "\n")
    return run


def load_runs(current):
    """The saved runs of every scale (the current one as just measured), smallest first."""
    runs = {current["scale"]: current}
    if OUT.resolve() == DEFAULT_OUT:
        for f in results_dir().glob("*.json"):
            run = json.loads(f.read_text())
            runs.setdefault(run["scale"], run)
    return sorted(runs.values(), key=lambda r: scale_of(r["scale"]))


def report_run(run):
    lines = [
        f"## {run['scale']} events",
        "",
        f"- command: `{run['command']}` ({run['minutes']} min, started {run['started']})",
        f"- scale: {run['events']:,} events of a simulated cluster ({run['nodes']} nodes,"
        f" {run['namespaces']} namespaces) over {run['partitions']} daily partitions",
        f"- machine: {run['machine']}",
    ]
    if run.get("load_shared_buffers"):
        lines.append(f"- shared_buffers: {run['load_shared_buffers']} (initdb's) for the write path, whose every"
                     " `k8s-events load` is a new process; the machine line's for the rest, which pooled"
                     " connections run (tests/bench/bench.py, `larger_shared_buffers`)")
    lines += [
        f"- rounds: {run['rounds']} per pair; queries {max(run['rounds'], 5)} times in one session after one"
        " untimed run (a pooled connection's warm caches), without JIT (docs/operations.md#jit), p50 and p95;"
        " medians, with the spread (min .. max)",
    ]
    section = None
    for sec, name, measured, baseline, ratio, target, met in run["results"]:
        if sec != section:
            section = sec
            lines += ["", f"### {sec.capitalize()}", "",
                      "| what | measured | baseline | ratio | target | met |", "|---|---|---|---|---|---|"]
        mark = "" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {name} | {measured} | {baseline} | {ratio} | {target} | {mark} |")
    missed = [r for r in run["results"] if r[6] is False]
    lines += ["", f"### Missed targets at {run['scale']}", ""]
    lines += [f"- {r[1]}: {r[2]} (target {r[5]})" for r in missed] or ["None."]
    return lines


def growth(runs):
    """p50 of each query at each scale, and its growth from the smallest to the largest."""
    if len(runs) < 2:
        return []
    lo, hi = runs[0], runs[-1]
    lines = ["## Growth", "",
             f"p50 of each query at {lo['scale']} and {hi['scale']} events ({hi['events'] / lo['events']:,.1f}x the"
             " rows): a summary read should stay flat, an index read grow with the log of the rows.", "",
             f"| query | {lo['scale']} | {hi['scale']} | growth |", "|---|---|---|---|"]
    for title, a in lo["p50_ms"].items():
        b = hi["p50_ms"].get(title)
        if b is not None:
            lines.append(f"| {title} | {fmt_ms(a)} | {fmt_ms(b)} | {b / a:,.1f}x |")
    return lines + [""]


def write_report(events, nodes, namespaces, partitions, started, elapsed):
    runs = load_runs(save_run(events, nodes, namespaces, partitions, started, elapsed))
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (tests/bench/bench.py); every number below was measured in the run",
        "of its scale, each against its baseline side by side. Targets are benchmarks, not tests.",
        "",
    ]
    lines += growth(runs)
    for run in reversed(runs):
        lines += report_run(run) + [""]
    OUT.write_text("\n".join(lines))
    print(f"bench: wrote {OUT}")


def larger_shared_buffers():
    """The loads run with initdb's shared_buffers; what follows with 2 GB (a quarter of the
    memory on a smaller machine): the queries' pooled connections then find a 10M store's
    summaries and recent partitions in its cache. Not more: the raw-row baselines scan the
    whole 14 GB store, which with a quarter of this machine's 24 GB as shared buffers no
    longer fit beside them in the page cache, so those scans measured the disk (the 10M run
    of fb4a8cd: date_bin over every row 3.3 s, count(event) 33 s). Not the loads: each
    `k8s-events load` is a new process, and without huge pages (which this bench cannot set
    up) a backend pays a page fault for each shared buffer it first touches: loading 2M
    events took 87-92 s with 6 GB against 72-78 s with 160 MB here, 17% of its CPU in the
    kernel (docs/operations.md#memory)."""
    mb = 128
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mb = min(2048, max(mb, int(line.split()[1]) // 1024 // 4))
    LOAD_SETTINGS.append(psql("postgres", "SHOW shared_buffers").strip())
    psql("postgres", f"ALTER SYSTEM SET shared_buffers = '{mb}MB'")
    sh(["tests/pg_server.sh", "stop", PGDIR], cwd=ROOT)
    sh(["tests/pg_server.sh", "start", PGDIR], cwd=ROOT)


LOAD_SETTINGS = []  # shared_buffers of the load pair, for BENCHMARKS.md


def main():
    os.environ["K8S_EVENTS_PGDIR"] = PGDIR
    os.environ["K8S_EVENTS_PGPORT"] = PORT
    env = sh(["tests/pg_server.sh", "start", PGDIR], cwd=ROOT)
    for line in env.splitlines():
        if line.startswith("export "):
            for k, v in re.findall(r"(\w+)=(\S+)", line):
                os.environ[k] = v
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    t0 = time.monotonic()
    try:
        # One load's autovacuum would run through the next timed one; retention is applied by hand.
        psql("postgres", "ALTER SYSTEM SET autovacuum = off")
        psql("postgres", "ALTER SYSTEM SET k8s_events.retention = '0'")
        psql("postgres", "SELECT pg_reload_conf()")
        with tempfile.TemporaryDirectory(prefix="k8s_events_bench_data.") as tmp:
            os.chmod(tmp, 0o755)
            data = os.path.join(tmp, "events.ndjson")
            events, nodes, namespaces = generate(data)
            print(f"bench: {events:,} events, {nodes} nodes, {namespaces} namespaces", flush=True)
            load_pair(data, pathlib.Path(tmp) / "rows.copy")
            larger_shared_buffers()
            query_pairs("bench_load")
            function_pairs("bench_load")
            partitions = int(psql("bench_load", "SELECT count(*) FROM k8s_events.partitions"))
            steady_retention_pair("bench_load")
            retention_pair(tmp)
            worker_bench.worker_pairs(sys.modules[__name__], tmp)
        write_report(events, nodes, namespaces, partitions, started, time.monotonic() - t0)
    finally:
        subprocess.run(["tests/pg_server.sh", "stop", PGDIR], cwd=ROOT, capture_output=True)
        if OWN_PGDIR:
            shutil.rmtree(PGDIR, ignore_errors=True)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
