#!/usr/bin/env bash
# The soak of tests/bench/soak.sh, short: the background worker following the simulator at 500
# Events a second for 285 s, a fault every 45 s (410 Gone, a dropped connection, a stalled
# watch, a storm of 503s, the simulator killed and started again, 410 again), then exact counts
# against what was served, verify_summaries(), and its CPU per 1,000 Events and private memory
# flat from the first intervals to the last, within budgets. About 5.3 minutes in all.
# Own PostgreSQL server (K8S_EVENTS_SOAK_PGPORT, default 54407).
cd "$(dirname "$0")/.." && exec tests/bench/soak.sh 285 500 45 0
