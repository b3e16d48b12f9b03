import { defineConfig } from "vitest/config";
import { SlowFirst } from "./test/slow-first.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests start real nats-server and child processes: forks isolate them cleanly.
    pool: "forks",
    // Three files at a time: most of the suite waits on real time (SIP calls carry 20 ms audio frames,
    // workers die and resume), so more files at once than cores shorten the wall time. Measured here
    // on 2 cores: one at a time about 950 s, two 475-650 s, three 468 s (the files' own times summed
    // 1,102 s against 996 s at two: they slow each other by a tenth). Each file has its own
    // nats-server and ports. Under that load a test process stalls past a worker's death threshold
    // now and then, and calls end while the api reads them: both raced (call-host.ts's wake check,
    // call-lookup.ts), now fixed.
    maxWorkers: 3,
    // The slowest files first, so both slots stay busy to the end (test/slow-first.ts).
    sequence: { sequencer: SlowFirst },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Fails the run when it leaves a process it started running.
    globalSetup: ["test/global/no-leftovers.ts"],
  },
});
