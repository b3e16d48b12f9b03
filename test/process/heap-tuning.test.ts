// tuneHeapForCalls keeps a call's actors young after a burst: without it, once thousands of actors
// were in flight across scavenges, V8 pretenures the sites of an actor's system and scope, and every
// later actor's are born in the old generation. Checked in child processes with V8's own
// %InYoungGeneration, the same burst with and without the tuning.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tuning = new URL("dist/src/process/heap-tuning.js", `file://${root}/`).href;

/** Of 100 actors made after the burst, how many have their system and scope in the old generation. */
async function oldAfterBurst(tuned: boolean): Promise<number> {
  const script = `
    ${tuned ? `(await import(${JSON.stringify(tuning)})).tuneHeapForCalls();` : ""}
    const { createActor, createMachine, fromPromise } = await import("xstate");
    let release;
    let gate = new Promise((r) => (release = r));
    const machine = createMachine({
      initial: "waiting",
      states: {
        waiting: { invoke: { src: fromPromise(() => gate), onDone: "done" } },
        done: { type: "final" },
      },
    });
    const run = () => new Promise((done) => {
      const actor = createActor(machine);
      actor.subscribe({ complete: done });
      actor.start();
    });
    for (let round = 0; round < 5; round++) {
      const calls = Array.from({ length: 4000 }, run);
      // Scavenges while the burst is in flight, as a busy worker has them: forced, not left to idle
      // time, which a loaded machine (CI running other test files) does not have.
      for (let i = 0; i < 2; i++) globalThis.gc({ type: "minor" });
      await new Promise((r) => setTimeout(r, 50));
      release();
      await Promise.all(calls);
      gate = new Promise((r) => (release = r));
    }
    let old = 0;
    for (let i = 0; i < 100; i++) {
      const actor = createActor(machine);
      if (!%InYoungGeneration(actor.system) || !%InYoungGeneration(actor._actorScope)) old++;
    }
    process.stdout.write(String(old));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--allow-natives-syntax", "--expose-gc", "--input-type=module", "-e", script],
    { cwd: root, timeout: 20_000 }, // killed before the test's own 30 s timeout
  );
  return Number(stdout);
}

/**
 * The control, up to three bursts: V8 decides to pretenure a site at a scavenge, from what the
 * scavenges since its last decision saw survive. One clean-clone CI run's untuned burst decided
 * nothing (0 of 100 old), so one burst is not a reliable control; the tuned side gets no retry.
 */
async function untunedControl(): Promise<number[]> {
  const seen: number[] = [];
  for (let attempt = 0; attempt < 3 && !seen.includes(100); attempt++) seen.push(await oldAfterBurst(false));
  return seen;
}

describe("tuneHeapForCalls", () => {
  it("keeps actors young after a burst that pretenures them untuned", async () => {
    const [untuned, tuned] = await Promise.all([untunedControl(), oldAfterBurst(true)]);
    // The control: this V8 pretenures them, so the tuning has something to turn off.
    expect(untuned).toContain(100);
    expect(tuned).toBe(0);
  }, 70_000); // three control bursts at most, each killed after 20 s
});
