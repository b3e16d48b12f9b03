// The live call list: a snapshot, then upserts, over server-sent events; filtered in the page. A
// search also asks the server, which searches every stored call, not only those the page holds.
import { formatClock, formatSeconds, h, statusBadge } from "./common.js";
import { liveEvents } from "./session.js";

const calls = new Map();
/** The server's answer for the current search: stored calls the page may not hold. */
const search = { q: "", calls: new Map(), complete: true, timer: undefined };
const regions = new Set();
const $ = (id) => document.getElementById(id);
const FAILED = new Set(["failed", "busy", "no-answer", "canceled"]);

function matches(c) {
  const q = $("search").value.trim().toLowerCase();
  const region = $("region").value;
  const status = $("status").value;
  if (region && c.region !== region) return false;
  if (status === "live" && !c.live) return false;
  if (status === "completed" && (c.live || c.status !== "completed")) return false;
  if (status === "failed" && !FAILED.has(c.status)) return false;
  if (status === "errors" && !(errorsOf(c) > 0)) return false;
  if (status === "warnings" && !(errorsOf(c) > 0 || c.warnings > 0)) return false;
  if (!q) return true;
  const digits = q.replace(/[^\d]/g, "");
  return (
    [c.callSid, c.from, c.to, c.edge, c.status].some((v) => v?.toLowerCase().includes(q)) ||
    (digits.length >= 3 &&
      digits.length === q.replace(/[\s()+-]/g, "").length &&
      [c.from, c.to].some((v) => v?.replace(/[^\d]/g, "").includes(digits)))
  );
}

/** Errors counted from its notifications; a stored error code counts when none were read. */
function errorsOf(c) {
  return Math.max(c.errors ?? 0, c.errorCode ? 1 : 0);
}

/** Errors and warnings reported against the call, as badges (none: nothing). */
function marks(c) {
  const out = [];
  const errors = errorsOf(c);
  if (errors > 0)
    out.push(
      h(
        "span",
        { class: "badge mark error", "data-errors": errors },
        `${errors} error${errors > 1 ? "s" : ""}`,
      ),
    );
  if (c.warnings > 0)
    out.push(
      h(
        "span",
        { class: "badge mark warning", "data-warnings": c.warnings },
        `${c.warnings} warning${c.warnings > 1 ? "s" : ""}`,
      ),
    );
  return out;
}

function askServer() {
  clearTimeout(search.timer);
  const q = $("search").value.trim();
  if (!q) {
    search.q = "";
    search.calls = new Map();
    render();
    return;
  }
  search.timer = setTimeout(async () => {
    const res = await fetch(`/viz/api/calls/search?q=${encodeURIComponent(q)}`);
    if (!res.ok || $("search").value.trim() !== q) return;
    const data = await res.json();
    search.q = q;
    search.calls = new Map(data.calls.map((c) => [c.callSid, c]));
    search.complete = data.complete;
    render();
  }, 200);
}

function duration(c) {
  if (!c.live) return formatSeconds(c.duration);
  return c.startedAt ? formatSeconds((Date.now() - c.startedAt) / 1000) : "—";
}

function render() {
  const q = $("search").value.trim();
  // The page's own calls are the freshest; the server adds the stored ones it does not hold.
  const all = new Map(search.q === q ? search.calls : []);
  for (const [sid, c] of calls) all.set(sid, c);
  const rows = [...all.values()].sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0)).filter(matches);
  const body = document.querySelector("#calls tbody");
  body.replaceChildren(
    ...rows.map((c) =>
      h(
        "tr",
        { "data-sid": c.callSid, "data-live": c.live ? "true" : "false" },
        h("td", { class: "mono muted" }, formatClock(c.startedAt)),
        h("td", { class: "mono" }, h("a", { href: `/viz/calls/${c.callSid}` }, c.callSid)),
        h("td", {}, c.region),
        h("td", {}, c.edge ?? "—"),
        h("td", { class: "mono" }, c.from ?? "—"),
        h("td", { class: "mono" }, c.to ?? "—"),
        h("td", { class: "status" }, statusBadge(c.status, c.live), ...marks(c)),
        h("td", { class: "mono muted" }, c.state ?? "—"),
        h("td", { class: "mono duration" }, duration(c)),
      ),
    ),
  );
  $("empty").hidden = calls.size > 0;
  $("count").textContent = !q
    ? `${rows.length} of ${calls.size} calls`
    : search.q !== q
      ? "searching every stored call…"
      : `${rows.length} matching of every stored call${search.complete ? "" : " (the newest shown)"}`;
}

function updateRegions(list) {
  for (const r of list) {
    if (regions.has(r)) continue;
    regions.add(r);
    $("region").append(h("option", { value: r }, r));
  }
}

const source = liveEvents("/viz/api/calls/events");
source.addEventListener("open", () => {
  $("connection").textContent = "live";
  $("connection").className = "badge live";
});
source.addEventListener("error", () => {
  $("connection").textContent = "reconnecting…";
  $("connection").className = "badge";
});
source.addEventListener("calls", (e) => {
  const data = JSON.parse(e.data);
  calls.clear();
  for (const c of data.calls) calls.set(c.callSid, c);
  updateRegions(data.regions);
  render();
});
source.addEventListener("upsert", (e) => {
  const data = JSON.parse(e.data);
  for (const c of data.calls) calls.set(c.callSid, c);
  updateRegions(data.regions);
  render();
});
for (const id of ["region", "status"]) $(id).addEventListener("input", render);
$("search").addEventListener("input", () => {
  render();
  askServer();
});
// Live calls' durations tick; only those cells change, so hovering and selecting are not disturbed.
setInterval(() => {
  for (const tr of document.querySelectorAll('#calls tr[data-live="true"]')) {
    const c = calls.get(tr.getAttribute("data-sid"));
    const cell = tr.querySelector(".duration");
    if (c && cell) cell.textContent = duration(c);
  }
}, 1000);
