#!/usr/bin/env bash
# tests/test_bi_docs.sh - every SQL block of docs/bi-tools.md runs: the first (the reader
# login) as the owner, the questions as that login, against a simulated week; each question
# returns rows.
# Prints "ok - ..." / "not ok - ..." lines.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
need_program
tmp=$(mktemp -d /tmp/test_bi_docs.XXXXXX)
db=k8s_events_bi_docs
cleanup() {
	psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
		-c "DROP ROLE IF EXISTS bi_reader" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
cleanup
mkdir -p "$tmp"
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null
psql -X -q -d "$db" -c "CREATE EXTENSION k8s_events" >/dev/null
"$BIN" generate --seed 3 --start now-7d --hours 168 --nodes 8 >"$tmp/week.ndjson"
"$BIN" load -q -d "$db" --cluster demo "$tmp/week.ndjson" >/dev/null 2>&1

# The ```sql blocks, one file each.
python3 - "$tmp" <<'PY'
import re, sys, pathlib
text = pathlib.Path("docs/bi-tools.md").read_text()
blocks = re.findall(r"^```sql\n(.*?)^```", text, re.S | re.M)
for i, b in enumerate(blocks):
    pathlib.Path(sys.argv[1], f"block{i}.sql").write_text(b)
print(len(blocks))
PY
n=$(ls "$tmp"/block*.sql 2>/dev/null | wc -l)
check "docs/bi-tools.md has its SQL blocks (a login and five questions: $n)" "$([ "$n" -ge 6 ]; echo $?)"

out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$tmp/block0.sql" 2>&1)
check "the reader login of docs/bi-tools.md is created" $? "$out"
for ((i = 1; i < n; i++)); do
	out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "dbname=$db user=bi_reader" -f "$tmp/block$i.sql" 2>&1)
	rc=$?
	rows=$(echo -n "$out" | grep -c .)
	test "$rc" = 0 && test "$rows" -gt 0
	check "question $i of docs/bi-tools.md runs as bi_reader and answers ($rows rows)" $? "$(head -c 600 "$tmp/block$i.sql")
$out"
done
# The login may read, not write.
out=$(psql -X -q -At -d "dbname=$db user=bi_reader" -c "DELETE FROM k8s_events.events" 2>&1)
echo "$out" | grep -q 'permission denied'
check "bi_reader cannot delete events" $? "$out"
[ "$failures" = 0 ]
