"""tests/bench/worker_bench.py: the background worker's pairs of `make bench`.

bench.py's main() calls worker_pairs(bench, tmp) last, with the bench module itself (for its
psql(), record(), SCALE, ROUNDS ...) and its scratch directory. Each pair runs the background
watcher of k8s_events.database against `k8s-events simulate` on 127.0.0.1:

1. Ingest: min(SCALE, 100k) Events written at once by the simulator (its clock moved on with
   /simulator/advance: every write of those hours is made before or while the watch serves
   them, so the simulator never waits for a rate and the watcher reads as fast as it can),
   timed from the clock jump until the watcher's committed checkpoint covers the last one;
   against psql \\copy of the same rows (exported from the table afterwards) into a fresh
   database with its partitions made first. ROUNDS rounds on one watcher.
2. What the worker costs, no baseline: (a) the LIST of min(SCALE, 100k) Events a new cluster
   starts with (what a relist does): its peak private memory (RssAnon, sampled while it runs),
   VmHWM, and its CPU time (utime + stime of /proc/PID/stat) from its start to the checkpoint;
   (b) a stream at a fixed 500 Events/s for 30 s (less below SCALE=1M): CPU seconds per 1,000
   Events stored and wake-ups (voluntary + nonvoluntary context switches of its threads) a
   second, and RssAnon before and after. The budgets are those of tests/test_watcher_cost.sh.

Nothing is asserted: every wait is bounded and ends the bench with what it saw, and the
simulators it starts are stopped and its clusters removed whatever happens.
"""
import json
import math
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
HZ = os.sysconf("SC_CLK_TCK")
STREAM_RATE = 500  # Events a second, pair 2b
NODES = 1000  # the simulated cluster's size: about 2.6 Events a simulated second
# Loopback only: a proxy from the environment must not carry the admin requests.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def budgets():
    """The worker's budgets, as tests/test_watcher_cost.sh states them."""
    b = {"cpu_per_1000": 1.5, "wakeups": 3000, "anon_kb": 64 * 1024}
    try:
        text = (ROOT / "tests" / "test_watcher_cost.sh").read_text()
    except OSError:
        return b
    for key, pattern, conv in (("cpu_per_1000", r"^load_cpu_per_1000=([0-9.]+)", float),
                               ("wakeups", r"^load_wakeups=(\d+)", int),
                               ("anon_kb", r"^anon_kb=\$\(\((\d+) \* 1024\)\)", lambda s: int(s) * 1024)):
        m = re.search(pattern, text, re.M)
        if m:
            b[key] = conv(m.group(1))
    return b


def fail(what, seen=""):
    sys.exit(f"bench (worker pairs): {what}" + (f"\n{seen}" if seen else ""))


# ---------------------------------------------------------------- a psql session kept open

class Session:
    """One psql process for the polls, so that a poll every 20 ms costs a query, not a
    process start and a connection."""
    MARK = "__worker_bench_done__"

    def __init__(self, db, tmp):
        self.err_path = pathlib.Path(tmp) / "worker_bench_psql.err"
        self.err = open(self.err_path, "w")
        self.p = subprocess.Popen(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                  text=True, bufsize=1)
        self.query("SET statement_timeout = '60s'")

    def query(self, sql):
        try:
            self.p.stdin.write(sql.rstrip().rstrip(";") + ";\n\\echo " + self.MARK + "\n")
            self.p.stdin.flush()
        except BrokenPipeError:
            pass
        lines = []
        while True:
            line = self.p.stdout.readline()
            if line == "":
                self.err.flush()
                fail(f"psql ended while running: {sql}", self.err_path.read_text()[-2000:])
            line = line.rstrip("\n")
            if line == self.MARK:
                return "\n".join(lines)
            lines.append(line)

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=10)
        except Exception:
            self.p.kill()
        self.err.close()


# ---------------------------------------------------------------- the simulator

