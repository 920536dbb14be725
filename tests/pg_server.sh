#!/usr/bin/env bash
# tests/pg_server.sh start|stop|status [DIR]
#
# A throwaway PostgreSQL 15 cluster for tests and the demo: k8s_events preloaded
# (K8S_EVENTS_PRELOAD='' starts one without it; K8S_EVENTS_DATABASE names the workers'
# database, default postgres),
# listening only on a unix socket inside DIR (default: .run/pg in the project).
# PostgreSQL refuses to run as root, so when started by root the cluster belongs to
# the 'postgres' user. Prints the environment to connect with (PGHOST, PGPORT, PGUSER).
# K8S_EVENTS_PG_EXEC names another executable for pg_ctl to start in place of postgres (a
# script that runs it under valgrind: tests/test_valgrind.sh), K8S_EVENTS_PG_START_TIMEOUT
# how long pg_ctl waits for it (default 60 s).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-status}
dir=${2:-${K8S_EVENTS_PGDIR:-$here/.run/pg}}
port=${K8S_EVENTS_PGPORT:-54329}
bindir=${PG_BINDIR:-$(/usr/lib/postgresql/15/bin/pg_config --bindir)}

as_owner() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
	mkdir -p "$dir"
	if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
		cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
shared_preload_libraries = '${K8S_EVENTS_PRELOAD-k8s_events}'
fsync = off
synchronous_commit = off
full_page_writes = off
timezone = 'UTC'
log_min_messages = warning
lc_messages = 'C'
max_worker_processes = 32
CONF
		# Only a preloaded library knows its workers' database setting.
		if [ -n "${K8S_EVENTS_PRELOAD-k8s_events}" ]; then
			echo "k8s_events.database = '${K8S_EVENTS_DATABASE:-postgres}'" >>"$dir/data/postgresql.conf"
		fi
	fi
	if ! as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "${K8S_EVENTS_PG_START_TIMEOUT:-60}" \
			${K8S_EVENTS_PG_EXEC:+-p "$K8S_EVENTS_PG_EXEC"} start >/dev/null
	fi
	echo "export PGHOST=$dir PGPORT=$port PGUSER=postgres"
	;;
stop)
	if [ -f "$dir/data/PG_VERSION" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t "${K8S_EVENTS_PG_START_TIMEOUT:-60}" stop >/dev/null 2>&1 || true
	fi
	;;
status)
	as_owner "$bindir/pg_ctl" -D "$dir/data" status
	;;
*)
	echo "usage: $0 start|stop|status [DIR]" >&2
	exit 2
	;;
esac
