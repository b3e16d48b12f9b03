// A service's announcement (`up`'s `ready <url>`) is printed once its signal handlers are in place:
// whoever reads it and signals at once stops it gracefully, not by the signal's default action.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const probe = fileURLToPath(new URL("../fixtures/process/announce-probe.mjs", import.meta.url));

describe("runService", () => {
  it("announces the service only once a SIGTERM would stop it gracefully", async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, [probe], { timeout: 20_000 }, (err, out) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout: out }),
      );
      child.stdin?.end();
    });
    expect(stdout).toMatch(/^ready, SIGTERM handlers [1-9]/m);
    // Stopped by its handler (exit 0), not killed by the signal.
    expect(code).toBe(0);
  });
});
