// Small helpers shared by the visualizer's pages.

/** Builds an element: h("td", { class: "x" }, "text", otherNode). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) node.append(c);
  return node;
}

/** "4.2 s", "1 m 05 s", or "—". */
export function formatSeconds(s) {
  if (s === null || s === undefined || Number.isNaN(Number(s))) return "—";
  const n = Number(s);
  if (n < 60) return `${n < 10 ? n.toFixed(1) : Math.round(n)} s`;
  const m = Math.floor(n / 60);
  return `${m} m ${String(Math.round(n % 60)).padStart(2, "0")} s`;
}

export function formatMs(ms) {
  if (ms === null || ms === undefined) return "";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function formatClock(at) {
  if (!at) return "—";
  const d = new Date(at);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

export function statusBadge(status, live) {
  return h(
    "span",
    { class: `badge ${live ? "live" : status}`, "data-status": status },
    live ? `${status} · live` : status,
  );
}

/** Twilio's page for an error or warning code. */
export function errorLink(code) {
  return h(
    "a",
    { href: `https://www.twilio.com/docs/api/errors/${code}`, target: "_blank", rel: "noreferrer" },
    String(code),
  );
}
