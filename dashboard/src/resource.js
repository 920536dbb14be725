// One resource (cluster + namespace + kind + name, never a name alone): its stacked chart
// by reason or type with rollouts and node trouble on the same axis, the resources its
// events relate it to, and its events as a table (the chart's data), exportable as CSV.
import { api } from "./api.js";
import { stackedBars } from "./chart.js";
import { h, clear, fill, fmtTime, fmtCount } from "./dom.js";
import { subscribe, matches } from "./live.js";
import { chartSeries, sumHistograms } from "./series.js";
import { go, href, rangeMs, isoSeconds } from "./state.js";

const BUCKETS = ["auto", "1m", "10m", "1h", "1d"];
const TABLE_ROWS = 100;
const MAX_FOLDED = 30;

export async function renderResource(app, state, signal) {
  const obj = { cluster: state.cluster, namespace: state.namespace, kind: state.kind, name: state.name };
  const head = h("section", { class: "panel res-head", "aria-label": "Resource" });
  const chartBox = h("section", { class: "panel chart", "aria-label": "Occurrences over time" });
  const relBox = h("section", { class: "panel related", "aria-label": "Related resources" });
  const tableBox = h("section", { class: "panel events", "aria-label": "Events" });
  app.append(head, h("div", { class: "overview-grid" }, h("div", { class: "main-col" }, chartBox, tableBox), relBox));

  let summary;
  try {
    summary = await api("resource", obj, { signal });
  } catch (e) {
    if (!signal.aborted) head.append(h("p", { class: "error", text: e.status === 404 ? `No events stored for ${obj.kind} ${obj.namespace ? obj.namespace + "/" : ""}${obj.name} in cluster ${obj.cluster}.` : e.message }));
    return;
  }
  const related = summary.related || [];
  const withRelated = state.related === "1" && related.length > 0;
  // Folded in: the first MAX_FOLDED related (a ReplicaSet's newest pods first), each its own requests.
  const objects = [obj, ...(withRelated ? related.slice(0, MAX_FOLDED).map((r) => ({ cluster: obj.cluster, namespace: r.kind === "Node" ? nodeNamespace(r) : obj.namespace, kind: r.kind, name: r.name })) : [])];

  head.append(
    h("h1", {}, h("span", { class: "kind", text: summary.kind }), " ", h("span", { class: "muted", text: summary.namespace ? `${summary.namespace}/` : "" }), summary.name),
    h("p", { class: "stats" },
      h("span", { text: `${fmtCount(summary.normal)} Normal` }), " · ",
      h("span", { class: "warn-count", text: `${fmtCount(summary.warning)} Warning` }), " · ",
      h("span", { text: `first seen ${fmtTime(summary.first_event_time)}` }), " · ",
      h("span", { text: `last ${fmtTime(summary.last_event_time)}` }), " · ",
      h("span", { text: `cluster ${summary.cluster}` })),
    h("ul", { class: "chips", "aria-label": "Reasons" }, Object.entries(summary.reasons || {}).sort((a, b) => b[1] - a[1]).map(([r, n]) => h("li", { text: `${r} ${fmtCount(n)}` }))),
  );

  relBox.append(h("h2", { text: "Related" }));
  if (!related.length) relBox.append(h("p", { class: "muted", text: "No related resource in the events." }));
  else {
    relBox.append(h("label", { class: "field" }, h("input", { type: "checkbox", id: "include-related", checked: withRelated, onchange: (e) => go({ related: e.target.checked ? "1" : undefined, sel: undefined }) }),
      related.length > MAX_FOLDED ? ` include the first ${MAX_FOLDED} related in the chart and table` : " include related in the chart and table"));
    relBox.append(h("ul", { class: "rel-list" }, related.map((r) => h("li", {},
      h("span", { class: "muted", text: `${r.relation.replace("_", " ")} ` }),
      h("a", { href: href({ page: "resource", cluster: obj.cluster, namespace: r.kind === "Node" ? nodeNamespace(r) : obj.namespace, kind: r.kind, name: r.name, from: state.from, to: state.to }), "data-nav": true, text: `${r.kind} ${r.name}` })))));
  }

  await loadChart(chartBox, state, obj, objects, signal);
  await loadTable(tableBox, state, objects, signal);
  const stop = subscribe((ev) => {
    if (state.to === "now" && objects.some((o) => matches(ev, o))) {
      clearTimeout(stop.timer);
      stop.timer = setTimeout(() => { loadChart(chartBox, state, obj, objects, signal); loadTable(tableBox, state, objects, signal); }, 1000);
    }
  });
  signal.addEventListener("abort", stop);
}

