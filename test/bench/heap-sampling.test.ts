// The benches' allocation figures (hot-path.ts under BENCH_HEAP): the preload samples what a process
// allocates between two SIGUSR2s, the garbage included, and the summary says it per call.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { type HeapProfileNode, readHeapProfile, summarizeHeap } from "../../bench/heap-summary.js";
import { heapProfileFile } from "../../bench/lib/heap-profile-file.js";

// The compiled preload, as the bench gives it to its processes (`npm test` builds first).
const PRELOAD = fileURLToPath(new URL("../../dist/bench/lib/heap-sampling.js", import.meta.url));

// Says "ready", and "sampling" on each SIGUSR2 (after the preload's own listener has acted on it); on
// "go" on stdin allocates ROUNDS arrays of 256 numbers that die at once, then says "done".
const ROUNDS = 20_000;
const CHILD = `
let kept = 0;
process.on("SIGUSR2", () => process.stdout.write("sampling\\n"));
function allocateGarbage() {
  for (let i = 0; i < ${ROUNDS}; i++) kept += new Array(256).fill(i).length;
}
process.stdin.on("data", () => { allocateGarbage(); process.stdout.write("done\\n"); });
process.stdout.write("ready\\n");
`;

function node(name: string, children: HeapProfileNode[] = [], selfSize = 0, url = ""): HeapProfileNode {
  return { callFrame: { functionName: name, url, lineNumber: 0 }, selfSize, children };
}

describe("heap sampling", () => {
  it("sums a profile per call, by area and by function", () => {
    const profile = {
      head: node("(root)", [
        node("transition", [node("Set", [], 3 * 1024)], 6 * 1024, "file:///x/node_modules/xstate/dist/a.js"),
        node("publish", [], 1024, "file:///x/dist/src/region/inspect/inspector.js"),
      ]),
    };
    const s = summarizeHeap(profile, 2);
    expect(s.kibPerCall).toBe(5);
    expect(s.byArea).toEqual([
      { area: "xstate", kibPerCall: 3 },
      { area: "(native)", kibPerCall: 1.5 },
      { area: "src/region", kibPerCall: 0.5 },
    ]);
    expect(s.topFunctions[0]).toMatchObject({ name: "transition", kibPerCall: 3 });
  });

  it("samples what a process allocates between two SIGUSR2s, its garbage included", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-heap-"));
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, [`--import=${PRELOAD}`, "-e", CHILD], {
        env: { ...process.env, BENCH_HEAP_DIR: dir },
        stdio: ["pipe", "pipe", "inherit"],
      });
      let out = "";
      child.stdout?.on("data", (b: Buffer) => {
        out += b.toString();
      });
      await vi.waitFor(() => expect(out).toContain("ready"), { timeout: 10_000 });
      child.kill("SIGUSR2");
      await vi.waitFor(() => expect(out).toContain("sampling"), { timeout: 10_000 });
      child.stdin?.write("go\n");
      await vi.waitFor(() => expect(out).toContain("done"), { timeout: 10_000 });
      child.kill("SIGUSR2");
      const file = heapProfileFile(dir, child.pid as number);
      const profile = await vi.waitFor(() => readHeapProfile(file), { timeout: 10_000 });
      const s = summarizeHeap(profile, ROUNDS);
      // An array of 256 small integers is a little over 2 KiB; all of it was garbage when sampled.
      expect(s.kibPerCall).toBeGreaterThan(1.5);
      expect(s.kibPerCall).toBeLessThan(6);
      expect(s.topFunctions.map((f) => f.name)).toContain("allocateGarbage");
    } finally {
      child?.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });
});
