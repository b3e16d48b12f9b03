// One call: the statechart with the current step marked, the timeline, errors, details, and
// stepping through the history. Views arrive over server-sent events while the call runs.
import { errorLink, formatClock, formatMs, formatSeconds, h, statusBadge } from "./common.js";
import { getJson, liveEvents } from "./session.js";
import { drawStatechart, markStatechart } from "./statechart.js";

const $ = (id) => document.getElementById(id);
const callSid = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() ?? "");
const state = { view: null, step: -1, follow: true, selected: null };

$("title").textContent = callSid;
document.title = `switchboard · ${callSid}`;
$("exports").append(
  h("a", { href: `/viz/api/calls/${callSid}/history.json`, download: "" }, "history.json"),
  h("a", { href: `/viz/api/calls/${callSid}/stately.json`, download: "" }, "Stately inspector messages"),
);

function show(message) {
  $("message").hidden = false;
  $("message").textContent = message;
}

/** Sets the step shown; stepping away from the newest stops following the live call. */
function goTo(step) {
  const steps = state.view?.steps ?? [];
  if (!steps.length) return;
  state.step = Math.max(0, Math.min(steps.length - 1, step));
  state.follow = state.step === steps.length - 1;
  render();
}

function marks() {
  const steps = state.view.steps;
  const current = steps[state.step];
  const visited = new Set();
  const taken = new Set();
  for (const s of steps.slice(0, state.step + 1)) {
    for (const id of [...s.active, ...s.passed]) visited.add(id);
    for (const id of s.taken) taken.add(id);
  }
  const verb = current?.verb ? `${current.verb.name} #${current.verb.index}` : null;
  return { active: new Set(current?.active ?? []), visited, taken, verb };
}

function renderFacts(v) {
  const rows = [
    ["CallSid", v.callSid],
    ["region", v.edge ? `${v.region} (edge ${v.edge})` : v.region],
    ["from → to", `${v.from ?? "?"} → ${v.to ?? "?"}`],
    ["status", statusBadge(v.status, v.live)],
    ["started", formatClock(v.startedAt)],
    ["duration", v.duration === null ? (v.live ? "running" : "—") : formatSeconds(v.duration)],
  ];
  if (v.errorCode) rows.push(["error", errorLink(v.errorCode)]);
  if (v.parentCallSid)
    rows.push(["parent call", h("a", { href: `/viz/calls/${v.parentCallSid}` }, v.parentCallSid)]);
  for (const c of v.children) rows.push(["child leg", h("a", { href: `/viz/calls/${c}` }, c)]);
  if (!v.channelCaptured) rows.push(["channel", "not recorded: verbs are read from the TwiML"]);
  $("facts").replaceChildren(...rows.flatMap(([k, val]) => [h("dt", {}, k), h("dd", {}, val)]));
}

function renderNotes(v) {
  const notes = v.entries.filter((e) => e.kind === "error" || e.kind === "warning");
  $("notes").replaceChildren(
    ...(notes.length
      ? notes.map((e) =>
          h(
            "li",
            { class: `kind ${e.kind}` },
            `${e.kind} `,
            errorLink(e.detail.code),
            h("span", { class: "muted" }, ` ${e.detail.message}`),
          ),
        )
      : [h("li", { class: "muted" }, "none")]),
  );
}

function renderTimeline(v) {
  const start = v.startedAt ?? 0;
  $("timeline").replaceChildren(
    ...v.entries.map((e, i) => {
      const isCurrent = e.kind === "state" && e.step === state.step;
      const live = isCurrent && v.live && e.step === v.steps.length - 1;
      const took = live ? formatMs(Date.now() - e.at) : formatMs(e.durationMs);
      return h(
        "li",
        {
          "data-kind": e.kind,
          "data-step": e.step,
          class: [
            e.step > state.step ? "future" : "",
            isCurrent ? "current" : "",
            state.selected === i ? "selected" : "",
          ]
            .filter(Boolean)
            .join(" "),
          onclick: () => {
            state.selected = i;
            goTo(e.step);
          },
        },
        h("span", { class: "t" }, `+${((e.at - start) / 1000).toFixed(3)}`),
        h("span", { class: `kind ${e.kind}` }, e.kind),
        h("span", { class: "what", title: e.text }, e.text),
        h("span", { class: "dur" }, took),
      );
    }),
  );
  // Scroll the list itself (scrollIntoView would scroll the whole page too).
  const list = $("timeline");
  const current = list.querySelector("li.current");
  if (current) {
    const top = current.offsetTop;
    if (top < list.scrollTop || top > list.scrollTop + list.clientHeight - current.offsetHeight) {
      list.scrollTop = top - list.clientHeight / 2;
    }
  }
}

function pre(value) {
  return h("pre", {}, typeof value === "string" ? value : JSON.stringify(value, null, 2));
}

