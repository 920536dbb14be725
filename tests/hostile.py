#!/usr/bin/env python3
"""Hostile names for tests/test_security.sh: Events whose every name is made to break
quoting, encodings, terminals or indexes, a fake API server that serves them, and the
comparison of what was stored with what was sent.

  hostile.py names DIR                   the hostile cluster names, as files DIR/cluster-N
  hostile.py events DIR TIME             the Events (of TIME), as each path takes them: DIR/list.json
                                         (an API server's LIST), DIR/watch.ndjson (its WATCH),
                                         DIR/ingest.json and DIR/nul.json (for ingest()),
                                         DIR/dump.ndjson (for k8s-events load), and DIR/expect.json:
                                         what must be stored, and which uids rejected, per path
  hostile.py api DIR PORTFILE            serve DIR/list.json and DIR/watch.ndjson as a
                                         kube-apiserver's LIST and WATCH of /api/v1/events, on
                                         127.0.0.1, until killed; writes the port to PORTFILE.
                                         Under /fail/, a 503 whose body is hostile bytes
  hostile.py compare DIR ROWS.json CLUSTER [watch]
                                         ROWS.json is the hex dump of k8s_events.events (see
                                         test_security.sh); exit 0 when every Event (those of the
                                         watch too, with "watch") is stored once, byte for byte
  hostile.py rejected DIR REJECTS.json PATH
                                         REJECTS.json is the hex dump of k8s_events.rejected; exit
                                         0 when it holds exactly the Events PATH must reject, each
                                         once, with a reason that is readable text on one line
"""
import json
import os
import random
import re
import select
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

# Incompressible text, so that PostgreSQL's TOAST compression cannot shrink it below the
# 2,704-byte limit of a btree entry.
rng = random.Random(13)
def noise(n):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))

HOSTILE = [
    "it's",
    'say "hi"',
    "both ' and \" and `",
    "dots.in.a.name.",
    "..",
    "back\\slash\\",
    "\\x00 \\u0000 \\n",
    "rtl \u202egnp.exe\u202c \u200fmark",
    "emoji \U0001F680\U0001F525 zwj \U0001F469\u200d\U0001F4BB",
    "combining e\u0301 a\u0308 \u0338",
    "\ufeffbom and nbsp\u00a0",
    "'); DROP TABLE k8s_events.events; --",
    "$$; DROP SCHEMA k8s_events CASCADE; $$",
    "%s%n%x%p%d",
    "line\nbreak\ttab\rreturn",
    "\u001b[2J\u001b[31mred\u001b[0m \u0007bell",
    "<script>alert(1)</script>",
    '{"json": [1, 2]}',
    "x" * 253,
    noise(253),
]
# Longer than the store indexes (253 bytes, a Kubernetes name's limit): rejected, kept whole.
TOO_LONG = {"name": noise(254), "reason": noise(4000), "namespace": noise(100000)}
CLUSTERS = [
    "it's \"prod\"",
    "c'); DROP TABLE k8s_events.events; --",
    "dots.and\\back\\slash.\u202e\U0001F680",
    "line\nbreak %s%n",
]
NUL_NAME = "nul\u0000byte"


def event(uid, rv, value, when):
    """An Event with value in every name it has."""
    return {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {"name": f"ev-{rv}", "namespace": value, "uid": uid, "resourceVersion": str(rv)},
        "involvedObject": {"kind": value, "namespace": value, "name": value, "uid": uid},
        "reason": value,
        "message": "message: " + value,
        "type": "Warning",
        "source": {"component": value, "host": value},
        "reportingComponent": value,
        "reportingInstance": value,
        "action": value,
        "count": 1,
        "firstTimestamp": when,
        "lastTimestamp": when,
    }


def uid_of(i):
    return "5ec0%04x-0000-4000-8000-%012x" % (i, i)