// A Node's events carry their own namespace (usually default); the summary of the pod's
// node is looked up by the server for overlays; links use default.
function nodeNamespace() { return "default"; }

async function loadChart(box, state, obj, objects, signal) {
  const by = state.by === "type" ? "type" : "reason";
  const bucket = BUCKETS.includes(state.bucket) ? state.bucket : "auto";
  const controls = h("div", { class: "panel-head" }, h("h2", { text: "Occurrences" }),
    h("div", { class: "toggle", role: "group", "aria-label": "Stack by" },
      ["reason", "type"].map((b) => h("button", { type: "button", "aria-pressed": String(by === b), onclick: () => go({ by: b }, { replace: true }), text: `by ${b}` }))),
    h("label", { class: "field" }, "Buckets ", h("select", { id: "bucket", onchange: (e) => go({ bucket: e.target.value === "auto" ? undefined : e.target.value, sel: undefined }) },
      BUCKETS.map((b) => h("option", { value: b, text: b, selected: b === bucket })))));
  const plot = h("div", { class: "chart-box" });
  const legend = h("ul", { class: "legend" });
  try {
    const bars = Math.max(24, Math.min(480, Math.floor((box.clientWidth || 900) / 6)));
    const first = await api("histogram", { ...obj, from: state.from, to: state.to, bucket, bars }, { signal });
    const step = first.bucket_seconds;
    const named = { 60: "1m", 300: "5m", 600: "10m", 900: "15m", 1800: "30m", 3600: "1h", 10800: "3h", 21600: "6h", 43200: "12h", 86400: "1d", 604800: "7d" }[step];
    // Related objects with the same range and bucket, added to the object's own.
    const others = await Promise.all(objects.slice(1).map((o) =>
      api("histogram", { ...o, from: isoSeconds(first.from * 1000), to: isoSeconds(first.to * 1000), bucket: named }, { signal }).catch(() => null)));
    const hist = sumHistograms([first, ...others.filter((x) => x && x.times.length === first.times.length)]);
    const overlays = await api("overlays", { ...obj, from: isoSeconds(first.from * 1000), to: isoSeconds(first.to * 1000) }, { signal }).catch(() => null);
    const marks = [];
    const notes = [];
    if (overlays) {
      // A rollout is where a ReplicaSet first scales: one marker each, every scaling listed.
      const firstScale = new Map();
      for (const s of overlays.scaling) {
        notes.push(["rollout", s.event_time, s.message]);
        const t = Date.parse(s.event_time);
        if (s.replica_set && (!firstScale.has(s.replica_set) || t < firstScale.get(s.replica_set))) firstScale.set(s.replica_set, t);
      }
      for (const t of firstScale.values()) marks.push({ time: t, color: "#1c7ed6", dashed: true, kind: "rollout" });
      for (const i of overlays.images) notes.push(["image", i.first_time, `${i.replica_set}: ${i.image} (${i.pods} pods)`]);
      for (const t of overlays.node_trouble) { marks.push({ time: Date.parse(t.event_time), color: "#c92a2a", kind: "node" }); notes.push(["node", t.event_time, `${t.node} ${t.reason}: ${t.message || ""}`]); }
    }
    const series = chartSeries(hist, by);
    fill(box, controls, plot, legend);
    stackedBars(plot, {
      times: hist.times, series, bucketSeconds: step, overlays: marks,
      onPick: (t) => go({ sel: String(t), bucket: named }),
      onZoom: (a, b) => go({ from: isoSeconds(a), to: isoSeconds(b), sel: undefined }),
    });
    legend.append(...series.map((s) => h("li", {}, h("span", { class: "swatch", style: { background: s.color } }), `${s.label} ${fmtCount(s.total)}`)));
    if (marks.some((m) => m.kind === "rollout")) legend.append(h("li", {}, h("span", { class: "swatch rollout" }), "rollout (a ReplicaSet's first scaling)"));
    if (marks.some((m) => m.kind === "node")) legend.append(h("li", {}, h("span", { class: "swatch trouble" }), `node ${overlays.node} trouble`));
    if (notes.length) {
      box.append(h("details", { class: "overlay-notes" }, h("summary", { text: `${notes.length} rollout and node events in this range` }),
        h("ul", {}, notes.sort((a, b) => a[1].localeCompare(b[1])).map(([k, t, m]) => h("li", { class: k }, h("time", { datetime: t, text: fmtTime(t) }), " ", h("span", { text: m }))))));
    }
  } catch (e) {
    if (!signal.aborted) fill(box, controls, h("p", { class: "error", text: e.message }));
  }
}

