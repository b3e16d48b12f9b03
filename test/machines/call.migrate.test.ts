// A call stored by the machine of before issue #15 (one child state per verb) resumes in this one:
// the snapshot in test/region/fixtures was stored by a real worker, parked in its Pause.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createActor, fromPromise, type Snapshot } from "xstate";
import { callMachine, type FetchInput, type VerbInput } from "../../machines/call.machine.js";
import { migrateCallSnapshot } from "../../machines/call.migrate.js";
import type { Verb, VerbOutcome } from "../../src/twiml/verb-data.js";

const FIXTURE = new URL("../region/fixtures/call-snapshot-per-verb-states.json", import.meta.url);
const { recordedWith, stored } = JSON.parse(readFileSync(FIXTURE, "utf8")) as {
  recordedWith: { appUrl: string };
  stored: Record<string, unknown> & { sb: unknown };
};
const { sb: _sb, ...old } = stored;
// A restored actor takes its context from the snapshot; the input is only there for the types.
const NO_INPUT = {
  facts: { callSid: "", to: "", from: "", region: "", edge: "", direction: "inbound" as const },
  arrivedAt: 0,
};

/** The machine with fakes that record what ran; the call ends when its record is written. */
function fakes() {
  const ran: string[] = [];
  const fetched: string[] = [];
  let ended: (status: string) => void = () => {};
  const end = new Promise<string>((r) => {
    ended = r;
  });
  const machine = callMachine.provide({
    actors: {
      runVerb: fromPromise<VerbOutcome, VerbInput>(async ({ input }) => {
        const v = input.verb;
        ran.push(v.name === "Say" ? `Say:${v.text}` : v.name);
        return v.name === "Redirect" ? { kind: "fetch", url: v.url, method: v.method } : { kind: "next" };
      }),
      fetchTwiml: fromPromise(async ({ input }: { input: FetchInput }) => {
        fetched.push(input.url);
        const verbs: Verb[] = [{ name: "Say", text: "Back", voice: "man", language: "en-US", loop: 1 }];
        return { documentUrl: input.url, verbs };
      }),
      endCall: fromPromise(async ({ input }) => ended(input.status)),
    },
  });
  return { machine, ran, fetched, end };
}

describe("a call snapshot stored with one state per verb", () => {
  it("is brought to the one verb state, naming the verb in the context", () => {
    expect(old.value).toEqual({ "executing-twiml": "Pause" });
    const migrated = migrateCallSnapshot(old) as typeof old & { context: Record<string, unknown> };
    expect(migrated.value).toEqual({ "executing-twiml": "verb" });
    expect(migrated.context.verb).toBe("Pause");
    expect(migrated.children).toEqual({
      "0.call.executing-twiml.verb": {
        snapshot: {
          status: "active",
          input: {
            callSid: (migrated.context.facts as { callSid: string }).callSid,
            verb: { name: "Pause", length: 3 },
          },
        },
        src: "runVerb",
        syncSnapshot: false,
      },
    });
    // A snapshot in this machine's shape is left as it is.
    expect(migrateCallSnapshot(migrated)).toBe(migrated);
  });

  it("resumes in this machine: the Pause runs again, then the Redirect and the next document", async () => {
    const f = fakes();
    const actor = createActor(f.machine, {
      snapshot: migrateCallSnapshot(old) as Snapshot<unknown>,
      input: NO_INPUT,
    });
    actor.start();
    expect(await f.end).toBe("completed");
    expect(f.ran).toEqual(["Pause", "Redirect", "Say:Back"]);
    expect(f.fetched).toEqual([`${recordedWith.appUrl}/back`]);
  });

  it("cannot be restored as it was stored: the migration is what makes it resume", async () => {
    const actor = createActor(fakes().machine, { snapshot: old as Snapshot<unknown>, input: NO_INPUT });
    const failed = new Promise<unknown>((resolve) => actor.subscribe({ error: resolve }));
    actor.start();
    expect(String(await failed)).toContain("State 'Pause' does not exist");
  });

  it("gains an empty verb when stored outside executing-twiml", () => {
    const fetching = { ...old, value: "fetching-webhook", children: {} };
    const migrated = migrateCallSnapshot(fetching) as typeof fetching & { context: { verb?: unknown } };
    expect(migrated.value).toBe("fetching-webhook");
    expect(migrated.context.verb).toBeNull();
  });
});
