// What a test helper started, stopped in reverse order, also when a later step of its setup throws
// (the AsyncDisposableStack pattern; Node 20 has none). Without it a throw in the middle of a setup
// loses the handles of what already runs, and a nats-server outlives its test file.
//
//   return setUp(async (t) => {
//     const nats = t.use(await startTestNatsServer());
//     const nc = t.add(await connect({ servers: nats.url }), (c) => c.close());
//     return { nats, nc, [Symbol.asyncDispose]: () => t.stop() };
//   });

type Stop = () => unknown;

export class Teardown implements AsyncDisposable {
  readonly #stops: Stop[] = [];
  #stopping: Promise<void> | undefined;

  /** Stops `value` with `stop` at teardown; returns `value`, so a start and its stop read as one line. */
  add<T>(value: T, stop: (value: T) => unknown): T {
    this.#stops.push(() => stop(value));
    return value;
  }

  /** Disposes `value` (if any) at teardown. */
  use<T extends AsyncDisposable | undefined>(value: T): T {
    if (value) this.#stops.push(() => value[Symbol.asyncDispose]());
    return value;
  }

  /** Runs `stop` at teardown. */
  defer(stop: Stop): void {
    this.#stops.push(stop);
  }

  /**
   * Starts several things at once; when any start fails, the others still get stopped (a bare
   * Promise.all would lose the ones that started), and the first failure is thrown.
   */
  async all<T>(starts: Promise<T>[], stop: (value: T) => unknown): Promise<T[]> {
    const settled = await Promise.allSettled(starts);
    for (const r of settled) if (r.status === "fulfilled") this.add(r.value, stop);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
  }

  /** Stops everything, last started first; every stop runs even when an earlier one throws. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const errors: unknown[] = [];
      for (const stop of this.#stops.splice(0).reverse()) {
        try {
          await stop();
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, "several test resources failed to stop");
    })();
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Runs a helper's setup with a fresh Teardown. When the setup throws, what it had started is
 * stopped before the error goes on; on success the helper's own dispose calls `t.stop()`.
 */
export async function setUp<T>(setup: (t: Teardown) => Promise<T>): Promise<T> {
  const t = new Teardown();
  try {
    return await setup(t);
  } catch (err) {
    await t.stop().catch((stopErr: unknown) => {
      throw new AggregateError(
        [err, stopErr],
        `${(err as Error)?.message ?? err}; stopping what had started failed too`,
      );
    });
    throw err;
  }
}