class Simulator:
    def __init__(self, tmp, name, args, ready_s=120):
        port_file = pathlib.Path(tmp) / f"sim_{name}.port"
        port_file.unlink(missing_ok=True)
        self.log_path = pathlib.Path(tmp) / f"sim_{name}.log"
        self.name = name
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([str(ROOT / "loader" / "k8s-events"), "simulate", "--port", "0",
                                          "--port-file", str(port_file), *args],
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + ready_s
        port = None
        while port is None:
            if self.proc.poll() is not None:
                fail(f"the simulator {name} exited ({self.proc.returncode}) before it listened",
                     self.log_path.read_text()[-2000:])
            if time.monotonic() > deadline:
                self.stop()
                fail(f"the simulator {name} did not listen within {ready_s} s", self.log_path.read_text()[-2000:])
            try:
                port = int(port_file.read_text().strip())
            except (OSError, ValueError):
                time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port}"

    def _req(self, path, method="GET"):
        try:
            with _HTTP.open(urllib.request.Request(self.url + path, method=method), timeout=60) as r:
                return r.read().decode()
        except OSError as e:
            fail(f"the simulator {self.name} did not answer {method} {path}: {e}",
                 self.log_path.read_text()[-2000:])

    def stats(self):
        return json.loads(self._req("/simulator/stats"))

    def post(self, path):
        return self._req(path, "POST")

    def settled(self):
        """Its stats once the simulation thread has caught up with the clock (two readings
        20 ms apart that agree)."""
        prev = self.stats()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.02)
            cur = self.stats()
            if cur["resource_version"] == prev["resource_version"] and cur["observations"] == prev["observations"]:
                return cur
            prev = cur
        fail(f"the simulator {self.name} kept writing for 60 s after its clock stopped", json.dumps(prev))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------- /proc

def _proc(pid, what):
    try:
        return open(f"/proc/{pid}/{what}").read()
    except OSError as e:
        fail(f"cannot read /proc/{pid}/{what} of the watcher: {e}")


def ticks(pid):
    """CPU time so far, user + system, all threads, in clock ticks (the fields after the ')'
    that ends the command name)."""
    f = _proc(pid, "stat").rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def status_kb(pid, field):
    m = re.search(rf"^{field}:\s+(\d+) kB", _proc(pid, "status"), re.M)
    return int(m.group(1)) if m else 0


def switches(pid):
    """Voluntary + nonvoluntary context switches of the threads alive now."""
    n = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError as e:
        fail(f"cannot read /proc/{pid}/task of the watcher: {e}")
    for t in tasks:
        try:
            text = open(f"/proc/{pid}/task/{t}/status").read()
        except OSError:
            continue
        n += sum(int(v) for v in re.findall(r"^(?:non)?voluntary_ctxt_switches:\s+(\d+)", text, re.M))
    return n


# ---------------------------------------------------------------- the watcher

def q(name):
    return "'" + name.replace("'", "''") + "'"


def status_row(s, cluster):
    return s.query(f"SELECT state, events_stored, relists, reconnects, last_error, pid"
                   f" FROM k8s_events.watch_status WHERE cluster = {q(cluster)}")


