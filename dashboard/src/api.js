// The server's JSON API (loader/serve/api.h). Every call says what went wrong when it fails.

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? `${body.error}${body.parameter ? ` (${body.parameter})` : ""}: ${body.detail || ""}` : `HTTP ${status}`);
    this.status = status;
  }
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

export async function api(path, params = {}, { signal } = {}) {
  const resp = await fetch(`/api/${path}${query(params)}`, { signal, headers: { Accept: "application/json" } });
  let body = null;
  try { body = await resp.json(); } catch { /* not JSON */ }
  if (resp.status === 401) { window.location.assign("/login"); throw new ApiError(401, body); }
  if (!resp.ok) throw new ApiError(resp.status, body);
  return body;
}

export function apiUrl(path, params = {}) {
  return `/api/${path}${query(params)}`;
}
