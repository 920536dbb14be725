#!/usr/bin/env bash
# tests/test_simulate.sh - checks `k8s-events simulate`, the fake kube-apiserver: paginated lists,
# namespace scope, watches (changes after the list, bookmarks, TTL deletions, 410s), every
# fault switch, bearer tokens, rate limiting, TLS, frames split at any byte, a 1 MB Event,
# and that /simulator/stats and /simulator/observations agree exactly with what was served.
# Prints "ok - ..." / "not ok - ..." lines; exits non-zero if any check failed.
#
# Each simulator listens on a free port (--port 0).  K8S_EVENTS_SIM_PORT=N makes them use
# N, N+1, ... instead (for machines where only a range of ports may be used).
set -u
cd "$(dirname "$0")/.."
BIN=${K8S_EVENTS:-loader/k8s-events}
if [ ! -x "$BIN" ]; then
	make -s loader/k8s-events >/dev/null || { echo "not ok - build loader/k8s-events"; exit 1; }
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
TMP=$(mktemp -d /tmp/test_simulate.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
FAILED=0
NEXT_PORT=${K8S_EVENTS_SIM_PORT:-0}
# Frozen simulators (--speed 0) start at a fixed instant, so their state is the same every run.
FROZEN=2024-05-01T08:00:30Z

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; FAILED=$((FAILED + 1)); }
check() { # check "description" command...
	local desc=$1; shift
	if "$@"; then ok "$desc"; else notok "$desc"; fi
}

# start_sim NAME [options...]: starts a simulator, waits for its "listening on" line and sets
# URL (its base URL) and SIM_PID.
start_sim() {
	local name=$1; shift
	local port=0
	if [ "$NEXT_PORT" != 0 ]; then port=$NEXT_PORT; NEXT_PORT=$((NEXT_PORT + 1)); fi
	"$BIN" simulate --port "$port" --port-file "$TMP/$name.port" "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" &
	SIM_PID=$!
	PIDS+=("$SIM_PID")
	for _ in $(seq 1 200); do
		if grep -q '^listening on ' "$TMP/$name.out" 2>/dev/null; then
			URL=$(sed -n 's/^listening on //p' "$TMP/$name.out")
			return 0
		fi
		kill -0 "$SIM_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "# simulator $name did not start: $(cat "$TMP/$name.err")"
	URL=http://127.0.0.1:1
	return 1
}

stop_sim() { # stop_sim PID: SIGTERM, then true if it exited with status 0
	kill -TERM "$1" 2>/dev/null
	wait "$1"
}

cat >"$TMP/h.py" <<'PYEOF'
import json, os, socket, ssl, subprocess, sys, time, urllib.error, urllib.request

CA = os.environ.get("SIM_CA")

def get(url, token=None, method="GET"):
    """(status, headers, body bytes) of one request."""
    req = urllib.request.Request(url, method=method)
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    ctx = ssl.create_default_context(cafile=CA) if url.startswith("https") else None
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()

def getj(url, **kw):
    st, _, body = get(url, **kw)
    assert st == 200, (url, st, body[:300])
    return json.loads(body)

def fail(msg):
    print("# " + msg)
    sys.exit(1)

def paginate(base, path, limit):
    """Follows a continue chain; checks remainingItemCount and the pinned resourceVersion."""
    items, pages, token, rv = [], 0, None, None
    total = None
    while True:
        url = f"{base}{path}?limit={limit}" + (f"&continue={token}" if token else "")
        d = getj(url)
        pages += 1
        md = d["metadata"]
        if rv is None:
            rv = md["resourceVersion"]
        elif md["resourceVersion"] != rv:
            fail(f"page {pages} has resourceVersion {md['resourceVersion']}, first had {rv}")
        if len(d["items"]) > limit:
            fail(f"page {pages} has {len(d['items'])} items, limit {limit}")
        items += d["items"]
        token = md.get("continue")
        if token:
            if total is None:
                total = len(d["items"]) + md["remainingItemCount"]
            if md["remainingItemCount"] != total - len(items):
                fail(f"page {pages}: remainingItemCount {md['remainingItemCount']}, "
                     f"expected {total - len(items)}")
        else:
            if "remainingItemCount" in md:
                fail("last page has remainingItemCount")
            break
    return items, pages, rv, total

