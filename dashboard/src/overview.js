// The overview: filters, the cluster's stacked histogram, one row per resource, the live stream.
import { api } from "./api.js";
import { stackedBars } from "./chart.js";
import { h, clear, fill, fmtAgo, fmtTime, fmtCount } from "./dom.js";
import { subscribe, matches } from "./live.js";
import { chartSeries } from "./series.js";
import { go, href } from "./state.js";

const PAGE = 50;

export function renderOverview(app, state, signal) {
  const filters = h("form", { class: "filters", "aria-label": "Filters", onsubmit: (e) => e.preventDefault() });
  const chartBox = h("section", { class: "panel chart", "aria-label": "Occurrences over time" });
  const tableBox = h("section", { class: "panel resources", "aria-label": "Resources" });
  const liveBox = h("section", { class: "panel live", "aria-label": "Live events" });
  app.append(filters, h("div", { class: "overview-grid" }, h("div", { class: "main-col" }, chartBox, tableBox), liveBox));
  const common = { cluster: state.cluster, namespace: state.namespace, kind: state.kind, type: state.type, from: state.from, to: state.to };

  buildFilters(filters, state, signal);
  loadChart(chartBox, state, common, signal);
  loadTable(tableBox, state, signal);
  const stop = live(liveBox, state, () => {
    if (state.to === "now") { loadChart(chartBox, state, common, signal); loadTable(tableBox, state, signal); }
  });
  signal.addEventListener("abort", stop);
}

function select(label, key, value, options, onchange) {
  const id = `f-${key}`;
  const sel = h("select", { id, name: key, onchange: (e) => onchange(e.target.value) },
    h("option", { value: "", text: "any" }),
    options.map((o) => h("option", { value: o.value, text: o.label, selected: o.value === value })));
  if (value && !options.some((o) => o.value === value)) sel.append(h("option", { value, text: value, selected: true }));
  return h("label", { class: "field", for: id }, label, " ", sel);
}

async function buildFilters(form, state, signal) {
  let f = { namespaces: [], kinds: [], reasons: [] };
  try { f = await api("filters", { cluster: state.cluster, from: state.from, to: state.to }, { signal }); } catch (e) { if (signal.aborted) return; }
  const set = (k) => (v) => go({ [k]: v || undefined, offset: undefined });
  let timer;
  const node = h("input", {
    type: "search", id: "f-node", name: "node", value: state.node || "", placeholder: "node name",
    "aria-label": "Node: the resources a node reported events of",
    onchange: (e) => go({ node: e.target.value.trim() || undefined, offset: undefined }),
  });
  const text = h("input", {
    type: "search", id: "f-q", name: "q", value: state.q || "", placeholder: "name, reason or message",
    "aria-label": "Search name, reason or message",
    oninput: (e) => { clearTimeout(timer); timer = setTimeout(() => go({ q: e.target.value || undefined, offset: undefined }, { replace: true }), 300); },
  });
  fill(form, 
    select("Namespace", "namespace", state.namespace, f.namespaces.map((n) => ({ value: n, label: n })), set("namespace")),
    select("Kind", "kind", state.kind, f.kinds.map((k) => ({ value: k, label: k })), set("kind")),
    select("Type", "type", state.type, [{ value: "Normal", label: "Normal" }, { value: "Warning", label: "Warning" }], set("type")),
    select("Reason", "reason", state.reason, f.reasons.map((r) => ({ value: r.reason, label: `${r.reason} (${fmtCount(r.occurrences)})` })), set("reason")),
    h("label", { class: "field", for: "f-node" }, "Node ", node),
    h("label", { class: "field grow", for: "f-q" }, "Search ", text),
  );
}

async function loadChart(box, state, common, signal) {
  const by = state.by === "reason" ? "reason" : "type";
  const head = h("div", { class: "panel-head" }, h("h2", { text: "Occurrences" }),
    h("div", { class: "toggle", role: "group", "aria-label": "Stack by" },
      ["type", "reason"].map((b) => h("button", { type: "button", "aria-pressed": String(by === b), onclick: () => go({ by: b }, { replace: true }), text: `by ${b}` }))));
  const plot = h("div", { class: "chart-box" });
  const legend = h("ul", { class: "legend" });
  try {
    const bars = Math.max(24, Math.min(240, Math.floor((box.clientWidth || 900) / 8)));
    const hist = await api("histogram", { ...common, bars }, { signal });
    const series = chartSeries(hist, by);
    fill(box, head, plot, legend);
    stackedBars(plot, {
      times: hist.times, series, bucketSeconds: hist.bucket_seconds,
      onZoom: (a, b) => go({ from: new Date(a).toISOString().replace(/\.\d+Z$/, "Z"), to: new Date(b).toISOString().replace(/\.\d+Z$/, "Z") }),
    });
    legend.append(...series.map((s) => h("li", {}, h("span", { class: "swatch", style: { background: s.color } }), `${s.label} ${fmtCount(s.total)}`)));
    box.append(h("p", { class: "muted", text: `${fmtCount(hist.total)} occurrences, ${hist.bucket_seconds >= 3600 ? hist.bucket_seconds / 3600 + "-hour" : hist.bucket_seconds / 60 + "-minute"} buckets` }));
  } catch (e) {
    if (!signal.aborted) fill(box, head, h("p", { class: "error", text: e.message }));
  }
}

