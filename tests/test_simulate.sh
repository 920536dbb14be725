#!/usr/bin/env bash
# tests/test_simulate.sh - checks `k8s-events simulate`, the fake kube-apiserver: paginated lists,
# namespace scope, watches (changes after the list, bookmarks, TTL deletions, 410s), every
# fault switch, bearer tokens, rate limiting, TLS, frames split at any byte, a 1 MB Event,
# and that /simulator/stats and /simulator/observations agree exactly with what was served;
# pacing by --rate; the events.k8s.io/v1 API beside /api/v1 (same lists, resourceVersions,
# watches and faults, the events.k8s.io shape, and the same rows when ingested: that part
# uses the PostgreSQL server of the environment, PGHOST/PGPORT as tests/run sets them);
# Retry-After, /simulator/requests and /simulator/close_watches.
# Prints "ok - ..." / "not ok - ..." lines; exits non-zero if any check failed.
#
# Each simulator listens on a free port (--port 0).  K8S_EVENTS_SIM_PORT=N makes them use
# N, N+1, ... instead (for machines where only a range of ports may be used).
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
need_program
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
NEXT_PORT=${K8S_EVENTS_SIM_PORT:-0}
# Frozen simulators (--speed 0) start at a fixed instant, so their state is the same every run.
FROZEN=2024-05-01T08:00:30Z