def read_frames(path):
    """Watch output: (frames, broken lines)."""
    frames, broken = [], []
    with open(path, "rb") as f:
        for line in f.read().split(b"\n"):
            if not line:
                continue
            try:
                frames.append(json.loads(line.decode("utf-8")))
            except (ValueError, UnicodeDecodeError):
                broken.append(line)
    return frames, broken

def observations(base, since):
    st, _, body = get(f"{base}/simulator/observations?since_rv={since}")
    assert st == 200, st
    return [json.loads(l) for l in body.decode().splitlines()]

def cmd_pagination(base, expect, limit):
    items, pages, rv, total = paginate(base, "/api/v1/events", int(limit))
    uids = [i["metadata"]["uid"] for i in items]
    if len(items) != int(expect) or len(set(uids)) != len(uids):
        fail(f"{len(items)} items ({len(set(uids))} distinct), expected {expect}")
    if pages != -(-int(expect) // int(limit)):
        fail(f"{pages} pages")
    if total != int(expect):
        fail(f"first remainingItemCount + page = {total}")
    keys = [(i["metadata"]["namespace"] + "/" + i["metadata"]["name"]).encode() for i in items]
    if keys != sorted(keys):
        fail("items are not in key order")
    if any("kind" in i or "apiVersion" in i for i in items):
        fail("list items carry kind/apiVersion (the apiserver omits them)")
    full = getj(f"{base}/api/v1/events")
    if full["metadata"]["resourceVersion"] != rv or "continue" in full["metadata"]:
        fail("unpaginated list differs in resourceVersion or has continue")
    a = {(i["metadata"]["uid"], i["metadata"]["resourceVersion"]) for i in items}
    b = {(i["metadata"]["uid"], i["metadata"]["resourceVersion"]) for i in full["items"]}
    if a != b:
        fail("paginated and unpaginated lists differ")
    obs = {(o["uid"], o["resourceVersion"]) for o in observations(base, 0)}
    if obs != a:
        fail(f"observation log ({len(obs)}) differs from the list ({len(a)})")
    print(rv)

def cmd_namespaces(base):
    full = getj(f"{base}/api/v1/events")["items"]
    by_ns = {}
    for i in full:
        by_ns.setdefault(i["metadata"]["namespace"], []).append(i["metadata"]["uid"])
    if len(by_ns) < 3:
        fail(f"only {len(by_ns)} namespaces")
    for ns, uids in by_ns.items():
        d = getj(f"{base}/api/v1/namespaces/{ns}/events")
        got = [i["metadata"]["uid"] for i in d["items"]]
        if sorted(got) != sorted(uids):
            fail(f"namespace {ns}: {len(got)} items, {len(uids)} in the full list")
        items, _, _, _ = paginate(base, f"/api/v1/namespaces/{ns}/events", 37)
        if sorted(i["metadata"]["uid"] for i in items) != sorted(uids):
            fail(f"namespace {ns}: paginated list differs")
    d = getj(f"{base}/api/v1/namespaces/no-such-ns/events")
    if d["items"] != [] or d["kind"] != "EventList":
        fail("unknown namespace should list nothing")

def cmd_status(base, path, code, reason, method="GET"):
    st, hdrs, body = get(base + path, method=method)
    d = json.loads(body)
    if st != int(code) or d.get("kind") != "Status" or d.get("apiVersion") != "v1" \
            or d.get("code") != int(code) or d.get("reason", "") != reason \
            or d.get("status") != "Failure" or d.get("metadata") != {}:
        fail(f"{path}: HTTP {st} {body[:300]!r}")
    if int(code) in (429, 503) and hdrs.get("Retry-After") != "1":
        fail(f"{path}: no Retry-After header")

def cmd_get_one(base):
    it = getj(f"{base}/api/v1/events?limit=1")["items"][0]["metadata"]
    d = getj(f"{base}/api/v1/namespaces/{it['namespace']}/events/{it['name']}")
    if d["metadata"]["uid"] != it["uid"] or d["kind"] != "Event" or d["apiVersion"] != "v1":
        fail("GET of one Event returned something else")
    st, _, body = get(f"{base}/api/v1/namespaces/{it['namespace']}/events/nope")
    d = json.loads(body)
    if st != 404 or d["reason"] != "NotFound" or d["message"] != 'events "nope" not found' \
            or d["details"] != {"name": "nope", "kind": "events"}:
        fail(f"missing Event: {st} {body!r}")

def cmd_continue_token(base, limit):
    d = getj(f"{base}/api/v1/events?limit={limit}")
    print(d["metadata"]["continue"])

def cmd_frames(path, since, base, mode):
    """Checks a finished watch against the observation log."""
    frames, broken = read_frames(path)
    since = int(since)
    if broken:
        fail(f"{len(broken)} lines are not JSON")
    kinds = {}
    last = since
    changes = []
    for f in frames:
        kinds[f["type"]] = kinds.get(f["type"], 0) + 1
        rv = int(f["object"]["metadata"]["resourceVersion"])
        if f["type"] in ("ADDED", "MODIFIED", "DELETED"):
            if rv <= last:
                fail(f"resourceVersion {rv} after {last}")
            last = rv
            o = f["object"]
            if o["kind"] != "Event" or o["apiVersion"] != "v1":
                fail("frame object is not a core/v1 Event")
            changes.append((f["type"], o["metadata"]["uid"], str(rv), o["metadata"]["namespace"]))
        elif f["type"] == "BOOKMARK":
            if rv < last or set(f["object"]) != {"kind", "apiVersion", "metadata"} \
                    or set(f["object"]["metadata"]) != {"resourceVersion"}:
                fail(f"bad bookmark {f}")
            last = rv
        else:
            fail(f"unexpected frame {f}")
    # every write after `since` up to the last resourceVersion seen, and nothing else
    obs = [o for o in observations(base, since) if int(o["resourceVersion"]) <= last]
    served = [(c[1], c[2], c[3]) for c in changes if c[0] != "DELETED"]
    want = [(o["uid"], o["resourceVersion"], o["namespace"]) for o in obs]
    if mode != "ns" and served != want:
        fail(f"watch served {len(served)} writes, the observation log has {len(want)}")
    print(json.dumps(kinds, sort_keys=True), last)

def cmd_split(host, port, path):
    """Reads a watch over a raw socket: chunk sizes, frames split inside UTF-8, a 1 MB event."""
    s = socket.create_connection((host, int(port)))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    raw = b""
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        raw += b
    head, _, body = raw.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" not in head.lower():
        fail("watch is not chunked")
    chunks, pos = [], 0
    while True:
        eol = body.index(b"\r\n", pos)
        n = int(body[pos:eol], 16)
        if n == 0:
            break
        chunks.append(body[eol + 2:eol + 2 + n])
        pos = eol + 2 + n + 2
    data = b"".join(chunks)
    if max(len(c) for c in chunks) > 7:
        fail(f"a chunk of {max(len(c) for c in chunks)} bytes with --max-frame-split")
    inside = 0
    off = 0
    for c in chunks[:-1]:
        off += len(c)
        if 0x80 <= data[off] < 0xC0:     # the next chunk starts with a continuation byte
            inside += 1
    lines = data.split(b"\n")
    frames = [json.loads(l.decode("utf-8")) for l in lines if l]
    big = [f for f in frames if f["object"].get("reason") == "LargeMessage"]
    nonascii = sum(1 for f in frames if any(ord(ch) > 127 for ch in f["object"].get("message", "")))
    if not big:
        fail("no large Event")
    msg = big[0]["object"]["message"].encode("utf-8")
    print(len(chunks), inside, len(frames), len(msg), nonascii)

def cmd_drop(path):
    data = open(path, "rb").read()
    lines = data.split(b"\n")
    whole = [json.loads(l) for l in lines[:-1]]
    tail = lines[-1]
    try:
        json.loads(tail)
        fail("the cut frame parses")
    except ValueError:
        pass
    print(len(whole), len(tail) > 0)

if __name__ == "__main__":
    globals()["cmd_" + sys.argv[1]](*sys.argv[2:])
PYEOF
H="python3 $TMP/h.py"
jget() { # jget URL KEY: one top-level value of a JSON document
	curl -s "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$2"
}
code_of() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# ---------------------------------------------------------------- usage
"$BIN" simulate --help >"$TMP/help" 2>&1
check "--help exits 0 and documents the fault switches" grep -q -- "--gone-after" "$TMP/help"
"$BIN" simulate --no-such-option >/dev/null 2>"$TMP/e1"; rc=$?
check "an unknown option is a usage error (exit 2)" test "$rc" = 2 -a -s "$TMP/e1"
"$BIN" simulate --tls-cert x >/dev/null 2>"$TMP/e2"; rc=$?
check "--tls-cert without --tls-key is a usage error" grep -q "go together" "$TMP/e2"
"$BIN" simulate --fail-count 2 >/dev/null 2>"$TMP/e3"; rc=$?
check "--fail-count without --fail-status is a usage error" test "$rc" = 2
"$BIN" simulate --speed -1 >/dev/null 2>"$TMP/e4"; rc=$?
check "a negative --speed is refused" grep -q "speed must be a number" "$TMP/e4"
"$BIN" simulate --tls-cert /nonexistent --tls-key /nonexistent >/dev/null 2>"$TMP/e5"; rc=$?
check "a missing certificate file fails with its name" grep -q '/nonexistent' "$TMP/e5"

# ---------------------------------------------------------------- A: a frozen cluster, exact counts
start_sim a --speed 0 --initial-events 2500 --seed 7 --start "$FROZEN"
A=$URL
A_PID=$SIM_PID
curl -s "$A/api/v1/events" >"$TMP/alist.json"
check "port file holds the port that was printed" test "http://127.0.0.1:$(cat "$TMP/a.port")" = "$A"
check "2,500 initial events are alive" test "$(jget "$A/simulator/stats" events_alive)" = 2500
check "the observation log starts with the 2,500" test "$(jget "$A/simulator/stats" observations)" = 2500
if LIST_RV=$($H pagination "$A" 2500 500); then
	ok "limit=500: 5 pages, every event once, remainingItemCount exact, one pinned resourceVersion, key order, matches the observation log"
else notok "paginated list of 2,500"; LIST_RV=0; fi
check "lists scoped to each namespace (whole and paginated) hold that namespace's events" $H namespaces "$A"
check "GET of one Event and a 404 Status for a missing one" $H get_one "$A"
check "unknown path: 404 Status NotFound" $H status "$A" /api/v1/pods 404 NotFound
check "unknown path outside /api: 404" $H status "$A" /apis/foo 404 NotFound
check "POST on events: 405 MethodNotAllowed" $H status "$A" /api/v1/events 405 MethodNotAllowed POST
check "limit=abc: 400 BadRequest" $H status "$A" "/api/v1/events?limit=abc" 400 BadRequest
check "a garbage continue token: 400 BadRequest" $H status "$A" "/api/v1/events?limit=5&continue=garbage" 400 BadRequest
check "watch=maybe: 400 BadRequest" $H status "$A" "/api/v1/events?watch=maybe" 400 BadRequest
check "a resourceVersion above the current one: 504 Timeout" $H status "$A" "/api/v1/events?resourceVersion=999999999999" 504 Timeout

TOKEN=$($H continue_token "$A" 100)
curl -s -X POST "$A/simulator/faults?expire_continue=true" >/dev/null
check "expire_continue (runtime): a continue token gets 410 Status Expired" \
	$H status "$A" "/api/v1/events?limit=100&continue=$TOKEN" 410 Expired
curl -s -X POST "$A/simulator/faults?expire_continue=false" >/dev/null
check "the same token works again once the fault is off" \
	test "$(code_of "$A/api/v1/events?limit=100&continue=$TOKEN")" = 200
check "stats count the expired continue" test "$(jget "$A/simulator/stats" continues_expired)" = 1

curl -s -X POST "$A/simulator/faults?page_size=100" >/dev/null
PAGE=$(curl -s "$A/api/v1/events?limit=500" | python3 -c "import json,sys; d=json.load(sys.stdin); print(len(d['items']), d['metadata']['remainingItemCount'])")
check "page_size=100 caps limit=500 (got $PAGE)" test "$PAGE" = "100 2400"
curl -s -X POST "$A/simulator/faults?page_size=0" >/dev/null

curl -s -X POST "$A/simulator/faults?fail_status=500&fail_count=2" >/dev/null
check "fail_status=500 fail_count=2: first request 500 InternalError" $H status "$A" /api/v1/events 500 InternalError
check "... second request 500" test "$(code_of "$A/api/v1/events?limit=1")" = 500
check "... third request 200" test "$(code_of "$A/api/v1/events?limit=1")" = 200
curl -s -X POST "$A/simulator/faults?fail_status=503&fail_count=1" >/dev/null
check "fail_status=503: ServiceUnavailable with Retry-After" $H status "$A" /api/v1/events 503 ServiceUnavailable
check "an unknown fault name is refused" test "$(code_of -X POST "$A/simulator/faults?gone_afterr=1")" = 400
check "a bad fault value is refused" test "$(code_of -X POST "$A/simulator/faults?gone_after=-1")" = 400

curl -s -X POST "$A/simulator/faults?rate_limit=2" >/dev/null
for i in $(seq 1 8); do code_of "$A/api/v1/events?limit=1"; echo; done >"$TMP/rl"
check "rate_limit=2: a burst of 8 requests meets 429" grep -q 429 "$TMP/rl"
check "... and the first requests pass" test "$(head -1 "$TMP/rl")" = 200
check "429 is a TooManyRequests Status with Retry-After" $H status "$A" /api/v1/events 429 TooManyRequests
curl -s -X POST "$A/simulator/faults?rate_limit=0" >/dev/null
sleep 0.1
check "rate_limit=0 lifts the limit" test "$(code_of "$A/api/v1/events?limit=1")" = 200

# A watch from "0" starts with the current state as ADDED, like the apiserver.
ALIVE=$(jget "$A/simulator/stats" events_alive)
curl -sN "$A/api/v1/events?watch=true&timeoutSeconds=1" >"$TMP/w0"
check "watch from resourceVersion 0: the $ALIVE alive events as ADDED, then the stream ends at timeoutSeconds" \
	test "$(grep -c '"type":"ADDED"' "$TMP/w0")" = "$ALIVE" -a "$(wc -l <"$TMP/w0")" = "$ALIVE"

# Time moves only when asked (speed 0): advance 30 minutes while a watch runs.
curl -sN "$A/api/v1/events?watch=1&resourceVersion=$LIST_RV&allowWatchBookmarks=true&timeoutSeconds=2" >"$TMP/wa" &
WPID=$!
sleep 0.5
curl -s -X POST "$A/simulator/advance?seconds=1800" >/dev/null
wait $WPID
if R=$($H frames "$TMP/wa" "$LIST_RV" "$A" all); then
	ok "watch after the list RV: every write of 30 simulated minutes, in order, exactly the observation log ($R)"
else notok "watch after the list RV matches the observation log ($R)"; fi
check "the watch saw ADDED and MODIFIED frames" bash -c "grep -q '\"type\":\"ADDED\"' '$TMP/wa' && grep -q '\"type\":\"MODIFIED\"' '$TMP/wa'"
check "stats count the watch's frames" test "$(jget "$A/simulator/stats" frames_sent)" -ge "$(wc -l <"$TMP/wa")"

# An hour later the initial events have expired: DELETED frames.
RV2=$(jget "$A/simulator/stats" resource_version)
curl -sN "$A/api/v1/events?watch=1&resourceVersion=$RV2&timeoutSeconds=2" >"$TMP/wd" &
WPID=$!
sleep 0.5
curl -s -X POST "$A/simulator/advance?seconds=3700" >/dev/null
wait $WPID
DELETED=$(cat "$TMP/wa" "$TMP/wd" | grep -c '"type":"DELETED"')
check "DELETED frames of both watches equal the store's deletions ($DELETED)" \
	test "$DELETED" = "$(jget "$A/simulator/stats" deletions)"
check "every one of the 2,500 initial events was DELETED within the first simulated hour" python3 -c "
import json
first={i['metadata']['uid'] for i in json.load(open('$TMP/alist.json'))['items']}
gone=set()
for p in ('$TMP/wa','$TMP/wd'):
    for l in open(p):
        f=json.loads(l)
        if f['type']=='DELETED': gone.add(f['object']['metadata']['uid'])
assert len(first)==2500 and first <= gone, (len(first), len(first-gone))
"
check "a DELETED frame carries a new resourceVersion" bash -c "$H frames '$TMP/wd' $RV2 $A all >/dev/null"
check "the deleted events are no longer listed" \
	test "$(jget "$A/simulator/stats" events_alive)" = "$(curl -s "$A/api/v1/events" | python3 -c "import json,sys; print(len(json.load(sys.stdin)['items']))")"

curl -sN --max-time 5 "$A/api/v1/events?watch=1&resourceVersion=1" >"$TMP/wold"
check "watch from a resourceVersion before the window: one ERROR 410 Expired frame, then the end" \
	python3 -c "
import json,sys
l=open('$TMP/wold').read().splitlines()
assert len(l)==1, l
f=json.loads(l[0]); o=f['object']
assert f['type']=='ERROR' and o['kind']=='Status' and o['code']==410 and o['reason']=='Expired', f
assert o['message'].startswith('too old resource version: 1 ('), o
"
check "SIGTERM stops the simulator with status 0" stop_sim "$A_PID"

# ---------------------------------------------------------------- B: a live cluster at 300x
start_sim b --speed 300 --bookmark-interval 1 --seed 3
B=$URL
B_PID=$SIM_PID
RV=$(curl -s "$B/api/v1/events" | python3 -c "import json,sys; print(json.load(sys.stdin)['metadata']['resourceVersion'])")
curl -sN "$B/api/v1/events?watch=1&resourceVersion=$RV&allowWatchBookmarks=true&timeoutSeconds=4" >"$TMP/wb"
if R=$($H frames "$TMP/wb" "$RV" "$B" all); then
	ok "live watch: writes after the list RV in order, exactly as the observation log says ($R)"
else notok "live watch agrees with the observation log ($R)"; fi
check "live watch got ADDED frames" grep -q '"type":"ADDED"' "$TMP/wb"
BM=$(grep -c '"type":"BOOKMARK"' "$TMP/wb")
check "bookmarks arrive every second (got $BM in 4 s)" test "$BM" -ge 2 -a "$BM" -le 5
curl -sN "$B/api/v1/events?watch=1&resourceVersion=$RV&timeoutSeconds=2" >"$TMP/wnb"
check "no BOOKMARK without allowWatchBookmarks" bash -c "! grep -q BOOKMARK '$TMP/wnb'"
NS=$(head -1 "$TMP/wb" | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['object']['metadata']['namespace'])" 2>/dev/null || echo platform)
curl -sN "$B/api/v1/namespaces/$NS/events?watch=1&resourceVersion=$RV&timeoutSeconds=1" >"$TMP/wns"
check "a namespace-scoped watch only sees its namespace ($NS)" python3 -c "
import json
fs=[json.loads(l) for l in open('$TMP/wns')]
assert fs and all(f['object']['metadata']['namespace']=='$NS' for f in fs), len(fs)
"
curl -sN "$B/api/v1/watch/events?resourceVersion=$RV&timeoutSeconds=1" >"$TMP/wpath"
check "the legacy /api/v1/watch/events path watches too" grep -q '"type":"ADDED"' "$TMP/wpath"

curl -s -X POST "$B/simulator/faults?gone_after=5" >/dev/null
START=$(date +%s)
curl -sN "$B/api/v1/events?watch=1&resourceVersion=$RV&timeoutSeconds=20" >"$TMP/wg"
check "gone_after=5: 5 frames, then ERROR 410 Expired, and the stream ends at once" python3 -c "
import json
fs=[json.loads(l) for l in open('$TMP/wg')]
assert len(fs)==6, len(fs)
assert all(f['type'] in ('ADDED','MODIFIED','DELETED') for f in fs[:5])
assert fs[5]['type']=='ERROR' and fs[5]['object']['code']==410 and fs[5]['object']['reason']=='Expired'
"
check "... well before timeoutSeconds" test $(($(date +%s) - START)) -lt 10
curl -s -X POST "$B/simulator/faults?gone_after=0&drop_after=3" >/dev/null
curl -sN --max-time 10 "$B/api/v1/events?watch=1&resourceVersion=$RV&timeoutSeconds=20" >"$TMP/wdrop"
rc=$?
check "drop_after=3: curl sees the connection cut (exit $rc)" test "$rc" != 0 -a "$rc" != 28
check "... after 3 whole frames and half of the fourth" test "$($H drop "$TMP/wdrop")" = "3 True"
curl -s -X POST "$B/simulator/faults?drop_after=0&stall_after=2" >/dev/null
curl -sN --max-time 3 "$B/api/v1/events?watch=1&resourceVersion=$RV&timeoutSeconds=1" >"$TMP/wstall"
rc=$?
check "stall_after=2: 2 frames, then silence past timeoutSeconds (curl timed out: exit $rc)" \
	test "$rc" = 28 -a "$(wc -l <"$TMP/wstall")" = 2
curl -s -X POST "$B/simulator/faults?stall_after=0&malformed_every=3" >/dev/null
curl -sN "$B/api/v1/events?watch=1&resourceVersion=$RV&timeoutSeconds=3" >"$TMP/wmal"
check "malformed_every=3: a broken line before every 3rd frame, the others intact" python3 -c "
import json
good=bad=0
for l in open('$TMP/wmal', 'rb').read().split(b'\n'):
    if not l: continue
    try: json.loads(l); good+=1
    except ValueError: bad+=1
assert good >= 6 and bad == good // 3, (good, bad)
"
check "stats count malformed lines" test "$(jget "$B/simulator/stats" malformed_sent)" -ge 2
curl -s -X POST "$B/simulator/faults?reset=true" >/dev/null
check "faults reset" test "$(jget "$B/simulator/faults" malformed_every)" = 0
check "inject: a new event appears on a watch within a second" bash -c "
	RV=\$(curl -s '$B/simulator/stats' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"resource_version\"])')
	(sleep 0.3; curl -s -X POST '$B/simulator/inject?namespace=probe&count=2' >/dev/null) &
	curl -sN --max-time 1.5 '$B/api/v1/namespaces/probe/events?watch=1&resourceVersion='\$RV | grep -c '\"reason\":\"Simulated\"' | grep -qx 2"
check "stats: list/watch request counters" python3 -c "
import json,urllib.request
s=json.load(urllib.request.urlopen('$B/simulator/stats'))
assert s['list_requests']==1 and s['watch_requests']>=8 and s['distinct_uids']<=s['observations'], s
"
sleep 1.5
check "watches whose clients went away are ended (watches_active 0)" \
	test "$(jget "$B/simulator/stats" watches_active)" = 0
# a watch blocked in a stall must not hold shutdown up
curl -s -X POST "$B/simulator/faults?stall_after=1" >/dev/null
curl -sN "$B/api/v1/events?watch=1&resourceVersion=$RV" >/dev/null 2>&1 &
SPID=$!
sleep 0.3
T0=$(date +%s%N)
check "SIGTERM with a stalled watch open: exits 0" stop_sim "$B_PID"
check "... within 2 s" test $((($(date +%s%N) - T0) / 1000000)) -lt 2000
wait $SPID 2>/dev/null

# ---------------------------------------------------------------- C: bearer token
printf 'first-token\n' >"$TMP/token"
start_sim c --speed 0 --start "$FROZEN" --initial-events 10 --token-file "$TMP/token"
C=$URL
check "no Authorization header: 401" $H status "$C" /api/v1/events 401 Unauthorized
check "wrong token: 401" test "$(code_of -H 'Authorization: Bearer nope' "$C/api/v1/events")" = 401
check "right token: 200" test "$(code_of -H 'Authorization: Bearer first-token' "$C/api/v1/events")" = 200
printf 'second-token' >"$TMP/token"
check "after rotating the file the old token gets 401" test "$(code_of -H 'Authorization: Bearer first-token' "$C/api/v1/events")" = 401
check "... and the new one 200" test "$(code_of -H 'Authorization: Bearer second-token' "$C/api/v1/events")" = 200
check "a watch needs the token too" test "$(code_of -H 'Authorization: Bearer first-token' "$C/api/v1/events?watch=1&timeoutSeconds=1")" = 401
check "stats count 4 unauthorized requests" test "$(jget "$C/simulator/stats" unauthorized)" = 4

# ---------------------------------------------------------------- D: TLS
if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 1 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost >/dev/null 2>&1; then
	start_sim d --speed 0 --start "$FROZEN" --initial-events 50 --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem"
	D=$URL
	check "TLS: prints an https URL" test "${D%%:*}" = https
	check "TLS: list with the CA verifies and returns 50 events" test "$(curl -s --cacert "$TMP/cert.pem" "$D/api/v1/events" | python3 -c "import json,sys; print(len(json.load(sys.stdin)['items']))")" = 50
	curl -s "$D/api/v1/events" >/dev/null 2>&1; rc=$?
	check "TLS: without the CA curl refuses the certificate (exit $rc)" test "$rc" = 60
	check "TLS: paginated list over HTTPS" bash -c "SIM_CA='$TMP/cert.pem' $H pagination '$D' 50 20 >/dev/null"
	curl -sN --cacert "$TMP/cert.pem" "$D/api/v1/events?watch=1&timeoutSeconds=1" >"$TMP/wtls"
	check "TLS: watch over HTTPS" test "$(wc -l <"$TMP/wtls")" = 50
else
	notok "openssl could not make a self-signed certificate"
fi

# ---------------------------------------------------------------- E: split frames, a 1 MB event
start_sim e --speed 0 --start "$FROZEN" --initial-events 200 --max-frame-split --big-event-bytes 1048576
E=$URL
HOSTPORT=${E#http://}
if R=$($H split "${HOSTPORT%:*}" "${HOSTPORT#*:}" "/api/v1/events?watch=1&timeoutSeconds=1"); then
	read -r NCHUNKS INSIDE NFRAMES MSGLEN NONASCII <<<"$R"
	ok "split watch: $NFRAMES frames in $NCHUNKS chunks of 1-7 bytes all parse"
	check "frames are split inside multi-byte UTF-8 characters ($INSIDE times)" test "$INSIDE" -gt 100
	check "the big event's message is exactly 1048576 bytes of UTF-8" test "$MSGLEN" = 1048576
	check "some messages are non-ASCII ($NONASCII frames)" test "$NONASCII" -gt 10
	check "201 frames: 200 events and the big one (got $NFRAMES)" test "$NFRAMES" = 201
else
	notok "split watch frames parse"
fi
BIG=$(curl -s "$E/api/v1/namespaces/default/events" | python3 -c "
import json,sys
d=json.load(sys.stdin)
print(max(len(i.get('message','').encode()) for i in d['items']))")
check "the 1 MB event is listed too" test "$BIG" = 1048576

echo "# $FAILED failed"
[ "$FAILED" = 0 ]
