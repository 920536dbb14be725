// The page: header controls (cluster, range, theme), then the view the URL names.
import "./style.css";
import { api } from "./api.js";
import { h, clear, fill } from "./dom.js";
import { renderOverview } from "./overview.js";
import { renderResource } from "./resource.js";
import { current, go, listen, PRESETS, isoSeconds, rangeMs } from "./state.js";

const app = document.getElementById("app");
const errorBox = document.getElementById("error");
let controller = null;
let clusters = [];

function applyTheme() {
  const saved = localStorage.getItem("k8s-events-theme");
  if (saved) document.documentElement.dataset.theme = saved;
  else delete document.documentElement.dataset.theme;
}

function header(state) {
  const sel = document.getElementById("cluster");
  fill(sel, ...clusters.map((c) => h("option", { value: c.cluster, text: c.cluster, selected: c.cluster === state.cluster })));
  const ranges = document.getElementById("ranges");
  fill(ranges, ...PRESETS.map(([label, from]) => h("button", {
    type: "button", "aria-pressed": String(state.from === from && state.to === "now"),
    onclick: () => go({ from, to: "now", sel: undefined, offset: undefined }), text: label,
  })));
  const [a, b] = rangeMs(state);
  document.getElementById("from").value = isoSeconds(a).slice(0, 16);
  document.getElementById("to").value = isoSeconds(b).slice(0, 16);
}

async function render() {
  if (controller) controller.abort();
  controller = new AbortController();
  const { signal } = controller;
  const state = current();
  errorBox.hidden = true;
  if (!state.cluster && clusters.length) {
    go({ cluster: clusters[0].cluster }, { replace: true });
    return;
  }
  header(state);
  clear(app);
  document.title = state.page === "resource" ? `${state.kind} ${state.name} · k8s-events` : `${state.cluster || ""} · k8s-events`;
  if (!clusters.length) {
    app.append(h("p", { class: "muted", text: "No events stored yet. Start a watcher (k8s_events.add_cluster) or load a dump (k8s-events load)." }));
    return;
  }
  if (state.page === "resource") {
    if (!state.kind || !state.name) { app.append(h("p", { class: "error", text: "A resource is named by cluster, namespace, kind and name." })); return; }
    await renderResource(app, state, signal);
  } else {
    renderOverview(app, state, signal);
  }
}

function wire() {
  document.getElementById("cluster").addEventListener("change", (e) => go({ cluster: e.target.value, namespace: undefined, kind: undefined, name: undefined, reason: undefined, offset: undefined, page: "overview" }));
  document.getElementById("apply-range").addEventListener("click", () => {
    const f = document.getElementById("from").value;
    const t = document.getElementById("to").value;
    if (f && t) go({ from: `${f}:00Z`, to: `${t}:00Z`, sel: undefined, offset: undefined });
  });
  document.getElementById("theme").addEventListener("click", () => {
    const dark = document.documentElement.dataset.theme === "dark" ||
      (!document.documentElement.dataset.theme && matchMedia("(prefers-color-scheme: dark)").matches);
    localStorage.setItem("k8s-events-theme", dark ? "light" : "dark");
    applyTheme();
    render();
  });
  // Links inside the page change the view without reloading it.
  document.addEventListener("click", (e) => {
    const a = e.target.closest("a[data-nav]");
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    window.history.pushState(null, "", a.getAttribute("href"));
    render();
    app.focus();
  });
  listen(render);
}

async function start() {
  applyTheme();
  wire();
  // A URL that names its cluster renders at once; the list of clusters fills in beside it.
  const named = current().cluster;
  if (named) clusters = [{ cluster: named }];
  const rendered = named ? render() : null;
  try {
    clusters = await api("clusters");
    if (named && !clusters.some((c) => c.cluster === named)) clusters.push({ cluster: named });
  } catch (e) {
    errorBox.textContent = `The server did not answer: ${e.message}`;
    errorBox.hidden = false;
  }
  if (rendered) { await rendered; header(current()); } else render();
}

start();
