// The pages' fetch layer: every request for data goes through here, so a page without a session
// (never logged in, logged out, expired) sends the browser to the login form instead of failing.

/** Sends the browser to the login form; it comes back here after logging in. */
export function toLogin() {
  location.assign(`/viz/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}

/** GETs JSON from the visualizer's API; on 401 it goes to the login form (and never resolves). */
export async function getJson(path) {
  const res = await fetch(path, { credentials: "same-origin" });
  if (res.status === 401) {
    toLogin();
    return new Promise(() => {});
  }
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

/**
 * Server-sent events from the visualizer's API. A stream the server refuses (the browser gives up
 * on it) is asked about: without a session the page goes to the login form; otherwise the call is
 * not there for this login, and the source gets a `missing` event.
 */
export function liveEvents(path) {
  const source = new EventSource(path);
  source.addEventListener("error", async () => {
    if (source.readyState !== EventSource.CLOSED) return; // reconnecting on its own
    const res = await fetch("/viz/api/session", { credentials: "same-origin" });
    if (res.status === 401) toLogin();
    else source.dispatchEvent(new MessageEvent("missing", { data: "{}" }));
  });
  return source;
}

/** Fills the header's login box: who is logged in, and a button that logs out. */
async function showViewer() {
  const who = document.getElementById("who");
  const logout = document.getElementById("logout");
  if (!who || !logout) return;
  const res = await fetch("/viz/api/session", { credentials: "same-origin" });
  if (!res.ok) return;
  const session = await res.json();
  who.textContent = session.operator ? "operator · all accounts" : session.user;
  logout.hidden = false;
  logout.addEventListener("click", async () => {
    await fetch("/viz/api/logout", { method: "POST", credentials: "same-origin" });
    toLogin();
  });
}

void showViewer();
