// onParentExit notices that the process which started this one is gone, also when it went before the
// watch began: the parent is the one seen when the service started, not when the watch did (a
// launcher killed just after `up` printed its `ready` line left the engine running for ever).
import { describe, expect, it } from "vitest";
import { onParentExit } from "../../src/process/parent-watch.js";

describe("onParentExit", () => {
  it("fires at its first look when the parent it was given is already gone", async () => {
    let fired = 0;
    const gone = process.ppid + 1_000_000; // not our parent: as if ours had exited before the watch
    let stop: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      new Promise<string>((resolve) => {
        stop = onParentExit(
          () => {
            fired++;
            resolve("fired");
          },
          10,
          gone,
        );
      }),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve("not fired within 2 s"), 2_000);
      }),
    ]);
    clearTimeout(timer);
    stop?.();
    expect(outcome).toBe("fired");
    expect(fired).toBe(1);
  });

  it("stays quiet while the parent is the one it was given", async () => {
    let fired = 0;
    const stop = onParentExit(() => fired++, 5, process.ppid);
    // Twelve looks or so, none of which may fire.
    await new Promise((r) => setTimeout(r, 60));
    stop();
    expect(fired).toBe(0);
  });
});
