// vitest globalSetup: gives this run a marker that every process its tests start inherits, and
// fails the run when, at its end, a nats-server, CLI, sipp, baresip or Chromium with that marker
// is still running (a test or helper did not stop what it started). Those are then killed, so a
// failed check does not leave them to the next run either.
import { randomUUID } from "node:crypto";
import { RUN_MARKER, type RunProcess, untilGone } from "../helpers/run-processes.js";

/** Stopping is awaited by every helper; this only covers a process still exiting at the very end. */
const GRACE_MS = 5_000;

export default function setup(): () => Promise<void> {
  const marker = randomUUID();
  // Set before vitest forks its workers, which copy process.env; their children inherit it.
  process.env[RUN_MARKER] = marker;
  return async () => {
    try {
      await checkNoLeftovers(marker, GRACE_MS);
    } catch (err) {
      // vitest prints a teardown error but does not fail the run for it.
      process.exitCode = 1;
      throw err;
    }
  };
}

/** Throws, naming each by pid and command line, when processes of the run `marker` remain; kills them. */
export async function checkNoLeftovers(marker: string, graceMs: number): Promise<void> {
  const left = await untilGone(marker, graceMs);
  if (left.length === 0) return;
  for (const p of left) kill(p);
  throw new Error(
    `the test run left ${left.length} process(es) running (now killed); a test or helper did not stop ` +
      `what it started:\n${left.map((p) => `  pid ${p.pid}: ${p.args}`).join("\n")}`,
  );
}

function kill(p: RunProcess): void {
  try {
    process.kill(p.pid, "SIGKILL");
  } catch {
    // already gone
  }
}