# launch_sim NAME [options...]: starts a simulator, waits for its "listening on" line and sets
# URL (its base URL) and SIM_PID. (lib.sh's start_sim takes the port file only; here what the
# simulator prints is under test too.)
launch_sim() {
	local name=$1; shift
	local port=0
	if [ "$NEXT_PORT" != 0 ]; then port=$NEXT_PORT; NEXT_PORT=$((NEXT_PORT + 1)); fi
	"$BIN" simulate --port "$port" --port-file "$TMP/$name.port" "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" &
	SIM_PID=$!
	PIDS+=("$SIM_PID")
	for _ in $(seq 1 600); do
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

EVENTS_V1_FIELDS = {"kind", "apiVersion", "metadata", "eventTime", "series", "reportingController",
                    "reportingInstance", "action", "reason", "regarding", "related", "note", "type",
                    "deprecatedSource", "deprecatedFirstTimestamp", "deprecatedLastTimestamp",
                    "deprecatedCount"}
MICRO = __import__("re").compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

def same_as_core(core, ev):
    """An events.k8s.io/v1 Event says what its core/v1 rendering says; returns what differs."""
    bad = []
    def want(name, got, exp):
        if got != exp:
            bad.append(f"{name}: {got!r} != {exp!r}")
    if set(ev) - EVENTS_V1_FIELDS:
        bad.append(f"fields outside events.k8s.io/v1: {sorted(set(ev) - EVENTS_V1_FIELDS)}")
    for f in ("involvedObject", "message", "source", "firstTimestamp", "lastTimestamp", "count",
              "reportingComponent"):
        if f in ev:
            bad.append(f"core/v1 field {f} in an events.k8s.io Event")
    want("metadata", ev["metadata"], core["metadata"])
    want("regarding", ev["regarding"], core["involvedObject"])
    want("note", ev.get("note"), core.get("message"))
    want("reason", ev.get("reason"), core.get("reason"))
    want("type", ev.get("type"), core.get("type"))
    want("action", ev.get("action"), core.get("action"))
    want("reportingController", ev.get("reportingController"), core.get("reportingComponent") or None)
    want("reportingInstance", ev.get("reportingInstance"), core.get("reportingInstance") or None)
    want("deprecatedSource", ev["deprecatedSource"], core["source"])
    want("deprecatedFirstTimestamp", ev["deprecatedFirstTimestamp"], core["firstTimestamp"])
    want("deprecatedLastTimestamp", ev["deprecatedLastTimestamp"], core["lastTimestamp"])
    want("deprecatedCount", ev.get("deprecatedCount"), core.get("count"))
    want("eventTime", ev["eventTime"], core.get("eventTime"))
    want("series", ev.get("series"), core.get("series"))
    if ev["eventTime"] is not None and not MICRO.match(ev["eventTime"]):
        bad.append(f"eventTime {ev['eventTime']} is not a MicroTime")
    if "series" in ev and not MICRO.match(ev["series"]["lastObservedTime"]):
        bad.append("series.lastObservedTime is not a MicroTime")
    return bad

def cmd_events_api_list(base, path):
    """The events.k8s.io list of path matches the core/v1 one item for item."""
    core = getj(f"{base}/api/v1{path}")
    ev = getj(f"{base}/apis/events.k8s.io/v1{path}")
    if ev["kind"] != "EventList" or ev["apiVersion"] != "events.k8s.io/v1":
        fail(f"list is {ev['kind']} {ev['apiVersion']}")
    if ev["metadata"] != core["metadata"]:
        fail(f"list metadata {ev['metadata']} != {core['metadata']}")
    if [i["metadata"]["uid"] for i in ev["items"]] != [i["metadata"]["uid"] for i in core["items"]]:
        fail("the two lists hold different Events or a different order")
    if any("kind" in i or "apiVersion" in i for i in ev["items"]):
        fail("list items carry kind/apiVersion")
    series = counted = old = 0
    for c, e in zip(core["items"], ev["items"]):
        bad = same_as_core(dict(c, kind="Event", apiVersion="v1"), e)
        if bad:
            fail(f"{e['metadata']['uid']}: " + "; ".join(bad))
        series += "series" in e
        counted += e.get("deprecatedCount", 0) > 1
        old += e["eventTime"] is None
    print(len(ev["items"]), series, counted, old)

def cmd_events_api_pages(base, limit):
    """Paginating both APIs gives the same pages, tokens and remainingItemCount."""
    tok = {"core": None, "ev": None}
    pages = 0
    while True:
        pc = getj(f"{base}/api/v1/events?limit={limit}" + (f"&continue={tok['core']}" if tok["core"] else ""))
        pe = getj(f"{base}/apis/events.k8s.io/v1/events?limit={limit}" + (f"&continue={tok['ev']}" if tok["ev"] else ""))
        pages += 1
        if pc["metadata"] != pe["metadata"]:
            fail(f"page {pages}: {pe['metadata']} != {pc['metadata']}")
        if [(i["metadata"]["uid"], i["metadata"]["resourceVersion"]) for i in pc["items"]] != \
                [(i["metadata"]["uid"], i["metadata"]["resourceVersion"]) for i in pe["items"]]:
            fail(f"page {pages} differs")
        tok = {"core": pc["metadata"].get("continue"), "ev": pe["metadata"].get("continue")}
        if not tok["core"]:
            break
    # a continue token of one API continues the other: it names a key in the same store
    first = getj(f"{base}/api/v1/events?limit={limit}")
    other = getj(f"{base}/apis/events.k8s.io/v1/events?limit={limit}&continue={first['metadata']['continue']}")
    again = getj(f"{base}/api/v1/events?limit={limit}&continue={first['metadata']['continue']}")
    if [i["metadata"]["uid"] for i in other["items"]] != [i["metadata"]["uid"] for i in again["items"]]:
        fail("a core/v1 continue token does not continue the events.k8s.io list")
    print(pages)

def cmd_events_api_get(base):
    it = getj(f"{base}/apis/events.k8s.io/v1/events?limit=1")["items"][0]["metadata"]
    d = getj(f"{base}/apis/events.k8s.io/v1/namespaces/{it['namespace']}/events/{it['name']}")
    c = getj(f"{base}/api/v1/namespaces/{it['namespace']}/events/{it['name']}")
    if d["kind"] != "Event" or d["apiVersion"] != "events.k8s.io/v1" or same_as_core(c, d):
        fail(f"GET: {d}")
    st, _, body = get(f"{base}/apis/events.k8s.io/v1/namespaces/{it['namespace']}/events/nope")
    d = json.loads(body)
    if st != 404 or d["reason"] != "NotFound" or d["message"] != 'events.events.k8s.io "nope" not found' \
            or d["details"] != {"name": "nope", "group": "events.k8s.io", "kind": "events"}:
        fail(f"missing Event: {st} {body!r}")

def cmd_events_api_watches(core_path, ev_path, base, since):
    """Two watches of the same changes, one per API: the same frames, each in its own shape."""
    fc, bc = read_frames(core_path)
    fe, be = read_frames(ev_path)
    if bc or be:
        fail("lines that are not JSON")
    key = lambda fs: [(f["type"], f["object"]["metadata"].get("uid"), f["object"]["metadata"]["resourceVersion"])
                      for f in fs if f["type"] != "BOOKMARK"]
    if key(fc) != key(fe):
        fail(f"the watches differ: {len(key(fc))} core frames, {len(key(fe))} events.k8s.io frames")
    byuid = {}
    for f in fc:
        if f["type"] != "BOOKMARK":
            byuid[(f["object"]["metadata"]["uid"], f["object"]["metadata"]["resourceVersion"])] = f["object"]
    kinds = {}
    for f in fe:
        o = f["object"]
        kinds[f["type"]] = kinds.get(f["type"], 0) + 1
        if o["apiVersion"] != "events.k8s.io/v1" or o["kind"] != "Event":
            fail(f"frame object is {o['kind']} {o['apiVersion']}")
        if f["type"] == "BOOKMARK":
            if set(o) != {"kind", "apiVersion", "metadata"} or set(o["metadata"]) != {"resourceVersion"}:
                fail(f"bad bookmark {f}")
            continue
        bad = same_as_core(byuid[(o["metadata"]["uid"], o["metadata"]["resourceVersion"])], o)
        if bad:
            fail("; ".join(bad))
    obs = [(o["uid"], o["resourceVersion"]) for o in observations(base, since)]
    served = [(k[1], k[2]) for k in key(fe) if k[0] != "DELETED"]
    if served != obs[:len(served)] or len(served) != len(obs):
        fail(f"events.k8s.io watch served {len(served)} writes, the observation log has {len(obs)}")
    print(json.dumps(kinds, sort_keys=True))

def cmd_retry(base, path, code, seconds):
    """An injected failure with Retry-After: the header and the Status say the same."""
    st, hdrs, body = get(base + path)
    d = json.loads(body)
    if st != int(code) or d.get("code") != int(code):
        fail(f"HTTP {st} {body[:200]!r}")
    if int(seconds) > 0:
        if hdrs.get("Retry-After") != seconds or d.get("details") != {"retryAfterSeconds": int(seconds)}:
            fail(f"Retry-After {hdrs.get('Retry-After')}, details {d.get('details')}")
    elif "Retry-After" in hdrs or "details" in d:
        fail(f"retry_after=0 still sends Retry-After {hdrs.get('Retry-After')} / {d.get('details')}")

def cmd_requests(base, since, expect):
    """/simulator/requests after since: the verbs, APIs, arguments and statuses expected."""
    st, _, body = get(f"{base}/simulator/requests?since={since}")
    rs = [json.loads(l) for l in body.decode().splitlines()]
    got = [f"{r['method']} {r['verb']} {r.get('api', '-')} {r['path']} "
           f"{'&'.join(k + '=' + v for k, v in r['args'].items())} {r['status']}" for r in rs]
    want = expect.split("|")
    if got != want:
        fail("got:\n# " + "\n# ".join(got) + "\n# want:\n# " + "\n# ".join(want))
    seqs = [r["seq"] for r in rs]
    if seqs != list(range(int(since) + 1, int(since) + 1 + len(rs))):
        fail(f"sequence numbers {seqs}")
    monos = [r["mono"] for r in rs]
    if monos != sorted(monos) or any(not r["time"].endswith("Z") for r in rs):
        fail("times out of order")

def cmd_rate(base, seconds, rate):
    """Writes per real second, measured over seconds on the simulator's own counter."""
    s0 = getj(f"{base}/simulator/stats"); t0 = time.monotonic()
    time.sleep(float(seconds))
    s1 = getj(f"{base}/simulator/stats"); t1 = time.monotonic()
    got = (s1["observations"] - s0["observations"]) / (t1 - t0)
    print(f"{got:.1f} {s0['sim_time']} {s1['sim_time']}")
    if not 0.5 * float(rate) <= got <= 1.5 * float(rate):
        sys.exit(1)

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
check_cmd "--help exits 0 and documents the fault switches" grep -q -- "--gone-after" "$TMP/help"
"$BIN" simulate --no-such-option >/dev/null 2>"$TMP/e1"; rc=$?
check_cmd "an unknown option is a usage error (exit 2)" test "$rc" = 2 -a -s "$TMP/e1"
"$BIN" simulate --tls-cert x >/dev/null 2>"$TMP/e2"; rc=$?
check_cmd "--tls-cert without --tls-key is a usage error" grep -q "go together" "$TMP/e2"
"$BIN" simulate --fail-count 2 >/dev/null 2>"$TMP/e3"; rc=$?
check_cmd "--fail-count without --fail-status is a usage error" test "$rc" = 2
"$BIN" simulate --speed -1 >/dev/null 2>"$TMP/e4"; rc=$?
check_cmd "a negative --speed is refused" grep -q "speed must be a number" "$TMP/e4"
"$BIN" simulate --tls-cert /nonexistent --tls-key /nonexistent >/dev/null 2>"$TMP/e5"; rc=$?
check_cmd "a missing certificate file fails with its name" grep -q '/nonexistent' "$TMP/e5"

# ---------------------------------------------------------------- A: a frozen cluster, exact counts
launch_sim a --speed 0 --initial-events 2500 --seed 7 --start "$FROZEN"
A=$URL
A_PID=$SIM_PID
curl -s "$A/api/v1/events" >"$TMP/alist.json"
check_cmd "port file holds the port that was printed" test "http://127.0.0.1:$(cat "$TMP/a.port")" = "$A"
check_cmd "2,500 initial events are alive" test "$(jget "$A/simulator/stats" events_alive)" = 2500
check_cmd "the observation log starts with the 2,500" test "$(jget "$A/simulator/stats" observations)" = 2500
# Started in the second two of seed 11's CronJobs are due (00:09:00): the warm-up's Events
# and nothing else until the clock moves; then the CronJobs fire, stamped at the start.
launch_sim cron --speed 0 --initial-events 2500 --seed 11 --start 2026-12-06T00:08:59.72Z
alive=$(jget "$URL/simulator/stats" events_alive)
curl -s -XPOST "$URL/simulator/advance?seconds=1" >/dev/null
# the clock's thread catches up after the answer: ask until they are there (10 s at most)
for _ in $(seq 100); do
	created=$(curl -s "$URL/api/v1/events" | python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin)["items"] if e["reason"] == "SuccessfulCreate"
          and e["lastTimestamp"] == "2026-12-06T00:09:00Z" and e["involvedObject"]["kind"] in ("CronJob", "Job")))')
	[ "$created" = 4 ] && break
	sleep 0.1