def watcher_pid(s, cluster, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = s.query(f"SELECT pid FROM k8s_events.watch_status WHERE cluster = {q(cluster)} AND pid IS NOT NULL")
        if pid:
            kind = s.query(f"SELECT backend_type FROM pg_stat_activity WHERE pid = {int(pid)}")
            if kind != "k8s_events watcher":
                fail(f"the pid of cluster {cluster} ({pid}) is a {kind or 'gone process'}, not a k8s_events watcher")
            return int(pid)
        time.sleep(0.02)
    fail(f"no watcher started for cluster {cluster} within {timeout} s", status_row(s, cluster))


def wait_checkpoint(s, cluster, rv, timeout, sample=None):
    """Poll (every 20 ms) until cluster's committed checkpoint reaches rv: everything the
    simulator served up to rv is stored. Returns the time it was seen; sample() runs at every poll."""
    deadline = time.monotonic() + timeout
    sql = (f"SELECT coalesce((SELECT resource_version::bigint >= {int(rv)} FROM"
           f" k8s_events_internal.watch_checkpoints WHERE cluster = {q(cluster)}), false)")
    while True:
        if sample:
            sample()
        if s.query(sql) == "t":
            return time.monotonic()
        if time.monotonic() > deadline:
            fail(f"cluster {cluster} did not store up to resourceVersion {rv} within {timeout} s"
                 " (state|stored|relists|reconnects|last_error|pid)", status_row(s, cluster))
        time.sleep(0.02)


def timeout_for(events):
    # At 500 Events/s at worst, and never less than a minute.
    return max(60, events / 500)


# ---------------------------------------------------------------- pair 1: ingest vs COPY

def ingest_pair(b, tmp, s, db, clusters, sims):
    want = min(b.SCALE, 100_000)
    days = math.ceil(b.ROUNDS * want / 200_000) + 2  # the simulated cluster writes ~225k a day
    sim = Simulator(tmp, "ingest", ["--seed", "31", "--speed", "0", "--start", f"now-{days}d",
                                    "--nodes", str(NODES), "--namespaces", "200",
                                    "--event-ttl", str(60 * 86400), "--initial-events", "100",
                                    "--bookmark-interval", "1", "--history-seconds", "3600",
                                    "--history-max", str(2 * want + 100_000)])
    sims.append(sim)
    cluster = "bench-worker-ingest"
    s.query(f"SELECT k8s_events.add_cluster({q(cluster)}, api_server => {q(sim.url)})")
    clusters.append(cluster)
    pid = watcher_pid(s, cluster)
    wait_checkpoint(s, cluster, sim.stats()["resource_version"], 60)
    rows_file = pathlib.Path(tmp) / "worker_rows.copy"
    worker_s, copy_s, counts, cpu, copy_cpu = [], [], [], [], []
    anon0, peak = status_kb(pid, "RssAnon"), [0]

    def sample():
        peak[0] = max(peak[0], status_kb(pid, "RssAnon"))

    per_sec = None  # Events per simulated second, learnt on the way
    for r in range(b.ROUNDS):
        st0 = sim.settled()
        rv0, obs0 = st0["resource_version"], st0["observations"]
        b.checkpoint()
        t_cpu = ticks(pid)
        t0 = time.monotonic()
        moved, got = 0.0, 0
        while got < want:
            step = 600.0 if per_sec is None else max(60.0, (want - got) / per_sec * 1.02)
            sim.post(f"/simulator/advance?seconds={step:.0f}")
            moved += round(step)
            st = sim.settled()
            got = st["observations"] - obs0
            if got > 0:
                per_sec = got / moved
            elif moved > 30 * 86400:
                fail("the simulator wrote no Event in 30 simulated days", json.dumps(st))
        t1 = wait_checkpoint(s, cluster, st["resource_version"], timeout_for(got), sample)
        worker_s.append(t1 - t0)
        cpu.append((ticks(pid) - t_cpu) / HZ)
        where = f"cluster = {q(cluster)} AND resource_version::bigint > {rv0}"
        n = int(s.query(f"SELECT count(*) FROM k8s_events.events WHERE {where}"))
        if n != got:
            fail(f"round {r + 1}: the simulator wrote {got} Events, the watcher stored {n}", status_row(s, cluster))
        counts.append(n)
        b.psql(db, f"\\copy (SELECT {b.COLS} FROM k8s_events.events WHERE {where}) TO '{rows_file}'")
        lo, hi = s.query(f"SELECT min(event_time), max(event_time) FROM k8s_events.events WHERE {where}").split("|")
        b.fresh_db("bench_worker_copy")
        b.psql("bench_worker_copy", f"SELECT count(*) FROM k8s_events.create_partitions('{lo}', '{hi}')")
        b.checkpoint()
        t0, c0 = time.monotonic(), b.machine_cpu_s()
        b.psql("bench_worker_copy", f"\\copy k8s_events.events ({b.COLS}) FROM '{rows_file}'")
        copy_s.append(time.monotonic() - t0)
        copy_cpu.append(b.machine_cpu_s() - c0)
        rows_file.unlink()
    n = statistics.median(counts)
    w_rate = [c / t for c, t in zip(counts, worker_s)]
    c_rate = [c / t for c, t in zip(counts, copy_s)]
    w50, c50 = statistics.median(w_rate), statistics.median(c_rate)
    per_s = lambda v: f"{v:,.0f}/s"
    cpu1000 = statistics.median(c / k * 1000 for c, k in zip(cpu, counts))
    b.record("background worker",
             f"watcher ingest of {n:,.0f} Events served as fast as it reads (the simulator's clock"
             f" jumped), from the jump until its checkpoint covers the last, vs psql `\\copy` of the same rows",
             f"{w50:,.0f} events/s ({b.spread(w_rate, per_s)}; {cpu1000:.3f} s CPU per 1,000;"
             f" RssAnon {anon0 / 1024:,.1f} MiB, at most {peak[0] / 1024:,.1f} MiB)",
             f"{c50:,.0f} rows/s ({b.spread(c_rate, per_s)})", f"{w50 / c50:.2f}", ">= 0.8", w50 / c50 >= 0.8)
    # Why: a watcher is one process, so it stores no faster than its CPU time allows, and it
    # does more than COPY's work for each row (receiving and parsing the stream, the
    # summaries, finding earlier observations). Against the whole machine's CPU for \copy
    # (psql and its backend).
    copy1000 = statistics.median(c / k * 1000 for c, k in zip(copy_cpu, counts))
    b.record("background worker",
             "why: the watcher is one process, so its rate is at most 1,000 over its CPU time per 1,000"
             " Events; the same for \\copy's (psql's and its backend's, /proc/stat)",
             f"{cpu1000:.3f} s CPU per 1,000: at most {1000 / cpu1000:,.0f}/s",
             f"\\copy {copy1000:.3f} s per 1,000", f"at most {c50 and (1000 / cpu1000) / c50:.2f} of \\copy",
             "(the most one process gives)", None)
    return sim, cluster, pid


# ---------------------------------------------------------------- pair 2a: a relist

def relist_pair(b, tmp, s, clusters, sims, bud):
    m = min(b.SCALE, 100_000)
    sim = Simulator(tmp, "relist", ["--seed", "32", "--speed", "0", "--start", "now-1d",
                                    "--nodes", str(NODES), "--namespaces", "200",
                                    "--initial-events", str(m), "--bookmark-interval", "1"], ready_s=600)
    sims.append(sim)
    settled = sim.settled()
    rv = settled["resource_version"]
    # What it serves: its initial Events and any its model writes at the very instant it
    # starts (a CronJob due then), which a LIST returns too.
    served = settled["events_alive"]
    peaks, hwms, cpus, walls = [], [], [], []
    for r in range(b.ROUNDS):
        cluster = f"bench-worker-relist-{r + 1}"
        t0 = time.monotonic()
        s.query(f"SELECT k8s_events.add_cluster({q(cluster)}, api_server => {q(sim.url)})")
        clusters.append(cluster)
        pid = watcher_pid(s, cluster)
        peak = [0]

        def sample():
            peak[0] = max(peak[0], status_kb(pid, "RssAnon"))

        t1 = wait_checkpoint(s, cluster, rv, timeout_for(m), sample)
        sample()
        cpus.append(ticks(pid) / HZ)  # all of it: the process began with this LIST
        hwms.append(status_kb(pid, "VmHWM"))
        peaks.append(peak[0])
        walls.append(t1 - t0)
        stored = int(s.query(f"SELECT count(*) FROM k8s_events.events WHERE cluster = {q(cluster)}"))
        if stored != served:
            fail(f"the LIST of {served} Events stored {stored} rows for {cluster}", status_row(s, cluster))
        s.query(f"SELECT k8s_events.remove_cluster({q(cluster)})")
        clusters.remove(cluster)
        deadline = time.monotonic() + 30
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.05)
    sim.stop()
    mib = lambda kb: f"{kb / 1024:,.1f} MiB"
    sec = lambda v: f"{v:,.1f} s"
    peak50, cpu50 = statistics.median(peaks), statistics.median(cpus)
    b.record("background worker",
             f"watcher memory and CPU during the LIST of {m:,} Events a new cluster starts with (as a relist),"
             f" pages of 500: peak RssAnon (sampled every 20 ms), VmHWM (counts the shared buffers it touched),"
             f" CPU from its start until stored",
             f"RssAnon {mib(peak50)} ({b.spread(peaks, mib)}), VmHWM {mib(statistics.median(hwms))};"
             f" CPU {cpu50:.2f} s ({1000 * cpu50 / m:.3f} s per 1,000) in {sec(statistics.median(walls))}"
             f" ({b.spread(walls, sec)})",
             "", "", f"RssAnon < {mib(bud['anon_kb'])} (tests/test_watcher_cost.sh)", peak50 < bud["anon_kb"])


