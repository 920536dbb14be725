#!/usr/bin/env bash
# tests/bench/soak.sh [SECONDS] [RATE] [FAULT_EVERY] [IDLE_SECONDS]
#
# The background worker following `k8s-events simulate --rate RATE` (default 500 Events a
# second, a 1,000-node cluster) for SECONDS (default 3600), with a fault every FAULT_EVERY
# seconds (default 240), in turn: a watch ended by 410 Gone, the connection dropped mid-frame,
# a stalled watch (the worker's k8s_events.watch_stall_timeout, 10 s here, must fire), a storm
# of 503s, and the simulator killed with -9 and started again on the same port (its
# --state-file makes it go on with the same history and resourceVersions, as an API server
# restarted over its etcd does). Then, with the simulator frozen:
#  - exact counts: the rows stored are every write the simulator served
#    (/simulator/observations, fetched as it goes), each once; verify_summaries() is empty;
#  - flat cost: the worker's private memory (RssAnon) and CPU (utime + stime per 1,000
#    Events stored), sampled every 2 s and summed per interval between faults, in the last
#    interval against the first ones, within a wide margin, and under absolute budgets;
#  - with IDLE_SECONDS (default 0), what the idle worker costs (a bookmark every 2 s).
# A table per interval and a summary are printed, with `ok - ...` / `not ok - ...` lines;
# the exit status says whether every check passed. tests/test_soak.sh runs 285 s of it; the
# hour's results are in docs/soak.md.
#
# Its PostgreSQL: K8S_EVENTS_SOAK_PGPORT (default 54407); PG_BINDIR as for tests/pg_server.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
need_program
seconds=${1:-3600}
rate=${2:-500}
fault_every=${3:-240}
idle=${4:-0}
own_server soak "${K8S_EVENTS_SOAK_PGPORT:-54407}"
# K8S_EVENTS_SOAK_KEEP=1 keeps the scratch directory (logs, samples, observations) and says where.
if [ -n "${K8S_EVENTS_SOAK_KEEP:-}" ]; then
	# shellcheck disable=SC2317 # runs at exit
	soak_cleanup() {
		local p
		for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
		for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null; done
		tests/pg_server.sh stop "$dir/pg"
		echo "# kept $dir"
	}
	trap soak_cleanup EXIT
fi

# Budgets, wide: measured here about 0.13 s per 1,000 Events, 14 MB and 300 wake-ups a second.
cpu_per_1000_budget=1.5
anon_budget_kb=$((64 * 1024))
wakeups_budget=3000
# Flat: the last interval against the first ones (the first two after the initial list).
cpu_growth_max=2.0
anon_growth_max=1.5
anon_slack_kb=2048