function spark(values) {
  const max = Math.max(1, ...values);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("viewBox", `0 0 ${values.length * 3} 20`);
  svg.setAttribute("aria-hidden", "true");
  values.forEach((v, i) => {
    if (!v) return;
    const r = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    const ht = Math.max(1, (v / max) * 20);
    r.setAttribute("x", i * 3);
    r.setAttribute("y", 20 - ht);
    r.setAttribute("width", 2);
    r.setAttribute("height", ht);
    svg.append(r);
  });
  return svg;
}

async function loadTable(box, state, signal) {
  const sort = state.sort === "warnings" ? "warnings" : "last";
  const offset = Number(state.offset || 0);
  const th = (label, key) => h("th", { scope: "col", "aria-sort": sort === key ? "descending" : "none" },
    h("button", { type: "button", class: "sort", onclick: () => go({ sort: key, offset: undefined }), text: label }));
  try {
    const res = await api("resources", {
      cluster: state.cluster, namespace: state.namespace, kind: state.kind, type: state.type, reason: state.reason,
      node: state.node, q: state.q, from: state.from, to: state.to, sort, limit: PAGE, offset, spark: 24,
    }, { signal });
    const rows = res.items.map((r) => {
      const link = href({ page: "resource", cluster: r.cluster, namespace: r.namespace, kind: r.kind, name: r.name, from: state.from, to: state.to });
      return h("tr", { class: r.range_warning > 0 ? "warn" : "" },
        h("td", { text: r.kind }),
        h("td", { text: r.namespace || "" }),
        h("td", {}, h("a", { href: link, "data-nav": true, class: "res-link", text: r.name })),
        h("td", { title: fmtTime(r.last_event_time), text: fmtAgo(r.last_event_time) }),
        h("td", { class: r.last_type === "Warning" ? "reason warn" : "reason", text: r.last_reason || "" }),
        h("td", { class: "message", title: r.last_message || "", text: r.last_message || "" }),
        h("td", { class: "num", text: fmtCount(r.range_normal) }),
        h("td", { class: "num warn-count", text: fmtCount(r.range_warning) }),
        h("td", {}, spark(r.spark)));
    });
    fill(box, 
      h("div", { class: "panel-head" }, h("h2", { text: "Resources" })),
      h("div", { class: "table-wrap" }, h("table", { class: "res-table" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Kind" }), h("th", { scope: "col", text: "Namespace" }),
          h("th", { scope: "col", text: "Name" }), th("Last seen", "last"), h("th", { scope: "col", text: "Last reason" }),
          h("th", { scope: "col", text: "Message" }), h("th", { scope: "col", class: "num", text: "Normal" }),
          th("Warnings", "warnings"), h("th", { scope: "col", text: "Activity" }))),
        h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 9, class: "muted", text: "No resource had events in this range." }))))),
      h("nav", { class: "pager", "aria-label": "Pages" },
        h("button", { type: "button", disabled: offset === 0, onclick: () => go({ offset: Math.max(0, offset - PAGE) || undefined }), text: "← Newer" }),
        h("span", { text: `${offset + 1}–${offset + res.items.length}` }),
        h("button", { type: "button", disabled: !res.has_more, onclick: () => go({ offset: offset + PAGE }), text: "Older →" })),
    );
  } catch (e) {
    if (!signal.aborted) fill(box, h("p", { class: "error", text: e.message }));
  }
}

function live(box, state, onNews) {
  let paused = false;
  let refresh = null;
  const list = h("ol", { class: "live-list", "aria-live": "polite" });
  const btn = h("button", { type: "button", "aria-pressed": "false", onclick: () => {
    paused = !paused;
    btn.setAttribute("aria-pressed", String(paused));
    btn.textContent = paused ? "Resume" : "Pause";
  }, text: "Pause" });
  fill(box, h("div", { class: "panel-head" }, h("h2", { text: "Live" }), btn), list);
  const filter = { cluster: state.cluster, namespace: state.namespace, kind: state.kind, type: state.type, reason: state.reason, node: state.node, q: state.q };
  return subscribe((ev) => {
    if (paused || !matches(ev, filter)) return;
    const link = href({ page: "resource", cluster: ev.cluster, namespace: ev.namespace, kind: ev.kind, name: ev.name });
    list.prepend(h("li", { class: ev.type === "Warning" ? "warn" : "" },
      h("time", { datetime: ev.event_time, text: fmtTime(ev.event_time).replace(/^.*, /, "") }),
      h("span", { class: "reason", text: ev.reason || "" }),
      h("a", { href: link, "data-nav": true, text: `${ev.kind}/${ev.name}` }),
      h("span", { class: "message", text: ev.message || "" })));
    while (list.childElementCount > 100) list.lastElementChild.remove();
    if (!refresh) refresh = setTimeout(() => { refresh = null; onNews(); }, 10000);
  }, onNews);
}