async function loadTable(box, state, objects, signal) {
  let from = state.from;
  let to = state.to;
  let title = "Events";
  if (state.sel) {
    const t = Number(state.sel) * 1000;
    const step = { "1m": 60, "5m": 300, "10m": 600, "15m": 900, "30m": 1800, "1h": 3600, "3h": 10800, "6h": 21600, "12h": 43200, "1d": 86400, "7d": 604800 }[state.bucket] || 3600;
    from = isoSeconds(t);
    to = isoSeconds(t + step * 1000);
    title = `Events from ${fmtTime(from)} to ${fmtTime(to)}`;
  }
  try {
    const lists = await Promise.all(objects.map((o) => api("events", { ...o, from, to, limit: TABLE_ROWS }, { signal })
      .then((r) => r.items.map((e) => ({ ...e, object: `${o.kind}/${o.name}` }))).catch(() => [])));
    const rows = lists.flat().sort((a, b) => (a.event_time < b.event_time ? 1 : a.event_time > b.event_time ? -1 : 0)).slice(0, TABLE_ROWS);
    const many = objects.length > 1;
    fill(box, 
      h("div", { class: "panel-head" }, h("h2", { text: title }),
        state.sel ? h("button", { type: "button", onclick: () => go({ sel: undefined }), text: "Show the whole range" }) : null,
        h("button", { type: "button", id: "csv", onclick: () => downloadCsv(rows, many), text: "Export CSV" })),
      h("div", { class: "table-wrap" }, h("table", { class: "ev-table" },
        h("thead", {}, h("tr", {}, ["Time", "Type", "Reason", many ? "Object" : null, "Message", "Count", "Source"].filter(Boolean).map((c) => h("th", { scope: "col", text: c })))),
        h("tbody", {}, rows.length ? rows.map((e) => h("tr", { class: e.type === "Warning" ? "warn" : "" },
          h("td", {}, h("time", { datetime: e.event_time, text: fmtTime(e.event_time) })),
          h("td", { text: e.type || "" }),
          h("td", { class: "reason", text: e.reason || "" }),
          many ? h("td", { text: e.object }) : null,
          h("td", { class: "message", text: e.message || "" }),
          h("td", { class: "num", text: fmtCount(e.count) }),
          h("td", { text: e.source || "" }))) : h("tr", {}, h("td", { colspan: 7, class: "muted", text: "No events in this range." }))))),
      rows.length === TABLE_ROWS ? h("p", { class: "muted", text: `The newest ${TABLE_ROWS}; narrow the range (drag on the chart) for older ones.` }) : null,
    );
  } catch (e) {
    if (!signal.aborted) fill(box, h("p", { class: "error", text: e.message }));
  }
}

// The table as shown, as CSV; a value a spreadsheet would run as a formula gets a leading '.
function downloadCsv(rows, many) {
  const cols = ["event_time", "type", "reason", ...(many ? ["object"] : []), "message", "count", "occurrences", "source"];
  const cell = (v) => {
    let s = v === null || v === undefined ? "" : String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return `"${s.replace(/"/g, '""')}"`;
  };
  const text = [cols.map(cell).join(","), ...rows.map((r) => cols.map((c) => cell(r[c])).join(","))].join("\r\n") + "\r\n";
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const a = h("a", { href: url, download: "events.csv" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export { rangeMs };
