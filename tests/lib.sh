# tests/lib.sh - what the integration scripts tests/test_*.sh share, so that each piece is
# written (and fixed) once. A script sources it with
#     . "$(dirname "$0")/lib.sh"
# Sourcing only defines functions and variables; it runs nothing. (tests/run runs every
# tests/test_*.sh, a pattern this file's name does not match.)
#
# Functions that start or talk to processes expect the project root as the current
# directory (they run tests/pg_server.sh and loader/k8s-events) and the script's scratch
# directory in $dir (own_server makes it).

# ---------------------------------------------------------------- checks
# Output is the project's TAP-like convention: one "ok - ..." or "not ok - ..." line a check,
# and after a failure its details as "#   ..." comment lines. tests/run counts those lines.

# The number of failed checks. Scripts end with [ "$failures" = 0 ] where their exit status
# is to say whether every check passed.
failures=0
# At most this many lines of a failed check's details are printed; empty: all. A script
# whose details can be whole logs or outputs sets it to keep its output readable.
check_detail_lines=

# ok DESCRIPTION...: report a check that passed.
ok() { echo "ok - $*"; }

# notok DESCRIPTION...: report a check that failed, and count it in $failures.
notok() {
	echo "not ok - $*"
	failures=$((failures + 1))
}

# check DESCRIPTION STATUS [DETAILS]: ok when STATUS (the $? of what was tested) is 0, else
# not ok followed by DETAILS as comment lines, so that a failure shows what was seen.
# The words are expanded left to right and a command substitution sets $?: with one in
# DESCRIPTION, save the status first (rc=$?) and pass $rc; one in DETAILS, after $?, is fine.
check() {
	if [ "$2" = 0 ]; then
		ok "$1"
	else
		notok "$1"
		if [ -n "${3:-}" ]; then
			if [ -n "$check_detail_lines" ]; then
				echo "$3" | head -n "$check_detail_lines" | sed 's/^/#   /'
			else
				echo "$3" | sed 's/^/#   /'
			fi
		fi
	fi
}

# check_cmd DESCRIPTION COMMAND...: run COMMAND; ok when it succeeds. For checks that are one
# command (test, grep, cmp, a python3 heredoc), which then need no separate $? line.
check_cmd() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else notok "$desc"; fi
}

