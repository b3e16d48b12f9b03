// The bench's wake-up count (bench/lib/cpu.ts): every time a process's threads slept and were woken.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { wakeupMeter, wakeups } from "../../bench/lib/cpu.js";

describe("wakeups", () => {
  it("counts each time a process sleeps and is woken", async () => {
    // A child that sleeps 60 times on a timer, then tells us and waits for stdin to close.
    const child = spawn(
      process.execPath,
      [
        "-e",
        "let n=0;const t=()=>{if(++n<60)setTimeout(t,2);else{process.stdout.write('done');process.stdin.resume();}};process.stdout.write('ready',()=>setTimeout(t,2));",
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    try {
      const pid = child.pid as number;
      await once(child.stdout, "data"); // ready
      const meter = wakeupMeter({ child: pid });
      const before = wakeups(pid);
      await once(child.stdout, "data"); // done
      const woken = meter().child ?? Number.NaN;
      expect(Number.isFinite(before)).toBe(true);
      expect(woken).toBeGreaterThanOrEqual(55);
      // A timer wakes it once, not hundreds of times.
      expect(woken).toBeLessThan(1_000);
    } finally {
      child.stdin.end();
      if (child.exitCode === null) await once(child, "exit");
    }
  });

  it("is NaN for a process that is not there", () => {
    expect(wakeups(2 ** 30)).toBeNaN();
  });
});