def cmd_names(out):
    for i, c in enumerate(CLUSTERS):
        write(os.path.join(out, f"cluster-{i}"), c)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def cmd_events(out, when):
    """The Events, as each path takes them (see the docstring), and what must become of them."""
    listed = [event(uid_of(i), 100 + i, v, when) for i, v in enumerate(HOSTILE)]
    watched = [event(uid_of(1000 + i), 1000 + i, v, when) for i, v in enumerate(HOSTILE)]
    # What cannot be stored: a NUL (\u0000 in the JSON; a text column cannot hold one), and
    # fields longer than the store indexes.
    nul_listed = event(uid_of(2000), 2000, NUL_NAME, when)
    nul_watched = event(uid_of(2001), 2001, NUL_NAME, when)
    long_ones = []
    for i, (field, v) in enumerate(sorted(TOO_LONG.items())):
        ev = event(uid_of(2002 + i), 2002 + i, "long", when)
        if field == "reason":
            ev["reason"] = v
        else:
            ev["involvedObject"][field] = v
        long_ones.append(ev)
    # Bytes that are not UTF-8 inside an Event: not JSON at all, kept raw (as hex).
    not_utf8 = json.dumps(event(uid_of(2010), 2010, "NOTUTF8", when)).encode().replace(b"NOTUTF8", b"\xff\xfe")
    # A uid that is no UUID, quoted in the reason: an emoji across the quote's cut, then
    # control characters.
    bad_uid = event(uid_of(2011), 2011, "bad uid", when)
    bad_uid["metadata"]["uid"] = "a" * 63 + "\U0001F680\n\u001b[2J"

    def dumps(v):
        return json.dumps(v, ensure_ascii=False)

    # The API server's LIST holds a NUL and a too long name among the storable Events: one
    # bad Event must not spoil its page.
    write(os.path.join(out, "list.json"), dumps({"kind": "EventList", "apiVersion": "v1",
                                                  "metadata": {"resourceVersion": "999"},
                                                  "items": listed[:5] + [nul_listed] + listed[5:] + long_ones[:1] + [bad_uid]}))
    frames = [dumps({"type": "ADDED", "object": e}).encode() for e in watched]
    frames.insert(3, dumps({"type": "ADDED", "object": nul_watched}).encode())
    frames.insert(6, dumps({"type": "ADDED", "object": long_ones[1]}).encode())
    frames.insert(9, dumps({"type": "ADDED", "object": long_ones[2]}).encode())
    frames.insert(12, b'{"type": "ADDED", "object": ' + not_utf8 + b"}")
    frames.append(dumps({"type": "BOOKMARK", "object": {"kind": "Event", "metadata": {"resourceVersion": "3000"}}}).encode())
    write(os.path.join(out, "watch.ndjson"), b"\n".join(frames) + b"\n")
    # ingest(jsonb): PostgreSQL's jsonb refuses a NUL itself, so that one goes alone.
    write(os.path.join(out, "ingest.json"), dumps(listed + long_ones + [bad_uid]))
    write(os.path.join(out, "nul.json"), json.dumps(nul_listed))
    # k8s-events load: all of it, one item a line.
    write(os.path.join(out, "dump.ndjson"), b"\n".join(
        [dumps(e).encode() for e in listed + [nul_listed] + long_ones + [bad_uid]] + [not_utf8]) + b"\n")
    # Rejects are known by their Event's metadata.name, which their payload holds as it is.
    names = lambda evs: [e["metadata"]["name"] for e in evs]
    write(os.path.join(out, "expect.json"), json.dumps({
        "list": listed, "watch": watched,
        "rejected": {"ingest": names(long_ones + [bad_uid]),
                     "load": names([nul_listed] + long_ones + [bad_uid]) + ["ev-2010"],
                     "watch": names([nul_listed, long_ones[0], bad_uid, nul_watched] + long_ones[1:]) + ["ev-2010"]}}))


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        if u.path.startswith("/fail/"):
            # An API server's error body is any bytes: escape sequences, a newline, a byte
            # that is not UTF-8, and a character across the 200th byte, where messages cut it.
            body = b"\x1b[31mred\x1b[0m\nnot ok - forged\r\xff"
            body += b"x" * (198 - len(body)) + "\U0001F680 and more".encode()
            self.send_response(503)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if u.path != "/api/v1/events":
            self.send_error(404)
            return
        if q.get("watch") == ["1"] or q.get("watch") == ["true"]:
            body = self.server.watch
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            # Past the last frame (a bookmark at 3000): nothing more, held open until the
            # client goes (it reads EOF) or a minute passes.
            if q.get("resourceVersion", ["0"])[0] in ("999", "0"):
                self.wfile.write(body)
                self.wfile.flush()
            select.select([self.connection], [], [], 60)
            self.close_connection = True
            return
        body = self.server.list
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def cmd_api(d, portfile):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    srv.daemon_threads = True
    with open(os.path.join(d, "list.json"), "rb") as f:
        srv.list = f.read()
    with open(os.path.join(d, "watch.ndjson"), "rb") as f:
        srv.watch = f.read()
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


