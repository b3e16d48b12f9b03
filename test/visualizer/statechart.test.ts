// The statechart comes from the machine definition itself, and each reported step maps back onto it.
import { describe, expect, it } from "vitest";
import { createMachine } from "xstate";
import { callMachine } from "../../machines/call.machine.js";
import { layoutStatechart } from "../../src/visualizer/layout.js";
import { ANY_STATE, statechartOf, transitionLabel } from "../../src/visualizer/statechart.js";
import { StepResolver } from "../../src/visualizer/steps.js";

const chart = statechartOf(callMachine);
const edge = (source: string, target: string) =>
  chart.transitions.find((t) => t.source === source && t.target === target);

describe("the statechart read from the call machine", () => {
  it("has the six top-level states in order, and every child state of the definition", () => {
    const top = chart.states.filter((s) => s.depth === 1).map((s) => s.key);
    expect(top).toEqual([
      "arriving",
      "routed",
      "fetching-webhook",
      "executing-twiml",
      "storing",
      "completed",
    ]);
    const verbs = Object.keys(callMachine.root.states["executing-twiml"]?.states ?? {});
    const children = chart.states.filter((s) => s.parent === "call.executing-twiml").map((s) => s.key);
    expect(children).toEqual(verbs);
    expect(chart.states.find((s) => s.key === "fetching-webhook")?.invokes).toEqual(["fetchTwiml"]);
    expect(chart.states.find((s) => s.key === "executing-twiml")?.initial).toBe("call.executing-twiml.verb");
  });

  it("merges parallel transitions and names their effects, events and guards, no label twice", () => {
    expect(transitionLabel(edge("call.executing-twiml.verb", "call.storing") ?? fail())).toBe(
      "runVerb done [isHangupOutcome | isRejectOutcome | isDocumentDone], error [isDocumentDone]",
    );
    // A verb's end runs the next verb in the same state: an edge of its own to itself.
    expect(transitionLabel(edge("call.executing-twiml.verb", "call.executing-twiml.verb") ?? fail())).toBe(
      "runVerb done, error",
    );
    // Only the ways that can happen are drawn: a call just answered needs no answer.
    expect(edge("call.executing-twiml.answering", "call.executing-twiml.answering")).toBeUndefined();
    expect(transitionLabel(edge("call.storing.waiting", "call.storing.writing") ?? fail())).toBe(
      "retryDelay done",
    );
    expect(transitionLabel(edge(ANY_STATE, "call.storing") ?? fail())).toBe(
      "call.limit [guard], call.timeLimit [guard], channel.hangup, control.twiml [isDocumentDone], control.end [guard]",
    );
    // Events a state ignores (storing swallows hang-ups) are no edges.
    expect(chart.transitions.some((t) => t.source === "call.storing")).toBe(false);
    const labels = chart.transitions.map(transitionLabel);
    expect(labels.filter((l, i) => labels.indexOf(l) !== i)).toEqual([]);
  });

  it("lays the six states out in one row, children inside their parents, within 1440 px", async () => {
    const layout = await layoutStatechart(chart);
    expect(layout.states).toHaveLength(chart.states.length);
    const box = (id: string) => layout.states.find((s) => s.id === id) ?? fail();
    const row = chart.states.filter((s) => s.depth === 1).map((s) => box(s.id));
    const middles = new Set(row.map((b) => Math.round(b.y + b.height / 2)));
    expect(middles.size).toBe(1);
    row.slice(1).forEach((b, i) => {
      const a = row[i] ?? fail();
      expect(b.x).toBeGreaterThan(a.x + a.width);
    });
    const parent = box("call.executing-twiml");
    const child = box("call.executing-twiml.verb");
    expect(child.x).toBeGreaterThan(parent.x);
    expect(child.x + child.width).toBeLessThan(parent.x + parent.width);
    expect(child.y).toBeGreaterThan(parent.y);
    expect(layout.verbHolder).toBe("call.executing-twiml");
    expect(layout.transitions.every((t) => t.points.length >= 2)).toBe(true);
    // The page's chart panel at 1440 x 900 holds it at full size.
    expect(layout.width).toBeLessThan(1390);
    expect(layout.height).toBeLessThan(560);
    // No label lies over another.
    const boxes = layout.transitions.flatMap((t) => (t.labelBox ? [t.labelBox] : []));
    const overlapping = boxes.filter((a, i) =>
      boxes.some(
        (b, j) =>
          i !== j &&
          a.x < b.x + b.width &&
          b.x < a.x + a.width &&
          a.y < b.y + b.height &&
          b.y < a.y + a.height,
      ),
    );
    expect(overlapping).toEqual([]);
  });
});

describe("mapping reported steps onto the chart", () => {
  const resolver = new StepResolver(chart);

  it("finds the active states of a state value", () => {
    expect(resolver.activeIds({ "executing-twiml": "verb" })).toEqual([
      "call.executing-twiml",
      "call.executing-twiml.verb",
    ]);
    expect(resolver.activeIds("completed")).toEqual(["call.completed"]);
  });

  it("follows a done event straight to the state its guards chose", () => {
    const toAnswer = resolver.resolve(
      ["call.fetching-webhook"],
      { "executing-twiml": "answering" },
      "xstate.done.actor.0.call.fetching-webhook",
    );
    expect(toAnswer).toMatchObject({
      passed: [],
      taken: [edge("call.fetching-webhook", "call.executing-twiml.answering")?.id],
    });
    const toVerb = resolver.resolve(
      ["call.fetching-webhook"],
      { "executing-twiml": "verb" },
      "xstate.done.actor.0.call.fetching-webhook",
    );
    expect(toVerb.taken).toEqual([edge("call.fetching-webhook", "call.executing-twiml.verb")?.id]);
  });

  it("follows an event through a transient state, left by an eventless transition in the same step", () => {
    const machine = createMachine({
      id: "m",
      initial: "a",
      states: {
        a: { on: { go: "choosing" } },
        choosing: { always: [{ guard: () => false, target: "a" }, { target: "b" }] },
        b: {},
      },
    });
    const small = statechartOf(machine);
    const find = (source: string, target: string) =>
      small.transitions.find((t) => t.source === source && t.target === target)?.id;
    const path = new StepResolver(small).resolve(["m.a"], "b", "go");
    expect(path.passed).toEqual(["m.choosing"]);
    expect(path.taken).toEqual([find("m.a", "m.choosing"), find("m.choosing", "m.b")]);
  });

  it("picks the transition whose target the machine reached, and the machine's own ones last", () => {
    const redirect = resolver.resolve(
      ["call.executing-twiml", "call.executing-twiml.verb"],
      "fetching-webhook",
      "xstate.done.actor.0.call.executing-twiml.verb",
    );
    expect(redirect.taken).toEqual([edge("call.executing-twiml.verb", "call.fetching-webhook")?.id]);
    const hangup = resolver.resolve(
      ["call.executing-twiml", "call.executing-twiml.verb"],
      { storing: "writing" },
      "channel.hangup",
    );
    expect(hangup.taken).toEqual([edge(ANY_STATE, "call.storing")?.id]);
  });
});

function fail(): never {
  throw new Error("missing");
}