hz=$(getconf CLK_TCK)
t_setup=$(($(date +%s%N) / 1000000))
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# ticks PID: CPU time used so far, user + system, all threads, in clock ticks (the fields
# after the ")" that ends the command name, which may hold spaces).
ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }'; }
anon() { awk '$1 == "RssAnon:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
status() { sql "SELECT state, pid, relists, reconnects, coalesce(last_error, '') FROM k8s_events.watch_status WHERE cluster = 'soak'"; }
# sim_num KEY: a number of the simulator's /simulator/stats (sim_stat without its python3).
sim_num() { curl -s "$url/simulator/stats" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION k8s_events" \
	-c "ALTER SYSTEM SET k8s_events.watch_stall_timeout = '10s'" -c "SELECT pg_reload_conf()" >/dev/null

# The cluster starts 10 days ago (a whole minute, the same for the restarted simulator): at
# 500 Events a second a 1,000-node cluster runs about 190 times faster than real time, so an
# hour covers 8 days, all within the default retention.
start=$(date -u -d "@$(($(date +%s) / 60 * 60 - 10 * 86400))" +%Y-%m-%dT%H:%M:%SZ)
sim_args=(--seed 13 --start "$start" --nodes 1000 --namespaces 200 --initial-events 5000
	--bookmark-interval 2 --state-file "$dir/sim.state")
sim_starts=0
# start_simulator PACE [PORT]: start it (again) with PACE (--speed 0 or --rate N), wait until
# it listens; sets sim_pid and sim_port.
start_simulator() {
	rm -f "$dir/sim.port"
	loader/k8s-events simulate $1 --port "${2:-0}" --port-file "$dir/sim.port" "${sim_args[@]}" \
		>>"$dir/sim.log" 2>&1 &
	sim_pid=$!
	bg_pids+=("$sim_pid")
	sim_starts=$((sim_starts + 1))
	for _ in $(seq 600); do [ -s "$dir/sim.port" ] && break; sleep 0.05; done
	sim_port=$(cat "$dir/sim.port" 2>/dev/null)
	[ -n "$sim_port" ]
}
# Frozen until the worker has listed: what the list shows is then exactly what is alive (a
# write superseded before the list could not be seen by any client).
start_simulator "--speed 0" || { notok "the simulator starts: $(cat "$dir/sim.log")"; exit 1; }
url=$(sim_url "$sim_port")

# Every write the simulator serves, fetched as it goes (its log keeps the last million): a
# restarted one serves the same history again, so what it served after the last one fetched
# follows on.
: >"$dir/obs.ndjson"
fetch_observations() {
	curl -sf "$url/simulator/observations?since_rv=$obs_rv" >"$dir/obs.part" || return 1
	cat "$dir/obs.part" >>"$dir/obs.ndjson"
	local last
	last=$(tail -n 1 "$dir/obs.part" | sed -n 's/.*"resourceVersion":"\([0-9]*\)".*/\1/p')
	[ -n "$last" ] && obs_rv=$last
	return 0
}

sql "SELECT k8s_events.add_cluster('soak', api_server => '$url')" >/dev/null
caught_up soak "$sim_port" && wait_for 10 "SELECT state = 'watching' FROM k8s_events.watch_status WHERE cluster = 'soak'"
rc=$?
alive=$(sim_num events_alive)
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'soak'" >"$dir/base.txt"
test "$rc" = 0 && test "$(wc -l <"$dir/base.txt")" = "$alive"
check "the worker lists the simulator's $alive Events ($(wc -l <"$dir/base.txt") rows) and watches" $? "$(status)"
[ "$failures" = 0 ] || exit 1
obs_rv=$(sim_num resource_version)
sim_fault "$sim_port" "rate=$rate"

# The sampler: every 2 s, the worker's pid, CPU ticks, context switches and RssAnon, and the
# Events it stored so far (watch_status.events_stored).
sampler() {
	local pid stored
	while :; do
		read -r pid stored < <(sql "SELECT pid, events_stored FROM k8s_events.watch_status WHERE cluster = 'soak'" 2>/dev/null | tr '|' ' ')
		if [ -n "$pid" ] && [ -r "/proc/$pid/stat" ]; then
			echo "$(now_ms) $pid $(ticks "$pid") $(switches "$pid") $(anon "$pid") $stored"
		fi
		sleep 2
	done >>"$dir/samples"
}
sampler &
bg_pids+=($!)

# inject KIND: one fault, and wait until the worker got over it: its checkpoint reaches
# the resourceVersion the simulator had once the fault was over. Appends a line to
# $dir/faults: when (ms), the fault, the simulator's resourceVersion then, when (ms) the
# worker was over it.
faults=(gone drop stall storm restart)
inject() {
	local kind=$1 t0 n0 e0 f0 rv0 rv1 ok=0 rc=0
	rv0=$(sim_num resource_version)
	t0=$(now_ms)
	case $kind in
	gone)
		# Every watch ends with ERROR 410 after 1,000 frames (2 s): the worker watches again
		# from its checkpoint. Off once the first one was sent.
		e0=$(sim_num errors_sent)
		sim_fault "$sim_port" "gone_after=1000"
		for _ in $(seq 300); do [ "$(sim_num errors_sent)" -gt "$e0" ] && ok=1 && break; sleep 0.1; done
		sim_fault "$sim_port" "gone_after=0"
		;;
	drop | stall)
		# The connection closed in the middle of a frame, or left open with nothing more
		# sent: the worker backs off (a stall once watch_stall_timeout passed) and watches
		# again. Off once it noticed, before its backoff ends.
		n0=$(sql "SELECT reconnects FROM k8s_events.watch_status WHERE cluster = 'soak'")
		sim_fault "$sim_port" "${kind}_after=200"
		wait_for 60 "SELECT reconnects > $n0 FROM k8s_events.watch_status WHERE cluster = 'soak'" && ok=1
		sim_fault "$sim_port" "${kind}_after=0"
		;;
	storm)
		# The watch ended cleanly, then the next 4 API requests answered 503 (Retry-After 1):
		# the worker backs off 1, 2, 4 and 8 s.
		f0=$(sim_num injected_failures)
		sim_fault "$sim_port" "fail_status=503&fail_count=4"
		curl -s -XPOST "$url/simulator/close_watches" >/dev/null
		for _ in $(seq 600); do [ "$(sim_num injected_failures)" -ge $((f0 + 4)) ] && ok=1 && break; sleep 0.1; done
		;;
	restart)
		# The simulator killed (-9) mid-stream, down for 3 s after the worker noticed, then
		# started again on the same port over its state file.
		fetch_observations
		kill -9 "$sim_pid"
		wait "$sim_pid" 2>/dev/null
		wait_for 30 "SELECT state = 'backoff' FROM k8s_events.watch_status WHERE cluster = 'soak'" && ok=1
		sleep 3
		start_simulator "--rate $rate" "$sim_port" || ok=0
		;;
	esac
	# After a restart the worker's backoff may have grown to a minute (and half as much jitter)
	# while the simulator replayed its history.
	rv1=$(sim_num resource_version)
	wait_for "$([ "$kind" = restart ] && echo 150 || echo 60)" \
		"SELECT coalesce((SELECT resource_version::bigint >= $rv1 FROM k8s_events_internal.watch_checkpoints WHERE cluster = 'soak'), false)" || rc=1
	[ "$ok" = 1 ] || rc=1
	echo "$t0 $kind $rv0 $(now_ms)" >>"$dir/faults"
	return $rc
}

