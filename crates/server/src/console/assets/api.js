// Calls to the server: the console's own routes (/console/api) and the native API (/v1), both
// authenticated by the session cookie. Requests that change something carry the session's CSRF
// token in X-CSRF-Token. Errors are problem documents (RFC 9457), thrown as ApiError.

let csrfToken = null;
let onSignedOut = () => {};

export function setCsrfToken(token) {
  csrfToken = token;
}

/** Called when the server says the session is gone (401), so the page can ask to sign in. */
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }

  /** The message the server gave for one field (problem `errors[]`), if any. */
  fieldMessage(field) {
    const found = (this.problem.errors || []).find((e) => e.field === field);
    return found ? found.message : null;
  }

  get fields() {
    return this.problem.errors || [];
  }
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith('/console/api/session')) onSignedOut();
    throw new ApiError(response.status, data || { title: response.statusText, detail: text });
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const put = (path, body) => api('PUT', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

/** Path segments are user data: always encode them. */
export const seg = (value) => encodeURIComponent(value);