done
test "$alive" = 2500 && test "$created" = 4
check "a frozen cluster started in a CronJob's second serves exactly --initial-events (2500: $alive), the CronJobs' 4 Events come when the clock moves ($created)" $?
stop_sim "$SIM_PID"
# At a crawl (--speed 1e-9) the first tick past those CronJobs is 1,000 s away: the clock's
# thread sleeps until then, not a tick at a time (it once woke every 10 ms, waiting).
launch_sim crawl --speed 0.000000001 --seed 11 --start 2026-12-06T00:08:59.72Z
w0=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$SIM_PID/task/$SIM_PID/status")
sleep 2
w1=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$SIM_PID/task/$SIM_PID/status")
test $((w1 - w0)) -le 20
check "a crawling cluster with the start second's CronJobs due sleeps: $((w1 - w0)) wake-ups of the clock's thread in 2 s (budget 20)" $?
stop_sim "$SIM_PID"
if LIST_RV=$($H pagination "$A" 2500 500); then
	ok "limit=500: 5 pages, every event once, remainingItemCount exact, one pinned resourceVersion, key order, matches the observation log"
else notok "paginated list of 2,500"; LIST_RV=0; fi
check_cmd "lists scoped to each namespace (whole and paginated) hold that namespace's events" $H namespaces "$A"
check_cmd "GET of one Event and a 404 Status for a missing one" $H get_one "$A"
check_cmd "unknown path: 404 Status NotFound" $H status "$A" /api/v1/pods 404 NotFound
check_cmd "unknown path outside /api: 404" $H status "$A" /apis/foo 404 NotFound
check_cmd "POST on events: 405 MethodNotAllowed" $H status "$A" /api/v1/events 405 MethodNotAllowed POST
check_cmd "limit=abc: 400 BadRequest" $H status "$A" "/api/v1/events?limit=abc" 400 BadRequest
check_cmd "a garbage continue token: 400 BadRequest" $H status "$A" "/api/v1/events?limit=5&continue=garbage" 400 BadRequest
check_cmd "watch=maybe: 400 BadRequest" $H status "$A" "/api/v1/events?watch=maybe" 400 BadRequest
check_cmd "a resourceVersion above the current one: 504 Timeout" $H status "$A" "/api/v1/events?resourceVersion=999999999999" 504 Timeout

TOKEN=$($H continue_token "$A" 100)
curl -s -X POST "$A/simulator/faults?expire_continue=true" >/dev/null
check_cmd "expire_continue (runtime): a continue token gets 410 Status Expired" \
	$H status "$A" "/api/v1/events?limit=100&continue=$TOKEN" 410 Expired
curl -s -X POST "$A/simulator/faults?expire_continue=false" >/dev/null
check_cmd "the same token works again once the fault is off" \
	test "$(code_of "$A/api/v1/events?limit=100&continue=$TOKEN")" = 200
check_cmd "stats count the expired continue" test "$(jget "$A/simulator/stats" continues_expired)" = 1

curl -s -X POST "$A/simulator/faults?page_size=100" >/dev/null
PAGE=$(curl -s "$A/api/v1/events?limit=500" | python3 -c "import json,sys; d=json.load(sys.stdin); print(len(d['items']), d['metadata']['remainingItemCount'])")
check_cmd "page_size=100 caps limit=500 (got $PAGE)" test "$PAGE" = "100 2400"
curl -s -X POST "$A/simulator/faults?page_size=0" >/dev/null

curl -s -X POST "$A/simulator/faults?fail_status=500&fail_count=2" >/dev/null
check_cmd "fail_status=500 fail_count=2: first request 500 InternalError" $H status "$A" /api/v1/events 500 InternalError
check_cmd "... second request 500" test "$(code_of "$A/api/v1/events?limit=1")" = 500
check_cmd "... third request 200" test "$(code_of "$A/api/v1/events?limit=1")" = 200
curl -s -X POST "$A/simulator/faults?fail_status=503&fail_count=1" >/dev/null
check_cmd "fail_status=503: ServiceUnavailable with Retry-After" $H status "$A" /api/v1/events 503 ServiceUnavailable
curl -s -X POST "$A/simulator/faults?fail_status=403&fail_count=2" >/dev/null
FORBIDDEN_V1=$(curl -s "$A/api/v1/events" | python3 -c "import json,sys; print(json.load(sys.stdin)['message'])")
FORBIDDEN_EV=$(curl -s "$A/apis/events.k8s.io/v1/events" | python3 -c "import json,sys; print(json.load(sys.stdin)['message'])")
check_cmd "a 403 names the API group of the URL, as RBAC does ($FORBIDDEN_EV)" \
	test "${FORBIDDEN_V1#*in API group }${FORBIDDEN_EV#*in API group }" = '"" at the cluster scope"events.k8s.io" at the cluster scope'
check_cmd "an unknown fault name is refused" test "$(code_of -X POST "$A/simulator/faults?gone_afterr=1")" = 400
check_cmd "a bad fault value is refused" test "$(code_of -X POST "$A/simulator/faults?gone_after=-1")" = 400