# ---------------------------------------------------------------- pair 2b: a steady stream

def stream_pair(b, s, sim, cluster, pid, bud):
    secs = 30 if b.SCALE >= 1_000_000 else max(5, round(30 * b.SCALE / 1_000_000))
    st0 = sim.settled()
    wait_checkpoint(s, cluster, st0["resource_version"], 60)
    anon0 = status_kb(pid, "RssAnon")
    t_cpu, sw0, t0 = ticks(pid), switches(pid), time.monotonic()
    sim.post(f"/simulator/faults?rate={STREAM_RATE}")
    try:
        time.sleep(secs)
    finally:
        sim.post("/simulator/faults?rate=0&speed=0")
    st = sim.settled()
    wait_checkpoint(s, cluster, st["resource_version"], 120)
    cpu, sw, window = (ticks(pid) - t_cpu) / HZ, switches(pid) - sw0, time.monotonic() - t0
    anon1 = status_kb(pid, "RssAnon")
    n = int(s.query(f"SELECT count(*) FROM k8s_events.events WHERE cluster = {q(cluster)}"
                    f" AND resource_version::bigint > {st0['resource_version']}"))
    if n == 0:
        fail(f"nothing was stored from {secs} s at {STREAM_RATE} Events/s", status_row(s, cluster))
    per1000, wps = 1000 * cpu / n, sw / window
    b.record("background worker",
             f"watcher streaming {n:,} Events at {STREAM_RATE}/s for {secs} s: CPU per 1,000 stored,"
             f" wake-ups (context switches) a second over the {window:.1f} s until stored, RssAnon before -> after",
             f"{per1000:.3f} s CPU per 1,000 ({cpu:.2f} s); {wps:,.0f} wake-ups/s;"
             f" RssAnon {anon0:,} kB -> {anon1:,} kB",
             "", "", f"< {bud['cpu_per_1000']} s per 1,000, < {bud['wakeups']:,}/s, RssAnon < {bud['anon_kb'] // 1024} MiB"
             " (tests/test_watcher_cost.sh)",
             per1000 < bud["cpu_per_1000"] and wps < bud["wakeups"] and max(anon0, anon1) < bud["anon_kb"])


# ---------------------------------------------------------------- all of them

def worker_pairs(b, tmp):
    db = b.psql("postgres", "SHOW k8s_events.database").strip()
    if "k8s_events" not in b.psql("postgres", "SHOW shared_preload_libraries"):
        fail("the server does not preload k8s_events: there is no background worker to measure")
    b.psql(db, "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS k8s_events")
    bud = budgets()
    s = Session(db, tmp)
    clusters, sims = [], []
    try:
        t0 = time.monotonic()
        sim, cluster, pid = ingest_pair(b, tmp, s, db, clusters, sims)
        t1 = time.monotonic()
        relist_pair(b, tmp, s, clusters, sims, bud)
        t2 = time.monotonic()
        stream_pair(b, s, sim, cluster, pid, bud)
        print(f"bench: worker pairs took {t1 - t0:.0f} s (ingest), {t2 - t1:.0f} s (relist),"
              f" {time.monotonic() - t2:.0f} s (stream)", flush=True)
    finally:
        for c in clusters:
            try:
                s.query(f"SELECT k8s_events.remove_cluster({q(c)})")
            except SystemExit:
                break
        s.close()
        for sim in sims:
            sim.stop()
