// Every view is a URL: the page's whole state is the path and the query string, so a view
// can be bookmarked, shared and reached again with back and forward.

const KEYS = ["cluster", "namespace", "kind", "name", "type", "reason", "node", "q", "from", "to",
  "bucket", "by", "sort", "offset", "sel", "related"];

export const PRESETS = [
  ["1h", "now-1h"], ["6h", "now-6h"], ["24h", "now-24h"], ["7d", "now-7d"], ["30d", "now-30d"], ["120d", "now-120d"],
];

export function current() {
  const q = new URLSearchParams(window.location.search);
  const s = { page: window.location.pathname === "/resource" ? "resource" : "overview" };
  for (const k of KEYS) if (q.has(k)) s[k] = q.get(k);
  s.from = s.from || "now-24h";
  s.to = s.to || "now";
  return s;
}

export function href(state) {
  const q = new URLSearchParams();
  for (const k of KEYS) if (state[k] !== undefined && state[k] !== null && state[k] !== "") q.set(k, state[k]);
  const path = state.page === "resource" ? "/resource" : "/";
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

let onChange = () => {};

export function listen(fn) {
  onChange = fn;
  window.addEventListener("popstate", () => onChange());
}

// A new view (push: back returns here), or the same view adjusted (replace).
export function go(changes, { replace = false } = {}) {
  const next = { ...current(), ...changes };
  for (const k of Object.keys(changes)) if (changes[k] === undefined) delete next[k];
  const url = href(next);
  if (url === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  onChange();
}

// The range as the API takes it, and in milliseconds for the chart.
export function rangeMs(state, now = Date.now()) {
  return [toMs(state.from, now), toMs(state.to, now)];
}

function toMs(v, now) {
  const m = /^now(?:-(\d+)([dhms]))?$/.exec(v || "");
  if (m) {
    const mult = { d: 86400e3, h: 3600e3, m: 60e3, s: 1e3 }[m[2]] || 0;
    return now - (m[1] ? Number(m[1]) * mult : 0);
  }
  return new Date(v).getTime();
}

export function isoSeconds(ms) {
  return new Date(Math.round(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}
