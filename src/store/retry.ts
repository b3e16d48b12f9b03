// JetStream's API can take seconds to answer after a server (re)start (DESIGN.md §8): start-up
// and provisioning calls retry with a bound instead of failing on the first timeout.

export async function retrying<T>(what: string, fn: () => Promise<T>, deadlineMs = 30_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let delay = 100;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() + delay >= deadline || !isTransient(err)) {
        throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 1_000);
    }
  }
}

function isTransient(err: unknown): boolean {
  const name = (err as Error)?.name ?? "";
  const message = String((err as Error)?.message ?? "");
  return (
    name === "TimeoutError" ||
    name === "NoRespondersError" ||
    name === "JetStreamNotEnabled" ||
    /timeout|no responders|jetstream not (enabled|available)|temporarily unavailable|503/i.test(message)
  );
}