curl -s -X POST "$A/simulator/faults?rate_limit=2" >/dev/null
# The bucket holds 2 tokens and refills one every 500 ms. One curl sends the whole burst over
# one connection, so its requests come faster than that however busy the machine: separate
# curls, under ASan beside the valgrind lane, took over 500 ms each, and a token came back
# between them. Each answer, with its headers, goes to a file of its own.
curl -s -i "$A/api/v1/events?limit=[1-20]" -o "$TMP/rl#1"
for i in $(seq 1 20); do head -1 "$TMP/rl$i" | cut -d' ' -f2; done >"$TMP/rl"
check_cmd "rate_limit=2: a burst of 20 requests meets 429 ($(sort "$TMP/rl" | uniq -c | xargs))" grep -qx 429 "$TMP/rl"
check_cmd "... and the first requests pass" test "$(head -1 "$TMP/rl")" = 200
first_429=$(grep -nx -m1 429 "$TMP/rl" | cut -d: -f1)
check_cmd "429 is a TooManyRequests Status with Retry-After" python3 - "$TMP/rl${first_429:-0}" <<'PY'
import json, sys
head, _, body = open(sys.argv[1], "rb").read().partition(b"\r\n\r\n")
head = head.decode().split("\r\n")
body = json.loads(body)
headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in head[1:] if ":" in l)}
ok = (head[0].split()[1] == "429" and body.get("kind") == "Status" and body.get("apiVersion") == "v1"
      and body.get("code") == 429 and body.get("reason") == "TooManyRequests"
      and body.get("status") == "Failure" and body.get("metadata") == {} and headers.get("retry-after") == "1")
if not ok:
    print(f"# {head[0]} {headers.get('retry-after')} {json.dumps(body)[:300]}")
sys.exit(0 if ok else 1)
PY
curl -s -X POST "$A/simulator/faults?rate_limit=0" >/dev/null
sleep 0.1
check_cmd "rate_limit=0 lifts the limit" test "$(code_of "$A/api/v1/events?limit=1")" = 200

# A watch from "0" starts with the current state as ADDED, like the apiserver.
ALIVE=$(jget "$A/simulator/stats" events_alive)
curl -sN "$A/api/v1/events?watch=true&timeoutSeconds=1" >"$TMP/w0"
check_cmd "watch from resourceVersion 0: the $ALIVE alive events as ADDED, then the stream ends at timeoutSeconds" \
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
check_cmd "the watch saw ADDED and MODIFIED frames" bash -c "grep -q '\"type\":\"ADDED\"' '$TMP/wa' && grep -q '\"type\":\"MODIFIED\"' '$TMP/wa'"
check_cmd "stats count the watch's frames" test "$(jget "$A/simulator/stats" frames_sent)" -ge "$(wc -l <"$TMP/wa")"

# An hour later the initial events have expired: DELETED frames.
RV2=$(jget "$A/simulator/stats" resource_version)
curl -sN "$A/api/v1/events?watch=1&resourceVersion=$RV2&timeoutSeconds=2" >"$TMP/wd" &
WPID=$!
sleep 0.5
curl -s -X POST "$A/simulator/advance?seconds=3700" >/dev/null
wait $WPID
DELETED=$(cat "$TMP/wa" "$TMP/wd" | grep -c '"type":"DELETED"')
check_cmd "DELETED frames of both watches equal the store's deletions ($DELETED)" \
	test "$DELETED" = "$(jget "$A/simulator/stats" deletions)"
check_cmd "every one of the 2,500 initial events was DELETED within the first simulated hour" python3 -c "
import json
first={i['metadata']['uid'] for i in json.load(open('$TMP/alist.json'))['items']}
gone=set()
for p in ('$TMP/wa','$TMP/wd'):
    for l in open(p):
        f=json.loads(l)
        if f['type']=='DELETED': gone.add(f['object']['metadata']['uid'])
assert len(first)==2500 and first <= gone, (len(first), len(first-gone))
"
check_cmd "a DELETED frame carries a new resourceVersion" bash -c "$H frames '$TMP/wd' $RV2 $A all >/dev/null"
check_cmd "the deleted events are no longer listed" \
	test "$(jget "$A/simulator/stats" events_alive)" = "$(curl -s "$A/api/v1/events" | python3 -c "import json,sys; print(len(json.load(sys.stdin)['items']))")"

curl -sN --max-time 5 "$A/api/v1/events?watch=1&resourceVersion=1" >"$TMP/wold"
check_cmd "watch from a resourceVersion before the window: one ERROR 410 Expired frame, then the end" \
	python3 -c "
import json,sys
l=open('$TMP/wold').read().splitlines()
assert len(l)==1, l
f=json.loads(l[0]); o=f['object']
assert f['type']=='ERROR' and o['kind']=='Status' and o['code']==410 and o['reason']=='Expired', f
assert o['message'].startswith('too old resource version: 1 ('), o
"
check_cmd "SIGTERM stops the simulator with status 0" stop_sim "$A_PID"

# ---------------------------------------------------------------- B: a live cluster at 300x
launch_sim b --speed 300 --bookmark-interval 1 --seed 3
B=$URL
B_PID=$SIM_PID
RV=$(curl -s "$B/api/v1/events" | python3 -c "import json,sys; print(json.load(sys.stdin)['metadata']['resourceVersion'])")
curl -sN "$B/api/v1/events?watch=1&resourceVersion=$RV&allowWatchBookmarks=true&timeoutSeconds=4" >"$TMP/wb"
if R=$($H frames "$TMP/wb" "$RV" "$B" all); then
	ok "live watch: writes after the list RV in order, exactly as the observation log says ($R)"
else notok "live watch agrees with the observation log ($R)"; fi
check_cmd "live watch got ADDED frames" grep -q '"type":"ADDED"' "$TMP/wb"
BM=$(grep -c '"type":"BOOKMARK"' "$TMP/wb")
check_cmd "bookmarks arrive every second (got $BM in 4 s)" test "$BM" -ge 2 -a "$BM" -le 5
curl -sN "$B/api/v1/events?watch=1&resourceVersion=$RV&timeoutSeconds=2" >"$TMP/wnb"
check_cmd "no BOOKMARK without allowWatchBookmarks" bash -c "! grep -q BOOKMARK '$TMP/wnb'"
NS=$(head -1 "$TMP/wb" | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['object']['metadata']['namespace'])" 2>/dev/null || echo platform)
curl -sN "$B/api/v1/namespaces/$NS/events?watch=1&resourceVersion=$RV&timeoutSeconds=1" >"$TMP/wns"
check_cmd "a namespace-scoped watch only sees its namespace ($NS)" python3 -c "
import json
fs=[json.loads(l) for l in open('$TMP/wns')]
assert fs and all(f['object']['metadata']['namespace']=='$NS' for f in fs), len(fs)
"
curl -sN "$B/api/v1/watch/events?resourceVersion=$RV&timeoutSeconds=1" >"$TMP/wpath"
check_cmd "the legacy /api/v1/watch/events path watches too" grep -q '"type":"ADDED"' "$TMP/wpath"

