#!/usr/bin/env bash
# tests/test_docs.sh - checks the documentation (README.md, ARCHITECTURE.md, docs/*.md) without
# a server: every relative link and #anchor leads somewhere, every command of the README's shell
# blocks exists (k8s-events commands against the table in loader/main.c), the docs link to each
# other, and the README stays a short read. The checks are tests/check_docs.py; each is first
# run on a small broken file, to show it can fail.
# Prints "ok - ..." / "not ok - ..." lines; exits non-zero if any check failed.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
TMP=$(mktemp -d /tmp/test_docs.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
CHECK="python3 tests/check_docs.py"

# ---------------------------------------------------------------- the checks can fail
mkdir -p "$TMP/sub"
cat >"$TMP/a.md" <<'EOF'
# Title

## Watching from outside the server: `k8s-events watch`

## Usage

## Usage

## `event_time(event jsonb) → timestamptz`

[fine](sub/b.md#real-heading), [fine too](#watching-from-outside-the-server-k8s-events-watch),
[the second Usage](#usage-1), [a directory](sub/), [external](https://example.com/nowhere.md),
[mail](mailto:someone@example.com), [a function](#event_timeevent-jsonb--timestamptz),
[a link over
two lines](#title), `[in code](missing-in-code.md)`.

```
[in a code block](missing-in-block.md)
```

[BROKEN-LINK](sub/nonexistent.md) and [BROKEN-ANCHOR](sub/b.md#no-such-heading),
[BROKEN-SELF](#usage-2).

[ref]: sub/missing-ref.md
EOF
printf '# Real heading\n' >"$TMP/sub/b.md"
out=$($CHECK links --root "$TMP" "$TMP/a.md" 2>&1)
rc=$?
test "$rc" = 1 &&
	grep -q 'sub/nonexistent.md (no such file' <<<"$out" &&
	grep -q 'sub/b.md#no-such-heading (no heading' <<<"$out"
check "the link check finds a broken link and a broken anchor" $? "$out"
test "$(grep -c . <<<"$out")" = 4 &&
	grep -q '#usage-2 (no heading' <<<"$out" &&
	grep -q 'sub/missing-ref.md (no such file' <<<"$out"
check "the link check follows GitHub's anchors (punctuation, code, duplicates) and skips code and external links" $? "$out"

cat >"$TMP/cmds.md" <<'EOF'
```sh
scripts/demo   # exists
FOO=1 sudo -E make -s    # make, after an assignment and sudo
k8s-events load --cluster x FILE | psql -X
loader/k8s-events generate --hours 1 \
    not-a-command-but-a-continuation
cat <<EOT
not-a-command-but-a-heredoc
EOT
# not-a-command: a comment
no-such-program-here --flag
k8s-events no-such-command
scripts/no-such-script
```

```sql
no_such_sql_function();
```

```
$ k8s-events watch --cluster x
output-not-a-command
```
EOF
out=$($CHECK commands "$TMP/cmds.md" 2>&1)
rc=$?
test "$rc" = 1 && test "$(grep -c . <<<"$out")" = 3 &&
	grep -q 'no-such-program-here: not a file' <<<"$out" &&
	grep -q 'has no command "no-such-command"' <<<"$out" &&
	grep -q 'scripts/no-such-script: no such file' <<<"$out"
check "the command check finds a missing program, a missing script and an unknown k8s-events command" $? "$out"

# ---------------------------------------------------------------- the documentation
docs=(README.md)
[ -e ARCHITECTURE.md ] && docs+=(ARCHITECTURE.md)
docs+=(docs/*.md)
out=$($CHECK links --pending ARCHITECTURE.md "${docs[@]}" 2>&1)
check "every relative link and #anchor in ${docs[*]} leads to a file and heading" $? "$out"
grep '^note: ' <<<"$out" | sed 's/^/# /'

out=$($CHECK commands README.md 2>&1)
check "every command in README.md's shell blocks exists (k8s-events commands per loader/main.c)" $? "$out"
grep '^note: ' <<<"$out" | sed 's/^/# /'

out=$($CHECK nav README.md docs/*.md 2>&1)
check "README.md links to every docs/*.md, and each starts with links to the README and the others" $? "$out"

lines=$(grep -c '' README.md)
test "$lines" -lt 250
check "README.md is under 250 lines ($lines)" $?

[ "$failures" = 0 ]
