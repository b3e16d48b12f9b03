// Draws the laid-out statechart (from /viz/api/statechart) as SVG, and marks the current, visited
// and taken parts for one step of a call's history. Coordinates come from elkjs on the server.
const SVG = "http://www.w3.org/2000/svg";

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Draws the chart into `svg` once; later steps only change classes. */
export function drawStatechart(svg, layout) {
  svg.replaceChildren();
  const pad = 8;
  svg.setAttribute("viewBox", `${-pad} ${-pad} ${layout.width + 2 * pad} ${layout.height + 2 * pad}`);
  svg.setAttribute("width", String(layout.width + 2 * pad));
  const defs = el("defs");
  for (const kind of ["plain", "taken"]) {
    const marker = el("marker", {
      id: `arrow-${kind}`,
      viewBox: "0 0 10 10",
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: "auto-start-reverse",
    });
    marker.append(el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: `arrowhead ${kind}` }));
    defs.append(marker);
  }
  svg.append(defs);

  const info = new Map(layout.chart.states.map((s) => [s.id, s]));
  const boxes = el("g", { class: "states" });
  // Parents first, so children are drawn on top of them.
  for (const box of layout.states) {
    const s = info.get(box.id);
    if (!s) continue;
    const compound = layout.chart.states.some((c) => c.parent === s.id);
    const g = el("g", {
      class: `state ${s.type}${compound ? " compound" : ""}`,
      "data-state-id": s.id,
      "data-depth": s.depth,
    });
    const title = el("title", {}, `${s.id}${s.invokes.length ? ` — invokes ${s.invokes.join(", ")}` : ""}`);
    g.append(title);
    g.append(el("rect", { x: box.x, y: box.y, width: box.width, height: box.height, rx: 8 }));
    if (s.type === "final") {
      g.append(
        el("rect", {
          class: "final-ring",
          x: box.x + 3,
          y: box.y + 3,
          width: box.width - 6,
          height: box.height - 6,
          rx: 6,
        }),
      );
    }
    const labelY = compound ? box.y + 17 : box.y + (s.invokes.length ? 18 : box.height / 2 + 4);
    const labelX = compound ? box.x + 10 : box.x + box.width / 2;
    g.append(el("text", { x: labelX, y: labelY, class: compound ? "name left" : "name" }, s.key));
    if (s.id === layout.verbHolder) {
      // The verb the call runs now, filled in for each step (markStatechart).
      g.append(el("text", { x: box.x + box.width - 10, y: labelY, class: "verb-now" }));
    }
    if (s.invokes.length && !compound) {
      g.append(el("text", { x: labelX, y: labelY + 15, class: "invoke" }, s.invokes.join(", ")));
    }
    if (s.initial) {
      const child = layout.states.find((b) => b.id === s.initial);
      if (child) {
        g.append(el("circle", { class: "initial", cx: child.x - 8, cy: child.y + 8, r: 4 }));
      }
    }
    boxes.append(g);
  }
  svg.append(boxes);

  // Paths first, then every label on a backing of its own, so no line runs through a label's text.
  const edges = el("g", { class: "transitions" });
  const labels = el("g", { class: "transition-labels" });
  for (const t of layout.transitions) {
    if (t.points.length < 2) continue;
    const g = el("g", { class: "transition", "data-transition-id": t.id });
    const d = t.points.map((p, i) => `${i ? "L" : "M"} ${p.x} ${p.y}`).join(" ");
    g.append(el("path", { d, "marker-end": "url(#arrow-plain)" }));
    edges.append(g);
    if (t.labelBox) {
      const lg = el("g", { class: "transition", "data-transition-id": t.id });
      const { x, y, width, height } = t.labelBox;
      lg.append(el("rect", { class: "label-bg", x, y, width, height, rx: 2 }));
      const text = el("text", { class: "label" });
      t.label.split("\n").forEach((line, i) => {
        text.append(el("tspan", { x: x + 3, y: y + 11 + i * 13 }, line));
      });
      lg.append(text);
      labels.append(lg);
    }
  }
  svg.append(edges, labels);
}

/**
 * Marks the states of `active` (current), `visited` and the transitions of `taken`, and names the
 * verb the call runs (`verb`, e.g. "Pause #1") on the state that holds the verb state.
 */
export function markStatechart(svg, { active, visited, taken, verb }) {
  for (const t of svg.querySelectorAll("text.verb-now")) t.textContent = verb ? `▸ ${verb}` : "";
  for (const g of svg.querySelectorAll("[data-state-id]")) {
    const id = g.getAttribute("data-state-id");
    g.classList.toggle("active", active.has(id));
    g.classList.toggle("visited", visited.has(id) && !active.has(id));
  }
  for (const g of svg.querySelectorAll("[data-transition-id]")) {
    const on = taken.has(g.getAttribute("data-transition-id"));
    g.classList.toggle("taken", on);
    g.querySelector("path")?.setAttribute("marker-end", `url(#arrow-${on ? "taken" : "plain"})`);
  }
}
