# tests/cost.sh - measuring what a process costs, for the scripts that put a budget on it
# (tests/test_watcher_cost.sh, tests/test_faults_*.sh). Sourced after tests/lib.sh; defines
# functions only. Budgets are of resources, not of wall-clock time: on a shared machine a
# process can be late, but it cannot use CPU it does not use.
#
# CPU: utime + stime of /proc/PID/stat (all threads, in clock ticks). Wake-ups: voluntary +
# nonvoluntary context switches of /proc/PID/task/*/status (a thread that ends within a
# window takes its count with it, so a process that starts threads shows a lower bound).

hz=$(getconf CLK_TCK)
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# ticks PID: CPU time used so far, user + system, all threads, in clock ticks. The fields
# are counted after the ")" that ends the command name, which may hold spaces.
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# switches PID: context switches so far of its threads alive now: voluntary + nonvoluntary,
# and voluntary alone (nonvoluntary ones are preemptions, which a busy machine adds).
switches() {
	cat /proc/"$1"/task/*/status 2>/dev/null | awk '
		/^voluntary_ctxt_switches:/ { n += $2; v += $2 }
		/^nonvoluntary_ctxt_switches:/ { n += $2 }
		END { print n + 0 "/" v + 0 }'
}
# mem PID FIELD: a field of /proc/PID/status in kB (VmRSS, RssAnon).
mem() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
# begin NAME PID: start a window for PID under NAME.
begin() { eval "m_${1}_pid=$2 m_${1}_t=$(ticks "$2") m_${1}_c=$(switches "$2") m_${1}_ms=$(now_ms)"; }
# measure NAME: since begin NAME, set cpu (seconds), pct (of one core), wps (wake-ups a
# second: context switches), vps (of them voluntary) and secs (the window).
measure() {
	local pid t c ms
	eval "pid=\$m_${1}_pid t=\$m_${1}_t c=\$m_${1}_c ms=\$m_${1}_ms"
	read -r cpu pct wps vps secs < <(awk -v t=$(($(ticks "$pid") - t)) -v c0="$c" -v c1="$(switches "$pid")" \
		-v ms=$(($(now_ms) - ms)) -v hz="$hz" 'BEGIN {
		split(c0, a, "/"); split(c1, b, "/"); s = ms / 1000
		printf "%.2f %.2f %.1f %.1f %.1f\n", t / hz, 100 * t / hz / s, (b[1] - a[1]) / s, (b[2] - a[2]) / s, s }')
}
# below A B: true when the number A is less than B
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