function renderDetail(v) {
  const e = state.selected === null ? null : v.entries[state.selected];
  if (!e) {
    const step = v.steps[state.step];
    $("detail").replaceChildren(
      h("div", {}, `step ${state.step + 1}: `, h("span", { class: "mono" }, step?.label ?? "")),
      step
        ? pre({ event: step.event, status: step.status, verb: step.verb, documentUrl: step.documentUrl })
        : "",
    );
    return;
  }
  const parts = [h("div", { class: `kind ${e.kind}` }, e.text)];
  if (e.kind === "webhook") {
    const { request, response } = e.detail;
    const params = Object.entries(request.params)
      .map(([k, val]) => `${k}=${val}`)
      .join("\n");
    parts.push(h("h2", {}, "Request"), pre(`${request.method} ${request.url}\n\n${params}`));
    parts.push(h("h2", {}, "Response"));
    if (e.detail.error) {
      parts.push(
        h(
          "div",
          { class: "kind error" },
          "Twilio code ",
          errorLink(e.detail.error.code),
          ` ${e.detail.error.message}`,
        ),
      );
    }
    if (response && response.status !== null) {
      parts.push(
        h(
          "div",
          { class: "mono", "data-response-status": response.status },
          `${response.status} ${response.contentType ?? ""} in ${formatMs(response.durationMs)}`,
        ),
      );
      if (response.headers) {
        const headers = Object.entries(response.headers).map(([k, val]) => `${k}: ${val}`);
        parts.push(h("h2", {}, "Response headers"), pre(headers.join("\n")));
      }
      const body = response.twiml ?? response.body;
      parts.push(
        h("h2", {}, response.truncated ? "Response body (the first 64 KB)" : "Response body"),
        pre(body === undefined || body === "" ? "(no body)" : body),
      );
    } else if (response) parts.push(h("div", { class: "muted" }, "no response: the request got no answer"));
    else parts.push(h("div", { class: "muted" }, "waiting for the response…"));
  } else if (e.kind === "state") {
    parts.push(
      h(
        "div",
        { class: "cause" },
        "caused by: ",
        h("span", { class: "mono" }, e.detail.cause ?? e.detail.event),
      ),
      pre({
        event: e.detail.event,
        status: e.detail.status,
        verb: e.detail.verb,
        documentUrl: e.detail.documentUrl,
      }),
    );
    if (e.detail.document) parts.push(h("h2", {}, "TwiML document"), pre(e.detail.document));
  } else if (e.kind === "error" || e.kind === "warning") {
    parts.push(h("div", {}, "Twilio code ", errorLink(e.detail.code)), pre(e.detail.message));
  } else parts.push(pre(e.detail));
  $("detail").replaceChildren(...parts);
}

function render() {
  const v = state.view;
  if (!v) return;
  const steps = v.steps;
  $("status").replaceChildren(statusBadge(v.status, v.live));
  const current = steps[state.step];
  $("where").textContent = current
    ? `step ${state.step + 1} of ${steps.length}: ${current.label} [${current.status}]`
    : "no steps yet";
  $("where").dataset.step = String(state.step);
  $("where").dataset.label = current?.label ?? "";
  $("first").disabled = $("prev").disabled = state.step <= 0;
  $("next").disabled = $("latest").disabled = state.step >= steps.length - 1;
  markStatechart($("chart"), marks());
  renderTimeline(v);
  renderFacts(v);
  renderNotes(v);
  renderDetail(v);
}

function applyFit() {
  const svg = $("chart");
  svg.style.width = $("fit").checked ? "100%" : `${svg.getAttribute("width")}px`;
  svg.style.height = "auto";
}

$("first").addEventListener("click", () => goTo(0));
$("prev").addEventListener("click", () => goTo(state.step - 1));
$("next").addEventListener("click", () => goTo(state.step + 1));
$("latest").addEventListener("click", () => goTo(Infinity));
$("fit").addEventListener("change", applyFit);
document.addEventListener("keydown", (e) => {
  if (e.target instanceof HTMLInputElement && e.target.type !== "checkbox") return;
  const steps = { ArrowLeft: state.step - 1, ArrowRight: state.step + 1, Home: 0, End: Infinity }[e.key];
  if (steps === undefined) return;
  e.preventDefault();
  state.selected = null;
  goTo(steps);
});

const layout = await getJson("/viz/api/statechart");
drawStatechart($("chart"), layout);
applyFit();

const source = liveEvents(`/viz/api/calls/${callSid}/events`);
source.addEventListener("view", (e) => {
  state.view = JSON.parse(e.data);
  if (state.follow) state.step = state.view.steps.length - 1;
  document.body.dataset.live = String(state.view.live);
  render();
});
source.addEventListener("end", () => source.close());
source.addEventListener("missing", () => {
  source.close();
  show(`No inspection events for ${callSid} in any region (they are kept for 24 hours).`);
});
source.addEventListener("failure", (e) => {
  source.close();
  show(`Cannot follow this call: ${JSON.parse(e.data).message}`);
});
// The current step's duration counts up while the call runs.
setInterval(() => {
  if (state.view?.live && state.follow) renderTimeline(state.view);
}, 1000);
