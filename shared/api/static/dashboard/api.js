// The JSON API as the dashboard calls it. Every URL is relative to the page (…/dashboard/), so the
// same files work under Function Compute's /2016-08-15/proxy/<service>/<function>/ prefix, behind a
// custom domain and on localcloud. The token lives in sessionStorage (this tab only) and travels in the
// Authorization header, never in a URL.

const TOKEN_KEY = "audiochain.token";
export const API_ROOT = new URL("../", document.baseURI);

export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }

  // "InvalidToken: the bearer token is wrong" (and the field, when the API named one).
  describe() {
    const where = this.field ? ` (field ${this.field})` : "";
    return `${this.code}: ${this.message}${where}`;
  }
}

// One line for any failure: the API's code and message, or what went wrong in the page itself.
export function describe(error) {
  return error instanceof ApiError ? error.describe() : String(error);
}

// What a view does with a failed call: a refused token signs out; anything else is shown in `line`.
export function report(error, line, onAuthFailure, prefix = "") {
  if (error.status === 401) return onAuthFailure(error);
  line.textContent = prefix + describe(error);
  line.hidden = false;
}

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function apiUrl(path, query = {}) {
  const url = new URL(path, API_ROOT);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  return url;
}

export function jobPath(jobId, tail = "") {
  return `v1/jobs/${encodeURIComponent(jobId)}${tail}`;
}

// One call: the parsed JSON answer, or an ApiError carrying the API's error code and message.
export async function call(method, path, { query = {}, token = storedToken() } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(apiUrl(path, query), { method, headers, cache: "no-store", credentials: "omit" });
  } catch (error) {
    throw new ApiError(0, "NetworkError", `the API did not answer (${error.message})`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: a proxy's error page, say. The status still tells what happened.
  }
  if (!response.ok) {
    const error = body && body.error;
    if (error && error.code) {
      const requestId = error.request_id ? ` [request ${error.request_id}]` : "";
      throw new ApiError(response.status, error.code, `${error.message}${requestId}`, error.field);
    }
    throw new ApiError(response.status, `HTTP${response.status}`, response.statusText || "request failed");
  }
  return body;
}