# tick: every 10 s, the observations so far.
last_fetch=0
tick() {
	if [ $(($(now_ms) - last_fetch)) -ge 10000 ]; then
		fetch_observations || true
		last_fetch=$(now_ms)
	fi
}
t_start=$(now_ms)
echo "$t_start start 0 $t_start" >"$dir/faults"
echo "# soak: $seconds s at $rate Events/s, a fault every $fault_every s; simulator on port $sim_port, cluster from $start"
k=0
fault_failures=()
while :; do
	next=$((t_start + (k + 1) * fault_every * 1000))
	[ $((next - t_start)) -ge $((seconds * 1000)) ] && break
	while [ "$(now_ms)" -lt "$next" ]; do
		sleep 1
		tick
	done
	kind=${faults[$((k % ${#faults[@]}))]}
	if ! inject "$kind"; then
		fault_failures+=("$kind at $(((next - t_start) / 1000)) s: $(status)")
	fi
	k=$((k + 1))
done
while [ "$(now_ms)" -lt $((t_start + seconds * 1000)) ]; do
	sleep 1
	tick
done
t_end=$(now_ms)
echo "# $(((t_end - t_start) / 1000)) s soaked; $(((t_end - t_setup) / 1000)) s since the script started"
echo "$t_end end 0 $t_end" >>"$dir/faults"
test ${#fault_failures[@]} = 0
check "the worker got over each of $k faults (its checkpoint reached the simulator's resourceVersion after each)" $? \
	"$(printf '%s\n' "${fault_failures[@]}")"

phase() { echo "# $1 at $((($(now_ms) - t_end) / 1000)) s after the soak"; }
# Frozen: what is served is final; the worker stores all of it.
sim_fault "$sim_port" "rate=0&speed=0"
caught_up soak "$sim_port"
check "with the simulator frozen, the worker catches up" $? "$(status)"
fetch_observations
check "the simulator's observations were fetched whole" $? "$(tail -3 "$dir/sim.log")"
phase "caught up"
sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = 'soak'" >"$dir/db.txt"
out=$(python3 - "$dir/obs.ndjson" "$dir/db.txt" "$dir/base.txt" <<'PY'
import json, sys
served = set(l.strip() for l in open(sys.argv[3]) if l.strip())
lines = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    served.add(o["uid"] + " " + o["resourceVersion"])
    lines += 1
db = [l.strip() for l in open(sys.argv[2]) if l.strip()]
dbset = set(db)
missing, extra = served - dbset, dbset - served
print(f"{len(db)} rows, {len(dbset)} distinct, {len(served)} served (the list, then {lines} writes): "
      f"{len(missing)} missing, {len(extra)} extra, {len(db) - len(dbset)} doubled")
for what, keys in (("missing", missing), ("extra", extra)):
    for k in sorted(keys, key=lambda k: int(k.split()[1]))[:20]:
        print(f"{what}: {k}")
sys.exit(0 if not missing and not extra and len(db) == len(dbset) and db else 1)
PY
)
rc=$?
check "exact counts: $(head -n 1 <<<"$out")" $rc "$out"
n=$(sql "SELECT count(*) FROM k8s_events.rejected WHERE cluster = 'soak'")
test "$n" = 0
check "nothing rejected ($n)" $?
phase "compared"
check_summaries postgres "the soak"
phase "summaries verified"
n=$(grep -c 'terminated by signal\|server process .* was terminated' "$dir/pg/server.log")
test "$n" = 0
check "no backend crashed ($n in the server log)" $? "$(grep -m 5 'terminated by signal' "$dir/pg/server.log")"

# Idle: nothing but bookmarks.
if [ "$idle" -gt 0 ]; then
	pid=$(sql "SELECT pid FROM k8s_events.watch_status WHERE cluster = 'soak'")
	t0=$(ticks "$pid") c0=$(switches "$pid") ms0=$(now_ms)
	sleep "$idle"
	t1=$(ticks "$pid") c1=$(switches "$pid") ms1=$(now_ms)
	idle_line=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v c=$((c1 - c0)) -v ms=$((ms1 - ms0)) 'BEGIN {
		s = ms / 1000
		printf "%.2f s CPU in %.0f s (%.2f%% of a core, %.1f s per idle hour), %.1f wake-ups/s", t / hz, s, 100 * t / hz / s, 3600 * t / hz / s, c / s }')
	awk -v t=$((t1 - t0)) -v hz="$hz" -v ms=$((ms1 - ms0)) 'BEGIN { exit !(100 * t / hz / (ms / 1000) < 2) }'
	check "idle worker (a bookmark every 2 s): $idle_line, RssAnon $(anon "$pid") kB (budget 2% of a core)" $?
fi

# The table, per interval between faults, and the cost checks.
python3 - "$dir/samples" "$dir/faults" "$hz" "$cpu_per_1000_budget" "$anon_budget_kb" "$wakeups_budget" \
	"$cpu_growth_max" "$anon_growth_max" "$anon_slack_kb" >"$dir/report" <<'PY'
import sys
samples_f, faults_f = sys.argv[1:3]
hz, cpu_budget, anon_budget, wake_budget, cpu_growth, anon_growth, anon_slack = map(float, sys.argv[3:10])
samples = [tuple(map(int, l.split())) for l in open(samples_f) if len(l.split()) == 6]
# marks: when (ms), what (start, a fault, end), resourceVersion, when the worker was over it
marks = [l.split() for l in open(faults_f)]
marks = [(int(m[0]), m[1], int(m[2]), int(m[3])) for m in marks]
t0 = marks[0][0]
checks = []

def check(ok, text):
    checks.append(("ok - " if ok else "not ok - ") + text)

# Between consecutive samples: CPU ticks, context switches and Events stored. A process
# first seen (the worker started again) counts from 0, and so does a stored count that went
# back (its status started again with it).
steps = []
for p, s in zip(samples, samples[1:]):
    same = p[1] == s[1]
    steps.append(dict(a=p[0], b=s[0], ticks=s[2] - p[2] if same else s[2], wake=s[3] - p[3] if same else s[3],
                      stored=s[5] - p[5] if s[5] >= p[5] else s[5], anon=s[4], pid=s[1]))

def window(a, b):
    """The steps that end in [a, b): ticks, wake-ups, Events stored, seconds, last RssAnon."""
    w = [x for x in steps if a <= x["b"] < b]
    return (sum(x["ticks"] for x in w), sum(x["wake"] for x in w), sum(x["stored"] for x in w),
            sum(x["b"] - x["a"] for x in w) / 1000, w[-1]["anon"] if w else None, {x["pid"] for x in w})

def steady(a, b):
    """The steps wholly within [a, b): after the worker got over a fault, before the next."""
    w = [x for x in steps if a <= x["a"] and x["b"] < b]
    return sum(x["ticks"] for x in w), sum(x["stored"] for x in w), sum(x["b"] - x["a"] for x in w) / 1000

rows = []
pids = []
for i in range(len(marks) - 1):
    a, kind, _, rec = marks[i]
    b = marks[i + 1][0]
    ticks, wake, stored, secs, anon, ipids = window(a, b)
    sticks, sstored, ssecs = steady(rec, b)
    pids += [p for p in sorted(ipids) if p not in pids]
    rows.append(dict(t=(a - t0) / 1000, fault="-" if kind == "start" else kind, back=(rec - a) / 1000,
                     stored=stored, secs=secs, cpu=ticks / hz, pct=100 * ticks / hz / secs if secs else 0,
                     wake=wake / secs if secs else 0, anon=anon, pids=ipids,
                     steady=(sticks / hz) / (sstored / 1000) if sstored >= 1000 else None,
                     srate=sstored / ssecs if ssecs else 0))

print(f"{'from s':>6} {'fault':>7} {'back in':>7} {'stored':>7} {'CPU s':>6} {'% core':>6} {'wake/s':>6} "
      f"{'steady: /s':>10} {'s/1000':>6} {'RssAnon kB':>10}  pid")
for r in rows:
    print(f"{r['t']:6.0f} {r['fault']:>7} {'' if r['fault'] == '-' else format(r['back'], '.1f') + ' s':>7} "
          f"{r['stored']:7d} {r['cpu']:6.2f} {r['pct']:6.1f} {r['wake']:6.0f} {r['srate']:10.0f} "
          f"{'-' if r['steady'] is None else format(r['steady'], '.3f'):>6} "
          f"{'-' if r['anon'] is None else r['anon']:>10}  {','.join(map(str, sorted(r['pids'])))}")
stored = sum(r["stored"] for r in rows)
cpu = sum(r["cpu"] for r in rows)
secs = sum(r["secs"] for r in rows)
print(f"total: {stored} Events stored in {secs:.0f} s ({stored / secs:.0f}/s), {cpu:.1f} s CPU "
      f"({cpu / (stored / 1000):.3f} s per 1,000, {100 * cpu / secs:.1f}% of a core); worker pids {', '.join(map(str, pids))}")

# Flat: CPU per 1,000 Events in the steady part of the last interval against the first two;
# RssAnon at the end against its highest in the first round of faults (each fault's burst
# sets a high-water mark once).
measured = [r for r in rows if r["steady"] is not None]
sampled = [r for r in rows if r["anon"] is not None]
if len(measured) < 3 or len(sampled) < 3 or rows[-1]["anon"] is None:
    check(False, f"at least 3 intervals measured, the last one too ({len(measured)} with a steady part, {len(sampled)} sampled)")
else:
    last = measured[-1]
    base_cpu = sum(r["steady"] for r in measured[:2]) / 2
    first_round = sampled[:min(len(sampled) - 1, 6)]
    base_anon = max(r["anon"] for r in first_round)
    end_anon = rows[-1]["anon"]
    check(last["steady"] <= cpu_growth * base_cpu,
          f"CPU flat: {last['steady']:.3f} s per 1,000 Events stored in the steady part of the interval from "
          f"{last['t']:.0f} s, {base_cpu:.3f} in the first two ({last['steady'] / base_cpu:.2f}x, at most {cpu_growth}x)")
    check(end_anon <= anon_growth * base_anon + anon_slack,
          f"memory flat: RssAnon {end_anon} kB at the end, at most {base_anon} kB in the first "
          f"{len(first_round)} intervals (one of each fault) ({end_anon / base_anon:.2f}x, at most {anon_growth}x + {anon_slack:.0f} kB)")
    worst = max(r["steady"] for r in measured)
    check(worst <= cpu_budget and max(r["anon"] for r in sampled) <= anon_budget
          and max(r["wake"] for r in sampled) <= wake_budget,
          f"within budgets in every interval: at most {worst:.3f} s CPU per 1,000 Events (budget {cpu_budget}), "
          f"{max(r['anon'] for r in sampled)} kB RssAnon (budget {anon_budget:.0f}), "
          f"{max(r['wake'] for r in sampled):.0f} wake-ups/s (budget {wake_budget:.0f})")
print("\n".join(checks))
PY
cat "$dir/report"
echo "# checked in $((($(now_ms) - t_end) / 1000)) s after the soak"
failures=$((failures + $(grep -c '^not ok - ' "$dir/report")))
echo "# simulator started $sim_starts times; command: tests/bench/soak.sh $seconds $rate $fault_every $idle ($(date -u +%Y-%m-%d), $(git rev-parse --short HEAD 2>/dev/null))"
[ "$failures" = 0 ]
