// The live stream: one EventSource for the page (Server-Sent Events from /api/stream; the
// browser reconnects with Last-Event-ID by itself). Views subscribe with a filter.

let source = null;
const listeners = new Set();
const resetListeners = new Set();

function open() {
  if (source) return;
  source = new EventSource("/api/stream");
  source.addEventListener("event", (e) => {
    let ev;
    try { ev = JSON.parse(e.data); } catch { return; }
    for (const fn of listeners) fn(ev);
  });
  // The server no longer has what this page missed: reload the views.
  source.addEventListener("reset", () => { for (const fn of resetListeners) fn(); });
}

export function subscribe(fn, onReset) {
  open();
  listeners.add(fn);
  if (onReset) resetListeners.add(onReset);
  return () => { listeners.delete(fn); if (onReset) resetListeners.delete(onReset); };
}

// Whether an event from the stream matches the view's filters (the page filters; the server sends all).
export function matches(ev, f) {
  if (f.cluster && ev.cluster !== f.cluster) return false;
  if (f.namespace && ev.namespace !== f.namespace) return false;
  if (f.kind && ev.kind !== f.kind) return false;
  if (f.name && ev.name !== f.name) return false;
  if (f.type && ev.type !== f.type) return false;
  if (f.reason && ev.reason !== f.reason) return false;
  // What the node reported (a pod's kubelet), and the Node itself.
  if (f.node && ev.host !== f.node && !(ev.kind === "Node" && ev.name === f.node)) return false;
  if (f.q) {
    const q = f.q.toLowerCase();
    if (![ev.name, ev.reason, ev.message].some((x) => x && x.toLowerCase().includes(q))) return false;
  }
  return true;
}
