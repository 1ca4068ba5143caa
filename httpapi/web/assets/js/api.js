// Calls to a node's /api/v1. base is "" for this node, or a peer's URL.

export class ApiError extends Error {
  constructor(status, problem, fallback) {
    const p = problem && typeof problem === 'object' ? problem : {};
    super(p.detail || p.title || fallback || `HTTP ${status}`);
    this.status = status;
    this.code = p.code || '';
    this.title = p.title || '';
  }
}

export async function api(base, path, { method = 'GET', body, timeout = 6000 } = {}) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeout);
  try {
    let res;
    try {
      res = await fetch(base + '/api/v1' + path, {
        method,
        headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctrl.signal,
        cache: 'no-store',
      });
    } catch (e) {
      throw new ApiError(0, null, ctrl.signal.aborted ? `${base || 'this node'}: no answer within ${timeout / 1000} s` : `${base || 'this node'}: unreachable (${e.message})`);
    }
    const ct = res.headers.get('Content-Type') || '';
    const data = ct.includes('json') ? await res.json().catch(() => null) : await res.text();
    if (!res.ok) throw new ApiError(res.status, data, typeof data === 'string' ? data.trim() : '');
    return data;
  } finally {
    clearTimeout(timer);
  }
}

/** The base URL to reach a node at: "" when it is this page's own node. */
export function baseOf(url) {
  if (!url) return '';
  try {
    const u = new URL(url, location.href);
    return u.origin === location.origin ? '' : u.origin;
  } catch {
    return '';
  }
}
