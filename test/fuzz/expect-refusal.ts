// Shared assertion of the fuzz tests: a function given bad input either returns or throws a
// SwitchboardError whose code is in the registry (and in `allowed`, when given); nothing else.
import { errorCodeInfo } from "../../src/errors/codes.js";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";

/** Runs `f`; returns its value, or undefined after checking what it threw. Throws on anything else. */
export function refusedClearly<T>(f: () => T, allowed?: readonly number[]): T | undefined {
  try {
    return f();
  } catch (err) {
    assertClearError(err, allowed);
    return undefined;
  }
}

export function assertClearError(err: unknown, allowed?: readonly number[]): asserts err is SwitchboardError {
  if (!(err instanceof SwitchboardError)) {
    throw new Error(`threw ${String((err as Error)?.name)} instead of a SwitchboardError: ${String(err)}`, {
      cause: err,
    });
  }
  if (errorCodeInfo(err.code) === undefined) throw new Error(`code ${err.code} is not in the registry`);
  if (allowed && !allowed.includes(err.code)) {
    throw new Error(`code ${err.code} is not one of ${allowed.join(", ")}: ${err.message}`);
  }
  if (err.message.trim() === "") throw new Error(`code ${err.code} came with an empty message`);
}

/** fast-check's run count: `n` in `npm test` (all fuzz tests stay under 20 s); FUZZ_RUNS=N for a long hunt. */
export function runs(n: number): { numRuns: number } {
  const override = Number(process.env.FUZZ_RUNS);
  return { numRuns: Number.isInteger(override) && override > 0 ? override : n };
}
