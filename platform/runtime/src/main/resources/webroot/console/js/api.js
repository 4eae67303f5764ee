// The admin API as the console calls it: same-origin fetches with the session cookie, the anti-CSRF header on
// every write, JSON in and out, the API's error shape turned into an ApiError.

let csrf = null;
let csrfHeader = 'X-Tandem-CSRF';
let onSignedOut = () => {};

/** An answer of the API that is not 2xx. */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** @param {function} f called when the API answers 401 (the session ended) */
export function whenSignedOut(f) {
  onSignedOut = f;
}

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  if (method !== 'GET' && csrf) {
    headers[csrfHeader] = csrf;
  }
  const r = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = { text };
    }
  }
  if (!r.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiError(r.status, err.code || String(r.status), err.message || r.statusText, data);
  }
  return data;
}

function remember(s) {
  csrf = s && s.signedIn ? s.csrfToken : null;
  csrfHeader = (s && s.csrfHeader) || csrfHeader;
  return s;
}

/** @return the current session: {signedIn, expiresAt, csrfToken} */
export async function session() {
  return remember(await call('GET', '/console/session'));
}

/** Exchanges the admin token for the session cookie. */
export async function signIn(token) {
  return remember(await call('POST', '/console/session', { token }));
}

/** Clears the session cookie. */
export async function signOut() {
  await call('DELETE', '/console/session');
  csrf = null;
}

/** One admin API call; a 401 means the session ended. */
export async function api(method, path, body) {
  try {
    return await call(method, path, body);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      csrf = null;
      onSignedOut();
    }
    throw e;
  }
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const patch = (path, body) => api('PATCH', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);