COLUMNS = {  # column: where the Event has it
    "namespace": ("involvedObject", "namespace"),
    "kind": ("involvedObject", "kind"),
    "name": ("involvedObject", "name"),
    "reason": ("reason",),
    "message": ("message",),
    "type": ("type",),
    "source_component": ("source", "component"),
    "source_host": ("source", "host"),
    "reporting_controller": ("reportingComponent",),
    "reporting_instance": ("reportingInstance",),
    "action": ("action",),
}


def cmd_compare(d, rows_file, cluster, *flags):
    expect = json.load(open(os.path.join(d, "expect.json"), encoding="utf-8"))
    events = expect["list"] + (expect["watch"] if "watch" in flags else [])
    rows = json.load(open(rows_file, encoding="utf-8")) or []
    problems = []
    by_uid = {}
    for r in rows:
        by_uid.setdefault(r["uid"], []).append(r)
    for ev in events:
        uid = ev["metadata"]["uid"]
        got = by_uid.pop(uid, [])
        if len(got) != 1:
            problems.append(f"{uid}: {len(got)} rows")
            continue
        r = got[0]
        if bytes.fromhex(r["cluster"]) != cluster.encode("utf-8"):
            problems.append(f"{uid}: cluster {bytes.fromhex(r['cluster'])!r}")
        for col, path in COLUMNS.items():
            want = ev
            for p in path:
                want = want[p]
            if bytes.fromhex(r[col]) != want.encode("utf-8"):
                problems.append(f"{uid}: {col} {bytes.fromhex(r[col])[:60]!r} is not {want.encode()[:60]!r}")
        if json.loads(bytes.fromhex(r["event"]).decode("utf-8")) != ev:
            problems.append(f"{uid}: the stored event differs from the one sent")
    for uid in by_uid:
        problems.append(f"{uid}: stored but never sent")
    print(f"{len(rows)} rows for {len(events)} Events; {len(problems)} differences")
    for p in problems[:10]:
        print("  " + p)
    sys.exit(1 if problems else 0)


REASONS = re.compile(r"holds a NUL character \(\\u0000\), which PostgreSQL cannot store"
                     r"|bytes long: the store indexes it, and takes at most 253 bytes"
                     r"|unable to decode byte 0xff"
                     r'|metadata\.uid "a{63}\.\.\." is not a UUID$')


def cmd_rejected(d, rejects_file, path):
    # The worker and `k8s-events watch` read the same API server.
    expect = json.load(open(os.path.join(d, "expect.json"), encoding="utf-8"))["rejected"][
        "watch" if path == "worker" else path]
    rows = json.load(open(rejects_file, encoding="utf-8")) or []
    problems = []
    found = []
    for r in rows:
        error = bytes.fromhex(r["error"]).decode("utf-8")  # raises if not UTF-8
        payload = bytes.fromhex(r["payload"]).decode("utf-8")
        if payload.startswith("\\x"):  # kept as hex: not text
            payload = bytes.fromhex(payload[2:]).decode("utf-8", "replace")
        uids = [u for u in expect if f'"name": "{u}"' in payload or f'"name":"{u}"' in payload]
        found += uids
        if len(uids) != 1:
            problems.append(f"a reject of none of the expected Events: {error[:80]!r}")
        if not REASONS.search(error) or re.search(r"[\x00-\x1f\x7f-\x9f]", error):
            problems.append(f"reason {error[:120]!r}")
    for u in expect:
        if found.count(u) != 1:
            problems.append(f"{u} rejected {found.count(u)} times")
    print(f"{len(rows)} rejected for {len(expect)} expected; {len(problems)} problems")
    for p in problems[:10]:
        print("  " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "names":
        cmd_names(*args)
    elif cmd == "events":
        cmd_events(args[0], args[1])
    elif cmd == "api":
        cmd_api(*args)
    elif cmd == "compare":
        cmd_compare(*args)
    elif cmd == "rejected":
        cmd_rejected(*args)
    else:
        sys.exit("usage: see the docstring")
