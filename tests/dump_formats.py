#!/usr/bin/env python3
"""tests/dump_formats.py DIR/NAME.ndjson: the same Events (one JSON object a line) in every
format `k8s-events load` reads, beside it: NAME.array.json (a JSON array), NAME.list.json
(kubectl get events -o json: a List, indented), NAME.list.yaml (-o yaml), NAME.frames.ndjson
(recorded watch frames), NAME.eventrouter.log and NAME.wrapped.log (eventrouter's stdout
lines, bare and wrapped), NAME.list.json.gz (a gzip-compressed EventList). Used by
tests/test_load.sh and tests/test_valgrind.sh."""
import gzip, json, sys
src = sys.argv[1]
base = src[:-len(".ndjson")] if src.endswith(".ndjson") else src
events = [json.loads(l) for l in open(src)]
json.dump(events, open(f"{base}.array.json", "w"))
json.dump({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
           "items": events}, open(f"{base}.list.json", "w"), indent=4)
with open(f"{base}.frames.ndjson", "w") as f:
    for e in events:
        f.write(json.dumps({"type": "ADDED", "object": e}) + "\n")
with open(f"{base}.eventrouter.log", "w") as f:
    for e in events:
        f.write(json.dumps({"verb": "ADDED", "event": e}) + "\n")
with open(f"{base}.wrapped.log", "w") as f:
    for e in events:
        f.write(json.dumps({"eventrouter": {"verb": "UPDATED", "event": e, "old_event": e}}) + "\n")
with gzip.open(f"{base}.list.json.gz", "wt") as f:
    json.dump({"kind": "EventList", "apiVersion": "v1", "items": events}, f)
def yaml_scalar(v):
    if v is None: return "null"
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, (int, float)): return str(v)
    return json.dumps(v)  # a double-quoted YAML string
def yaml(v, indent):
    pad = " " * indent
    out = []
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, (dict, list)) and x:
                out.append(f"{pad}{k}:")
                out.extend(yaml(x, indent + 2))
            else:
                out.append(f"{pad}{k}: {yaml_scalar(x) if not isinstance(x, (dict, list)) else ('{}' if isinstance(x, dict) else '[]')}")
    else:
        for x in v:
            sub = yaml(x, indent + 2)
            out.append(f"{pad}- {sub[0].lstrip()}")
            out.extend(sub[1:])
    return out
with open(f"{base}.list.yaml", "w") as f:
    f.write("apiVersion: v1\nitems:\n" + "\n".join(yaml(events, 0)) + "\nkind: List\nmetadata:\n  resourceVersion: \"\"\n")
