// The login form: posts the AccountSid (or operator) and token, gets a session cookie, and goes
// back to the page that asked for the login.
const $ = (id) => document.getElementById(id);

/** Where to go after logging in: a visualizer page of this site only. */
function next() {
  const wanted = new URLSearchParams(location.search).get("next") ?? "/viz/";
  const url = new URL(wanted, location.origin);
  return url.origin === location.origin && url.pathname.startsWith("/viz/") && url.pathname !== "/viz/login"
    ? url.pathname + url.search
    : "/viz/";
}

function fail(message) {
  $("error").hidden = false;
  $("error").textContent = message;
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("error").hidden = true;
  const res = await fetch("/viz/api/login", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: $("user").value.trim(), token: $("token").value.trim() }),
  });
  if (res.ok) {
    location.assign(next());
    return;
  }
  const body = await res.json().catch(() => ({}));
  fail(body.error ?? `cannot log in (${res.status})`);
  $("token").select();
});

// Already logged in (a second tab, or the back button): straight on.
const session = await fetch("/viz/api/session", { credentials: "same-origin" });
if (session.ok) location.replace(next());
else $("user").focus();
