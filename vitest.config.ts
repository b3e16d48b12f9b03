import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests start real nats-server and child processes: forks isolate them cleanly.
    pool: "forks",
    // One file at a time (the default on two cores). Two at once halve the wall time (most of the
    // suite waits on real time: 480-500 s against about 950 s) but made the hosted-number outbound
    // test (api/outbound-calls) miss its inbound call within 15 s in 2 of 4 full runs, never alone
    // or one file at a time; until that is understood, the suite runs serially.
    maxWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Fails the run when it leaves a process it started running.
    globalSetup: ["test/global/no-leftovers.ts"],
  },
});
