import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests start real nats-server and child processes: forks isolate them cleanly.
    pool: "forks",
    // Two files at a time: most of the suite waits on real time (SIP calls carry 20 ms audio frames,
    // workers die and resume), so two at once halve the wall time on two cores (measured: 503 s
    // against about 1,000 s one at a time) while each file still has its own nats-server and ports.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Fails the run when it leaves a process it started running.
    globalSetup: ["test/global/no-leftovers.ts"],
  },
});
