// The statechart comes from the machine definition itself, and each reported step maps back onto it.
import { describe, expect, it } from "vitest";
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
    expect(chart.states.find((s) => s.key === "executing-twiml")?.initial).toBe(
      "call.executing-twiml.dispatching",
    );
  });

  it("merges parallel transitions and names their events and guards", () => {
    expect(transitionLabel(edge("call.executing-twiml.Say", "call.storing") ?? fail())).toBe(
      "done [isHangupOutcome | isRejectOutcome]",
    );
    expect(
      transitionLabel(edge("call.executing-twiml.Say", "call.executing-twiml.dispatching") ?? fail()),
    ).toBe("done, error");
    expect(transitionLabel(edge("call.storing.waiting", "call.storing.writing") ?? fail())).toBe("done");
    expect(transitionLabel(edge(ANY_STATE, "call.storing") ?? fail())).toBe(
      "call.limit [guard], channel.hangup, control.end [guard]",
    );
    // Events a state ignores (storing swallows hang-ups) are no edges.
    expect(chart.transitions.some((t) => t.source === "call.storing")).toBe(false);
  });

  it("lays every state and transition out with elkjs, children inside their parents", async () => {
    const layout = await layoutStatechart(chart);
    expect(layout.states).toHaveLength(chart.states.length);
    const box = (id: string) => layout.states.find((s) => s.id === id) ?? fail();
    const parent = box("call.executing-twiml");
    const child = box("call.executing-twiml.Say");
    expect(child.x).toBeGreaterThan(parent.x);
    expect(child.x + child.width).toBeLessThan(parent.x + parent.width);
    expect(child.y).toBeGreaterThan(parent.y);
    expect(layout.transitions.every((t) => t.points.length >= 2)).toBe(true);
  });
});

describe("mapping reported steps onto the chart", () => {
  const resolver = new StepResolver(chart);

  it("finds the active states of a state value", () => {
    expect(resolver.activeIds({ "executing-twiml": "Say" })).toEqual([
      "call.executing-twiml",
      "call.executing-twiml.Say",
    ]);
    expect(resolver.activeIds("completed")).toEqual(["call.completed"]);
  });

  it("follows a done event through the transient dispatching state", () => {
    const path = resolver.resolve(
      ["call.fetching-webhook"],
      { "executing-twiml": "answering" },
      "xstate.done.actor.0.call.fetching-webhook",
    );
    expect(path.passed).toEqual(["call.executing-twiml.dispatching"]);
    expect(path.taken).toEqual([
      edge("call.fetching-webhook", "call.executing-twiml")?.id,
      edge("call.executing-twiml.dispatching", "call.executing-twiml.answering")?.id,
    ]);
  });

  it("picks the transition whose target the machine reached, and the machine's own ones last", () => {
    const redirect = resolver.resolve(
      ["call.executing-twiml", "call.executing-twiml.Redirect"],
      "fetching-webhook",
      "xstate.done.actor.0.call.executing-twiml.Redirect",
    );
    expect(redirect.taken).toEqual([edge("call.executing-twiml.Redirect", "call.fetching-webhook")?.id]);
    const hangup = resolver.resolve(
      ["call.executing-twiml", "call.executing-twiml.Pause"],
      { storing: "writing" },
      "channel.hangup",
    );
    expect(hangup.taken).toEqual([edge(ANY_STATE, "call.storing")?.id]);
  });
});

function fail(): never {
  throw new Error("missing");
}