curl -s -X POST "$B/simulator/faults?gone_after=5" >/dev/null
START=$(date +%s)
curl -sN "$B/api/v1/events?watch=1&resourceVersion=$RV&timeoutSeconds=20" >"$TMP/wg"
check_cmd "gone_after=5: 5 frames, then ERROR 410 Expired, and the stream ends at once" python3 -c "
import json
fs=[json.loads(l) for l in open('$TMP/wg')]
assert len(fs)==6, len(fs)
assert all(f['type'] in ('ADDED','MODIFIED','DELETED') for f in fs[:5])
assert fs[5]['type']=='ERROR' and fs[5]['object']['code']==410 and fs[5]['object']['reason']=='Expired'
"
check_cmd "... well before timeoutSeconds" test $(($(date +%s) - START)) -lt 10
curl -s -X POST "$B/simulator/faults?gone_after=0&drop_after=3" >/dev/null
curl -sN --max-time 10 "$B/api/v1/events?watch=1&resourceVersion=$RV&timeoutSeconds=20" >"$TMP/wdrop"
rc=$?
check_cmd "drop_after=3: curl sees the connection cut (exit $rc)" test "$rc" != 0 -a "$rc" != 28
check_cmd "... after 3 whole frames and half of the fourth" test "$($H drop "$TMP/wdrop")" = "3 True"
curl -s -X POST "$B/simulator/faults?drop_after=0&stall_after=2" >/dev/null
curl -sN --max-time 3 "$B/api/v1/events?watch=1&resourceVersion=$RV&timeoutSeconds=1" >"$TMP/wstall"
rc=$?
check_cmd "stall_after=2: 2 frames, then silence past timeoutSeconds (curl timed out: exit $rc)" \
	test "$rc" = 28 -a "$(wc -l <"$TMP/wstall")" = 2
curl -s -X POST "$B/simulator/faults?stall_after=0&malformed_every=3" >/dev/null
curl -sN "$B/api/v1/events?watch=1&resourceVersion=$RV&timeoutSeconds=3" >"$TMP/wmal"
check_cmd "malformed_every=3: a broken line before every 3rd frame, the others intact" python3 -c "
import json
good=bad=0
for l in open('$TMP/wmal', 'rb').read().split(b'\n'):
    if not l: continue
    try: json.loads(l); good+=1
    except ValueError: bad+=1
assert good >= 6 and bad == good // 3, (good, bad)
"
check_cmd "stats count malformed lines" test "$(jget "$B/simulator/stats" malformed_sent)" -ge 2
curl -s -X POST "$B/simulator/faults?reset=true" >/dev/null
check_cmd "faults reset" test "$(jget "$B/simulator/faults" malformed_every)" = 0
# Timed from the inject's answer, with 10 s allowed: a busy machine (the sanitizer lanes) is
# slow to start curl, and a watch that misses the Events fails however long it waits.
out=$(python3 - "$B" <<'PY'
import http.client, json, sys, time, urllib.parse, urllib.request
base = urllib.parse.urlparse(sys.argv[1])
rv = json.load(urllib.request.urlopen(sys.argv[1] + "/simulator/stats"))["resource_version"]
conn = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
conn.request("GET", f"/api/v1/namespaces/probe/events?watch=1&resourceVersion={rv}")
watch = conn.getresponse()
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/simulator/inject?namespace=probe&count=2", method="POST")).read()
t0, seen = time.monotonic(), 0
while seen < 2 and time.monotonic() - t0 < 10:
    line = watch.readline()
    if not line:
        break
    seen += b'"reason":"Simulated"' in line
print(f"{seen} in {(time.monotonic() - t0) * 1000:.0f} ms")
sys.exit(0 if seen == 2 else 1)
PY
)
check "inject: the 2 new Events appear on an open watch ($out after the inject answered)" $?
check_cmd "stats: list/watch request counters" python3 -c "
import json,urllib.request
s=json.load(urllib.request.urlopen('$B/simulator/stats'))
assert s['list_requests']==1 and s['watch_requests']>=8 and s['distinct_uids']<=s['observations'], s
"
sleep 1.5
check_cmd "watches whose clients went away are ended (watches_active 0)" \
	test "$(jget "$B/simulator/stats" watches_active)" = 0
# a watch blocked in a stall must not hold shutdown up
curl -s -X POST "$B/simulator/faults?stall_after=1" >/dev/null
curl -sN --max-time 60 "$B/api/v1/events?watch=1&resourceVersion=$RV" >/dev/null 2>&1 &
SPID=$!
for _ in $(seq 100); do [ "$(jget "$B/simulator/stats" watches_active)" = 1 ] && break; sleep 0.1; done
T0=$(date +%s%N)
check_cmd "SIGTERM with a stalled watch open: exits 0" stop_sim "$B_PID"
# A stalled watch looks at the stop once a second; 10 s leaves room for the sanitizers' exit
# (the leak scan) on a busy machine, and still fails a watch that holds shutdown up for good.
check_cmd "... within 10 s" test $((($(date +%s%N) - T0) / 1000000)) -lt 10000
wait $SPID 2>/dev/null

# ---------------------------------------------------------------- C: bearer token
printf 'first-token\n' >"$TMP/token"
launch_sim c --speed 0 --start "$FROZEN" --initial-events 10 --token-file "$TMP/token"
C=$URL
check_cmd "no Authorization header: 401" $H status "$C" /api/v1/events 401 Unauthorized
check_cmd "wrong token: 401" test "$(code_of -H 'Authorization: Bearer nope' "$C/api/v1/events")" = 401
check_cmd "right token: 200" test "$(code_of -H 'Authorization: Bearer first-token' "$C/api/v1/events")" = 200
printf 'second-token' >"$TMP/token"
check_cmd "after rotating the file the old token gets 401" test "$(code_of -H 'Authorization: Bearer first-token' "$C/api/v1/events")" = 401
check_cmd "... and the new one 200" test "$(code_of -H 'Authorization: Bearer second-token' "$C/api/v1/events")" = 200
check_cmd "a watch needs the token too" test "$(code_of -H 'Authorization: Bearer first-token' "$C/api/v1/events?watch=1&timeoutSeconds=1")" = 401
check_cmd "stats count 4 unauthorized requests" test "$(jget "$C/simulator/stats" unauthorized)" = 4

