// A call's history as @statelyai/inspect messages (the protocol its inspectors send: one
// `@xstate.actor` registration, then an `@xstate.event` and an `@xstate.snapshot` per step), so a
// stored call can be replayed into Stately's inspector long after it ran.
import type { AnyStateMachine } from "xstate";
import type { CallView } from "./timeline.js";

/** The @statelyai/inspect protocol version these messages follow. */
export const STATELY_PROTOCOL_VERSION = "0.7.0";

interface Base {
  sessionId: string;
  rootId: string;
  id: string;
  createdAt: string;
  _version: string;
}

export type StatelyMessage =
  | (Base & {
      type: "@xstate.actor";
      name: string;
      parentId: undefined;
      definition: string;
      snapshot: { status: "active"; value?: unknown; context?: unknown };
    })
  | (Base & { type: "@xstate.event"; event: { type: string }; sourceId: undefined })
  | (Base & {
      type: "@xstate.snapshot";
      event: { type: string };
      snapshot: { status: "active" | "done"; value: unknown; context: Record<string, unknown> };
    });

/** The machine definition as Stately's inspector reads it: functions become `{type: name}`. */
export function machineDefinition(machine: AnyStateMachine): string {
  return JSON.stringify(machine.config, (_key, value) =>
    typeof value === "function" ? { type: value.name || "inline" } : value,
  );
}

export function toStatelyMessages(view: CallView, machine: AnyStateMachine): StatelyMessage[] {
  const sessionId = view.callSid;
  let n = 0;
  const base = (at: number): Base => ({
    sessionId,
    rootId: sessionId,
    id: `${sessionId}.${n++}`,
    createdAt: String(Math.round(at)),
    _version: STATELY_PROTOCOL_VERSION,
  });
  const first = view.steps[0];
  const messages: StatelyMessage[] = [
    {
      type: "@xstate.actor",
      ...base(first?.at ?? view.startedAt ?? 0),
      name: machine.id,
      parentId: undefined,
      definition: machineDefinition(machine),
      snapshot: { status: "active" },
    },
  ];
  for (const step of view.steps) {
    const event = { type: step.event };
    messages.push({ type: "@xstate.event", ...base(step.at), event, sourceId: undefined });
    messages.push({
      type: "@xstate.snapshot",
      ...base(step.at),
      event,
      snapshot: {
        status: step.label === "completed" ? "done" : "active",
        value: step.value,
        // What the worker reports of the context: the secrets-free part the page shows too.
        context: { status: step.status, verb: step.verb, documentUrl: step.documentUrl },
      },
    });
  }
  return messages;
}