# check_summaries DATABASE WHAT: k8s_events.verify_summaries() finds no difference between the
# summaries and the rows of DATABASE after WHAT (which names the path that wrote them), and
# there is something to compare.
check_summaries() {
	local out rows
	out=$(psql -X -q -At -d "$1" -c "SELECT summary || ' ' || key::text || ' stored ' || coalesce(stored::text, '-')
	          || ' recomputed ' || coalesce(recomputed::text, '-') FROM k8s_events.verify_summaries() LIMIT 5" 2>&1)
	rows=$(psql -X -q -At -d "$1" -c "SELECT count(*) FROM k8s_events.resource_summary" 2>&1)
	test -z "$out" && test "${rows:-0}" -gt 0 2>/dev/null
	check "summaries equal a recomputation from the rows after $2 ($rows objects)" $? "$out"
}

# ---------------------------------------------------------------- the program under test

# need_program: set BIN to the k8s-events program ($K8S_EVENTS, by default the one in
# loader/), building it first when it is missing, so that a script can run on its own
# after a checkout. Not buildable: one not-ok line and exit 1, since nothing else can run.
# Every script runs the program as $BIN (and start_sim as $K8S_EVENTS), so that
# tests/test_sanitizers.sh can run them again with the program built with AddressSanitizer.
need_program() {
	BIN=${K8S_EVENTS:-loader/k8s-events}
	if [ ! -x "$BIN" ]; then
		make -s "$BIN" >/dev/null || {
			echo "not ok - build $BIN"
			exit 1
		}
	fi
}

# ---------------------------------------------------------------- secrets and logs
# No token or key may ever reach a log. Tests make every token with new_secret and
# register every private key with register_key; both go to the registry file
# $K8S_EVENTS_SECRETS (tests/run sets it), and logs are kept in $K8S_EVENTS_LOGS (keep_logs)
# instead of being removed with their scratch directory. Once every suite ran, tests/run
# greps the servers' logs and the kept ones for each registered value and for the prefix
# (tests/check_leaks.sh), so that a token made by hand in this form is caught too.
secret_prefix=k8s-events-test-secret-

# new_secret: print a fresh token (the prefix and 24 random hex digits), registered.
new_secret() {
	local s
	s=$secret_prefix$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	register_secret "$s"
	printf '%s\n' "$s"
}

# register_secret VALUE...: add values to the registry (nothing when tests/run did not set one).
register_secret() {
	[ -n "${K8S_EVENTS_SECRETS:-}" ] && [ $# -gt 0 ] || return 0
	printf '%s\n' "$@" >>"$K8S_EVENTS_SECRETS"
}

# register_key FILE...: register the base64 lines of PEM private keys (a leak of any
# 64-character line of one is found).
register_key() {
	local f
	for f in "$@"; do
		register_secret $(sed -n '/-BEGIN .*PRIVATE KEY-/,/-END .*PRIVATE KEY-/{/^[A-Za-z0-9+\/=]\{40,\}$/p}' "$f")
	done
}

# keep_logs DIR: copy DIR's logs (*.log, *.out, *.err and the PostgreSQL server's log of an
# own_server) to $K8S_EVENTS_LOGS before DIR is removed, for tests/check_leaks.sh.
keep_logs() {
	local to f
	[ -n "${K8S_EVENTS_LOGS:-}" ] && [ -d "$1" ] || return 0
	to=$K8S_EVENTS_LOGS/$(basename "$1")
	mkdir -p "$to"
	for f in "$1"/*.log "$1"/*.out "$1"/*.err "$1"/pg/server.log; do
		[ -f "$f" ] && cp "$f" "$to/$(basename "$(dirname "$f")")-$(basename "$f")"
	done
	return 0
}

# cost_checks WHAT: true when the CPU, wake-up and memory budgets of WHAT are to be checked.
# Under a sanitizer (K8S_EVENTS_UNDER_SANITIZER, set by tests/test_sanitizers.sh) the
# program's CPU and memory are mostly the sanitizer's (shadow memory, quarantine, checks):
# prints a skip line saying so and is false. The budgets are checked in the normal run.
cost_checks() {
	if [ -n "${K8S_EVENTS_UNDER_SANITIZER:-}" ]; then
		echo "skip - $* (under AddressSanitizer the costs are the sanitizer's; checked in the normal run)"
		return 1
	fi
}

# ---------------------------------------------------------------- a server of the script's own

# Background processes (simulators, watchers) that own_server_cleanup ends at exit. A script
# that starts one itself (not through start_sim) adds its pid here.
bg_pids=()

# own_server NAME PORT: make the scratch directory $dir (/tmp/k8s_events_NAME.XXXXXX) and
# start a PostgreSQL server of the script's own in $dir/pg on PORT through tests/pg_server.sh
# (with the library preloaded unless K8S_EVENTS_PRELOAD='' is exported first). A script that
# restarts the server, changes its settings or stops its workers then disturbs no other
# test. Exports PGHOST, PGPORT and PGUSER for psql, and has own_server_cleanup run at exit.
# K8S_EVENTS_PORT_SHIFT moves PORT, so that a script can run again beside itself
# (tests/test_sanitizers.sh runs scripts under ASan while tests/run runs them as built).
own_server() {
	dir=$(mktemp -d "/tmp/k8s_events_$1.XXXXXX")
	# The server runs as the postgres user, which must reach $dir/pg and the files that
	# tests hand it (token and CA files).
	chmod 755 "$dir"
	export K8S_EVENTS_PGDIR=$dir/pg K8S_EVENTS_PGPORT=$(($2 + ${K8S_EVENTS_PORT_SHIFT:-0}))
	mkdir -p "$dir/pg"
	eval "$(tests/pg_server.sh start "$dir/pg")"
	trap own_server_cleanup EXIT
}

# own_server_cleanup: end the background processes in bg_pids (and wait for them, so that
# none is still writing into $dir or talking to the server), stop the own server, remove $dir.
own_server_cleanup() {
	local p
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null; done
	tests/pg_server.sh stop "$dir/pg"
	keep_logs "$dir"
	rm -rf "$dir"
}

# login_role NAME GRANTED: a login role NAME (cluster-wide, made once) granted role GRANTED,
# such as the reader role k8s-events serve wants.
login_role() {
	psql -X -q -d postgres >/dev/null <<SQL
SET client_min_messages = warning;
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN
        CREATE ROLE $1 LOGIN;
    END IF;
END
\$\$;
GRANT $2 TO $1;
SQL
}

# sql QUERY: run one query in database postgres, printing the bare values (one row a line,
# columns separated by |), for comparing with expected text.
sql() { psql -X -q -At -d postgres -c "$1"; }

# wait_for SECONDS QUERY: poll QUERY (every 0.1 s) until it returns t; false when SECONDS
# pass first. Background workers act asynchronously, so tests wait for a state, not a time.
wait_for() {
	local deadline=$((SECONDS + $1))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(sql "$2" 2>/dev/null)" = t ] && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- simulated API servers

# start_sim NAME ARGS...: start `k8s-events simulate ARGS` in the background on a free port
# (its output in $dir/NAME.log), wait for the port file it writes once it listens (up to
# 30 s: the warm-up of --initial-events comes first; less if it exits), and set ${NAME}_port
# and ${NAME}_pid.
start_sim() {
	local name=$1 pid
	shift
	"${K8S_EVENTS:-loader/k8s-events}" simulate --port 0 --port-file "$dir/$name.port" "$@" >"$dir/$name.log" 2>&1 &
	pid=$!
	bg_pids+=($pid)
	eval "${name}_pid=$pid"
	for _ in $(seq 600); do
		[ -s "$dir/$name.port" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	eval "${name}_port=$(cat "$dir/$name.port")"
}

# sim_url PORT: the base URL of the simulator on PORT: https for the ports listed in
# $dir/https (simulators started with --tls-cert), http for the others.
sim_url() {
	if grep -qx "$1" "$dir/https" 2>/dev/null; then
		echo "https://127.0.0.1:$1"
	else
		echo "http://127.0.0.1:$1"
	fi
}

# The simulator's admin API. curl -k: the test certificates are self-signed.
# sim_stat PORT KEY: one value of its /simulator/stats (resource_version, list_requests, ...).
sim_stat() {
	curl -sk "$(sim_url "$1")/simulator/stats" |
		python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"
}
# sim_fault PORT QUERY: set fault switches, e.g. sim_fault "$a_port" "gone_after=20".
sim_fault() { curl -sk -XPOST "$(sim_url "$1")/simulator/faults?$2" >/dev/null; }
# sim_advance PORT SECONDS: move a frozen (--speed 0) simulator's clock on, with every write
# of that time.
sim_advance() { curl -sk -XPOST "$(sim_url "$1")/simulator/advance?seconds=$2" >/dev/null; }

# caught_up CLUSTER PORT: wait (up to 30 s) until CLUSTER's committed checkpoint has reached
# the resourceVersion the simulator on PORT has now: everything it served so far is stored.
caught_up() {
	local rv
	rv=$(sim_stat "$2" resource_version)
	wait_for 30 "SELECT coalesce((SELECT resource_version::bigint >= $rv FROM k8s_events_internal.watch_checkpoints WHERE cluster = '$1'), false)"
}

# exact CLUSTER PORT BASEFILE SINCE_RV [NAMESPACE]: true when CLUSTER's rows are exactly the
# "uid resourceVersion" lines of BASEFILE plus every observation the simulator on PORT made
# after SINCE_RV (in NAMESPACE only, if given), each once: nothing lost, doubled or invented.
# Prints the counts, for the check's description.
exact() {
	local cluster=$1 port=$2 base=$3 since=$4 ns=${5:-}
	curl -sk "$(sim_url "$port")/simulator/observations?since_rv=$since" >"$dir/obs.ndjson"
	sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = '$cluster'" >"$dir/db.txt"
	python3 - "$dir/obs.ndjson" "$dir/db.txt" "$base" "$ns" <<'PY'
import json, sys
obs_file, db_file, base_file, ns = sys.argv[1:5]
obs = set()
for line in open(obs_file):
    o = json.loads(line)
    if not ns or o["namespace"] == ns:
        obs.add(o["uid"] + " " + o["resourceVersion"])
db = [l.strip() for l in open(db_file) if l.strip()]
base = set(l.strip() for l in open(base_file) if l.strip())
want = base | obs
dbset = set(db)
missing = want - dbset
extra = dbset - want
print(f"rows={len(db)} distinct={len(dbset)} expected={len(want)} (base {len(base)} + served {len(obs)}) missing={len(missing)} extra={len(extra)}")
sys.exit(0 if len(db) == len(dbset) and not missing and not extra else 1)
PY
}

# exact_served CLUSTER PORT...: true when CLUSTER's rows are exactly every observation the
# simulators on the PORTs ever made, each once (for a cluster that followed them all from
# their start). Prints the counts, for the check's description.
exact_served() {
	local cluster=$1 port
	shift
	: >"$dir/obs.ndjson"
	for port in "$@"; do
		curl -sk "$(sim_url "$port")/simulator/observations?since_rv=0" >>"$dir/obs.ndjson"
	done
	sql "SELECT uid || ' ' || resource_version FROM k8s_events.events WHERE cluster = '$cluster'" >"$dir/db.txt"
	python3 - "$dir/obs.ndjson" "$dir/db.txt" <<'PY'
import json, sys
obs = {o["uid"] + " " + o["resourceVersion"] for o in map(json.loads, open(sys.argv[1]))}
db = [l.strip() for l in open(sys.argv[2]) if l.strip()]
print(f"rows={len(db)} served={len(obs)} missing={len(obs - set(db))} extra={len(set(db) - obs)}")
sys.exit(0 if len(db) == len(set(db)) and set(db) == obs else 1)
PY
}