# ---------------------------------------------------------------- D: TLS
if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 1 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost >/dev/null 2>&1; then
	launch_sim d --speed 0 --start "$FROZEN" --initial-events 50 --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem"
	D=$URL
	check_cmd "TLS: prints an https URL" test "${D%%:*}" = https
	check_cmd "TLS: list with the CA verifies and returns 50 events" test "$(curl -s --cacert "$TMP/cert.pem" "$D/api/v1/events" | python3 -c "import json,sys; print(len(json.load(sys.stdin)['items']))")" = 50
	curl -s "$D/api/v1/events" >/dev/null 2>&1; rc=$?
	check_cmd "TLS: without the CA curl refuses the certificate (exit $rc)" test "$rc" = 60
	check_cmd "TLS: paginated list over HTTPS" bash -c "SIM_CA='$TMP/cert.pem' $H pagination '$D' 50 20 >/dev/null"
	curl -sN --cacert "$TMP/cert.pem" "$D/api/v1/events?watch=1&timeoutSeconds=1" >"$TMP/wtls"
	check_cmd "TLS: watch over HTTPS" test "$(wc -l <"$TMP/wtls")" = 50
else
	notok "openssl could not make a self-signed certificate"
fi

# ---------------------------------------------------------------- E: split frames, a 1 MB event
launch_sim e --speed 0 --start "$FROZEN" --initial-events 200 --max-frame-split --big-event-bytes 1048576
E=$URL
HOSTPORT=${E#http://}
if R=$($H split "${HOSTPORT%:*}" "${HOSTPORT#*:}" "/api/v1/events?watch=1&timeoutSeconds=1"); then
	read -r NCHUNKS INSIDE NFRAMES MSGLEN NONASCII <<<"$R"
	ok "split watch: $NFRAMES frames in $NCHUNKS chunks of 1-7 bytes all parse"
	check_cmd "frames are split inside multi-byte UTF-8 characters ($INSIDE times)" test "$INSIDE" -gt 100
	check_cmd "the big event's message is exactly 1048576 bytes of UTF-8" test "$MSGLEN" = 1048576
	check_cmd "some messages are non-ASCII ($NONASCII frames)" test "$NONASCII" -gt 10
	check_cmd "201 frames: 200 events and the big one (got $NFRAMES)" test "$NFRAMES" = 201
else
	notok "split watch frames parse"
fi
BIG=$(curl -s "$E/api/v1/namespaces/default/events" | python3 -c "
import json,sys
d=json.load(sys.stdin)
print(max(len(i.get('message','').encode()) for i in d['items']))")
check_cmd "the 1 MB event is listed too" test "$BIG" = 1048576

# ---------------------------------------------------------------- F: pacing by --rate
"$BIN" simulate --rate 0 >/dev/null 2>"$TMP/e6"; rc=$?
check_cmd "--rate 0 is a usage error" bash -c "test $rc = 2 && grep -q 'rate must be' '$TMP/e6'"
"$BIN" simulate --rate 10 --speed 2 >/dev/null 2>"$TMP/e7"; rc=$?
check_cmd "--rate with --speed is a usage error" bash -c "test $rc = 2 && grep -q 'exclude each other' '$TMP/e7'"
check_cmd "--help documents --rate" grep -q -- "--rate N" "$TMP/help"
launch_sim f --rate 200 --seed 5 --bookmark-interval 1
F=$URL
sleep 0.5
if R=$($H rate "$F" 3 200); then ok "--rate 200: $R (Events/s, simulated time from, to)"
else notok "--rate 200 gives 100-300 Events per second ($R)"; fi
curl -s -X POST "$F/simulator/faults?rate=50" >/dev/null
check_cmd "rate is a runtime switch too (faults say rate 50)" test "$(jget "$F/simulator/faults" rate)" = 50
sleep 0.3
if R=$($H rate "$F" 3 50); then ok "rate=50 at runtime: $R"
else notok "rate=50 at runtime gives 25-75 Events per second ($R)"; fi
RV=$(jget "$F/simulator/stats" resource_version)
curl -sN "$F/api/v1/events?watch=1&resourceVersion=$RV&allowWatchBookmarks=true&timeoutSeconds=2" >"$TMP/wf"
if R=$($H frames "$TMP/wf" "$RV" "$F" all); then
	ok "a watch under --rate serves exactly the observation log ($R)"
else notok "a watch under --rate serves exactly the observation log ($R)"; fi
check_cmd "... about 100 writes in its 2 s" test "$(grep -c '"type":"\(ADDED\|MODIFIED\)"' "$TMP/wf")" -ge 40
curl -s -X POST "$F/simulator/faults?rate=0" >/dev/null
T1=$(jget "$F/simulator/stats" sim_time)
sleep 2
T2=$(jget "$F/simulator/stats" sim_time)
check_cmd "rate=0 goes back to --speed (1): 2 s later the clock moved 1-4 simulated seconds ($T1 -> $T2)" python3 -c "
from datetime import datetime
f = lambda t: datetime.strptime(t, '%Y-%m-%dT%H:%M:%SZ')
d = (f('$T2') - f('$T1')).total_seconds()
assert 1 <= d <= 4, d"
stop_sim "$SIM_PID"

# ---------------------------------------------------------------- G: the events.k8s.io/v1 API
launch_sim g --speed 0 --start "$FROZEN" --initial-events 1500 --seed 9 --cluster-version mixed --bookmark-interval 1
G=$URL
G_PID=$SIM_PID
if R=$($H events_api_list "$G" /events); then
	read -r N SERIES COUNTED OLD <<<"$R"
	ok "events.k8s.io list: the $N Events of the core list, same resourceVersions and order, each in the events.k8s.io/v1 shape"
	check_cmd "... with series ($SERIES), deprecatedCount > 1 ($COUNTED) and core-recorded Events without eventTime ($OLD)" \
		test "$SERIES" -gt 0 -a "$COUNTED" -gt 0 -a "$OLD" -gt 0
else notok "events.k8s.io list matches the core list"; fi
NS=$(curl -s "$G/api/v1/events?limit=1" | python3 -c "import json,sys; print(json.load(sys.stdin)['items'][0]['metadata']['namespace'])")
check_cmd "a namespace's events.k8s.io list matches its core list ($NS)" bash -c "$H events_api_list '$G' '/namespaces/$NS/events' >/dev/null"
# kept for the ingest comparison below
curl -s "$G/api/v1/events" >"$TMP/core.json"
curl -s "$G/apis/events.k8s.io/v1/events" >"$TMP/ev.json"
if R=$($H events_api_pages "$G" 200); then ok "paginated (limit=200): the same $R pages, continue tokens and remainingItemCount through both APIs"
else notok "paginated events.k8s.io list ($R)"; fi
check_cmd "GET of one events.k8s.io Event, and a 404 Status naming the group" $H events_api_get "$G"
check_cmd "events.k8s.io: an unknown resource is 404" $H status "$G" /apis/events.k8s.io/v1/pods 404 NotFound
check_cmd "events.k8s.io: POST is 405" $H status "$G" /apis/events.k8s.io/v1/events 405 MethodNotAllowed POST
check_cmd "events.k8s.io: limit=abc is 400" $H status "$G" "/apis/events.k8s.io/v1/events?limit=abc" 400 BadRequest
curl -sN "$G/apis/events.k8s.io/v1/events?watch=1&timeoutSeconds=1" >"$TMP/gw0"
check_cmd "events.k8s.io watch from 0: the 1500 alive Events as ADDED" \
	test "$(grep -c '"type":"ADDED","object":{"kind":"Event","apiVersion":"events.k8s.io/v1"' "$TMP/gw0")" = 1500
G_RV=$(jget "$G/simulator/stats" resource_version)
curl -sN "$G/api/v1/events?watch=1&resourceVersion=$G_RV&allowWatchBookmarks=true&timeoutSeconds=3" >"$TMP/gwc" &
P1=$!
curl -sN "$G/apis/events.k8s.io/v1/events?watch=1&resourceVersion=$G_RV&allowWatchBookmarks=true&timeoutSeconds=3" >"$TMP/gwe" &
P2=$!
sleep 0.5
curl -s -X POST "$G/simulator/advance?seconds=4000" >/dev/null
wait $P1 $P2
if R=$($H events_api_watches "$TMP/gwc" "$TMP/gwe" "$G" "$G_RV"); then
	ok "watches of both APIs from the same resourceVersion: the same frames, the events.k8s.io ones in their shape, exactly the observation log ($R)"
	check_cmd "... ADDED, MODIFIED, DELETED (past the TTL) and BOOKMARK frames" python3 -c "
import json; k = json.loads('$R'); assert all(k.get(t, 0) > 0 for t in ('ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK')), k"
else notok "watches of both APIs agree ($R)"; fi
curl -sN "$G/apis/events.k8s.io/v1/watch/events?resourceVersion=$G_RV&timeoutSeconds=1" >"$TMP/gwpath"
check_cmd "the /apis/events.k8s.io/v1/watch/events path watches too" grep -q '"apiVersion":"events.k8s.io/v1"' "$TMP/gwpath"
curl -sN "$G/apis/events.k8s.io/v1/namespaces/$NS/events?watch=1&resourceVersion=$G_RV&timeoutSeconds=1" >"$TMP/gwns"
check_cmd "a namespace-scoped events.k8s.io watch sees only $NS" python3 -c "
import json
fs = [json.loads(l) for l in open('$TMP/gwns')]
assert fs and all(f['object']['metadata']['namespace'] == '$NS' for f in fs), len(fs)"
curl -sN --max-time 5 "$G/apis/events.k8s.io/v1/events?watch=1&resourceVersion=1" >"$TMP/gwold"
check_cmd "events.k8s.io watch from a resourceVersion before the window: ERROR 410" \
	grep -q '"type":"ERROR","object":{"kind":"Status","apiVersion":"v1".*"code":410' "$TMP/gwold"
curl -s -X POST "$G/simulator/faults?gone_after=3" >/dev/null
curl -sN "$G/apis/events.k8s.io/v1/events?watch=1&resourceVersion=$G_RV&timeoutSeconds=5" >"$TMP/gwg"
check_cmd "gone_after=3 on an events.k8s.io watch: 3 frames, then ERROR 410" python3 -c "
import json
fs = [json.loads(l) for l in open('$TMP/gwg')]
assert len(fs) == 4 and fs[3]['type'] == 'ERROR' and fs[3]['object']['code'] == 410, fs[3:]"
curl -s -X POST "$G/simulator/faults?gone_after=0&expire_continue=true" >/dev/null
TOKEN=$(curl -s "$G/apis/events.k8s.io/v1/events?limit=100" | python3 -c "import json,sys; print(json.load(sys.stdin)['metadata']['continue'])")
check_cmd "expire_continue on an events.k8s.io continue token: 410 Expired" \
	$H status "$G" "/apis/events.k8s.io/v1/events?limit=100&continue=$TOKEN" 410 Expired
curl -s -X POST "$G/simulator/faults?expire_continue=false&fail_status=503&fail_count=1" >/dev/null
check_cmd "fail_status=503 on the events.k8s.io list: 503 ServiceUnavailable" \
	$H status "$G" /apis/events.k8s.io/v1/events 503 ServiceUnavailable
check_cmd "stats count the requests through events.k8s.io" test "$(jget "$G/simulator/stats" events_api_requests)" -ge 15

# The same observations decode to the same rows through either API (the extension's decoder),
# for a list and for a watch.
DB=k8s_events_simulate
PSQL="psql -X -q -v ON_ERROR_STOP=1 -d $DB"
if psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null 2>"$TMP/pg.err" \
	&& $PSQL -c "CREATE EXTENSION k8s_events" >/dev/null 2>>"$TMP/pg.err"; then
	python3 -c "
import json, sys
for src, dst in (('$TMP/gwc', '$TMP/gwc.json'), ('$TMP/gwe', '$TMP/gwe.json')):
    json.dump([json.loads(l) for l in open(src)], open(dst, 'w'))"
	cols="uid, resource_version, event_time, first_time, namespace, kind, name, type, reason, message, count,
	      occurrences, source_component, source_host, reporting_controller, reporting_instance, action"
	out=$($PSQL -At 2>&1 <<SQL
SET k8s_events.retention = '0';
\set f \`cat $TMP/core.json\`
SELECT 'c1', * FROM k8s_events.ingest_report(:'f'::jsonb, 'c1');
\set f \`cat $TMP/ev.json\`
SELECT 'c2', * FROM k8s_events.ingest_report(:'f'::jsonb, 'c2');
\set f \`cat $TMP/gwc.json\`
SELECT 'w1', * FROM k8s_events.ingest_report(:'f'::jsonb, 'w1');
\set f \`cat $TMP/gwe.json\`
SELECT 'w2', * FROM k8s_events.ingest_report(:'f'::jsonb, 'w2');
SELECT 'list-diff', count(*) FROM ((SELECT $cols FROM k8s_events.events WHERE cluster = 'c1'
    EXCEPT ALL SELECT $cols FROM k8s_events.events WHERE cluster = 'c2')
  UNION ALL (SELECT $cols FROM k8s_events.events WHERE cluster = 'c2'
    EXCEPT ALL SELECT $cols FROM k8s_events.events WHERE cluster = 'c1')) AS d;
SELECT 'watch-diff', count(*) FROM ((SELECT $cols FROM k8s_events.events WHERE cluster = 'w1'
    EXCEPT ALL SELECT $cols FROM k8s_events.events WHERE cluster = 'w2')
  UNION ALL (SELECT $cols FROM k8s_events.events WHERE cluster = 'w2'
    EXCEPT ALL SELECT $cols FROM k8s_events.events WHERE cluster = 'w1')) AS d;
SELECT 'shapes', count(*) FILTER (WHERE event ? 'series'), count(*) FILTER (WHERE event ? 'deprecatedCount')
FROM k8s_events.events WHERE cluster IN ('c2', 'w2');
SQL
)
	rc=$?
	echo "$out" >"$TMP/ingest.out"
	N=$(python3 -c "import json; print(len(json.load(open('$TMP/core.json'))['items']))")
	WN=$(grep -c '"type":"\(ADDED\|MODIFIED\)"' "$TMP/gwc")
	WD=$(grep -c '"type":"DELETED"' "$TMP/gwc")
	WB=$(grep -c '"type":"BOOKMARK"' "$TMP/gwc")
	check_cmd "ingest_report of the core list: all $N stored" grep -qx "c1|$N|$N|0|0|0|0|0|0" "$TMP/ingest.out"
	check_cmd "ingest_report of the events.k8s.io list: all $N stored" grep -qx "c2|$N|$N|0|0|0|0|0|0" "$TMP/ingest.out"
	check_cmd "ingest_report of both watches: $WN stored, $WD DELETED, $WB bookmarks, each" \
		bash -c "grep -qx 'w1|$((WN + WD + WB))|$WN|0|0|0|$WD|$WB|0' '$TMP/ingest.out' && grep -qx 'w2|$((WN + WD + WB))|$WN|0|0|0|$WD|$WB|0' '$TMP/ingest.out'"
	check_cmd "the list's rows are the same through both APIs (every decoded column)" \
		bash -c "test $rc = 0 && grep -qx 'list-diff|0' '$TMP/ingest.out'"
	check_cmd "the watch's rows are the same through both APIs (every decoded column)" grep -qx 'watch-diff|0' "$TMP/ingest.out"
	check_cmd "... among them Events with series and with deprecatedCount ($(grep '^shapes|' "$TMP/ingest.out"))" \
		grep -qx 'shapes|[1-9][0-9]*|[1-9][0-9]*' "$TMP/ingest.out"
	[ "$rc" = 0 ] || sed 's/^/# /' "$TMP/ingest.out"
	psql -X -q -d postgres -c "DROP DATABASE $DB" >/dev/null 2>&1
else
	notok "a PostgreSQL server with k8s_events for the ingest comparison (PGHOST=${PGHOST:-unset}): $(head -3 "$TMP/pg.err")"
fi
stop_sim "$G_PID"

# ---------------------------------------------------------------- H: Retry-After, the request log, close_watches
launch_sim h --speed 0 --start "$FROZEN" --initial-events 20 --seed 4
HU=$URL
curl -s -X POST "$HU/simulator/faults?fail_status=429&fail_count=2&retry_after=7" >/dev/null
check_cmd "retry_after=7: a 429 says Retry-After: 7 (header and details.retryAfterSeconds)" $H retry "$HU" /api/v1/events 429 7
check_cmd "... the second too" $H retry "$HU" "/apis/events.k8s.io/v1/events?limit=1" 429 7
check_cmd "... then 200" test "$(code_of "$HU/api/v1/events?limit=1")" = 200
curl -s -X POST "$HU/simulator/faults?fail_status=503&fail_count=1&retry_after=0" >/dev/null
check_cmd "retry_after=0: a 503 without Retry-After or details" $H retry "$HU" /api/v1/events 503 0
# One request in 100 s: the one after the first is refused however slow the machine is
# (at 1 a second, a second between the two, under a sanitizer or load, refilled the bucket).
curl -s -X POST "$HU/simulator/faults?rate_limit=0.01&retry_after=3" >/dev/null
code_of "$HU/api/v1/events?limit=1" >/dev/null
check_cmd "rate_limit: its 429 carries retry_after (3)" $H retry "$HU" /api/v1/events 429 3
curl -s -X POST "$HU/simulator/faults?reset=true" >/dev/null
check_cmd "reset puts retry_after back to 1" test "$(jget "$HU/simulator/faults" retry_after)" = 1
check_cmd "a bad retry_after is refused" test "$(code_of -X POST "$HU/simulator/faults?retry_after=-2")" = 400
SEQ=$(jget "$HU/simulator/stats" requests_logged)
code_of "$HU/api/v1/namespaces/shop/events?limit=5" >/dev/null
curl -s -X POST "$HU/simulator/faults?fail_status=429&fail_count=1&retry_after=2" >/dev/null
code_of "$HU/apis/events.k8s.io/v1/events?watch=1&resourceVersion=5&timeoutSeconds=1" >/dev/null
curl -sN "$HU/apis/events.k8s.io/v1/events?watch=1&timeoutSeconds=1" >/dev/null
code_of "$HU/api/v1/namespaces/shop/events/nope" >/dev/null
code_of "$HU/api/v1/pods" >/dev/null
check_cmd "/simulator/requests: every API request after since, with verb, API, arguments and the status answered" $H requests "$HU" "$SEQ" \
"GET list v1 /api/v1/namespaces/shop/events limit=5 200|GET watch events.k8s.io/v1 /apis/events.k8s.io/v1/events watch=1&resourceVersion=5&timeoutSeconds=1 429|GET watch events.k8s.io/v1 /apis/events.k8s.io/v1/events watch=1&timeoutSeconds=1 200|GET get v1 /api/v1/namespaces/shop/events/nope  404|GET other - /api/v1/pods  404"
check_cmd "a bad since is refused" test "$(code_of "$HU/simulator/requests?since=x")" = 400
curl -sN "$HU/api/v1/events?watch=1&resourceVersion=$(jget "$HU/simulator/stats" resource_version)" >"$TMP/hw" 2>&1 &
P1=$!
# Until the simulator counts the watch (on a busy machine curl can take longer than 0.5 s).
for _ in $(seq 100); do
	CLOSED=$(jget "$HU/simulator/stats" watches_active)
	[ "$CLOSED" -ge 1 ] 2>/dev/null && break
	sleep 0.1
done
T0=$(date +%s%N) # after jget: python's start is no part of what close_watches takes
R=$(curl -s -X POST "$HU/simulator/close_watches")
wait $P1
rc=$?
check_cmd "close_watches ends an open watch cleanly at once (curl exit $rc, $(( ($(date +%s%N) - T0) / 1000000 )) ms, $R)" \
	bash -c "test $rc = 0 && test $(( ($(date +%s%N) - T0) / 1000000 )) -lt 2000 && test '$R' = '{\"closed\":$CLOSED}'"
check_cmd "GET close_watches is 405" test "$(code_of "$HU/simulator/close_watches")" = 405
curl -sN "$HU/api/v1/events?watch=1&timeoutSeconds=1" >"$TMP/hw2"
check_cmd "a watch started after close_watches runs normally" test "$(wc -l <"$TMP/hw2")" = 20
stop_sim "$SIM_PID"

echo "# $failures failed"
[ "$failures" = 0 ]
