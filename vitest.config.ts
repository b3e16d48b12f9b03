import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests start real nats-server and child processes: forks isolate them cleanly.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Fails the run when it leaves a process it started running.
    globalSetup: ["test/global/no-leftovers.ts"],
  },
});
