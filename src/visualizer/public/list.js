// The live call list: a snapshot, then upserts, over server-sent events; filtered in the page.
import { formatClock, formatSeconds, h, statusBadge } from "./common.js";
import { liveEvents } from "./session.js";

const calls = new Map();
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
  if (!q) return true;
  return [c.callSid, c.from, c.to, c.edge].some((v) => v?.toLowerCase().includes(q));
}

function duration(c) {
  if (!c.live) return formatSeconds(c.duration);
  return c.startedAt ? formatSeconds((Date.now() - c.startedAt) / 1000) : "—";
}

function render() {
  const rows = [...calls.values()].sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0)).filter(matches);
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
        h("td", { class: "status" }, statusBadge(c.status, c.live)),
        h("td", { class: "mono muted" }, c.state ?? "—"),
        h("td", { class: "mono duration" }, duration(c)),
      ),
    ),
  );
  $("empty").hidden = calls.size > 0;
  $("count").textContent = `${rows.length} of ${calls.size} calls`;
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
for (const id of ["search", "region", "status"]) $(id).addEventListener("input", render);
// Live calls' durations tick; only those cells change, so hovering and selecting are not disturbed.
setInterval(() => {
  for (const tr of document.querySelectorAll('#calls tr[data-live="true"]')) {
    const c = calls.get(tr.getAttribute("data-sid"));
    const cell = tr.querySelector(".duration");
    if (c && cell) cell.textContent = duration(c);
  }
}, 1000);
