// The one error class: every fault switchboard reports carries a numeric code from codes.ts.
// Callers match on `code`, never on message text.
import { type ErrorCodeInfo, type ErrorCodeName, ErrorCodes, errorCodeInfo } from "./codes.js";

export class SwitchboardError extends Error {
  override name = "SwitchboardError";
  readonly code: number;
  /** The HTTP status a webhook answered with, when that is what failed (4xx/5xx). */
  httpStatus?: number | undefined;

  constructor(code: number | ErrorCodeInfo, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = typeof code === "number" ? code : code.code;
  }

  get info(): ErrorCodeInfo | undefined {
    return errorCodeInfo(this.code);
  }

  get isWarning(): boolean {
    return this.info?.level === "warning";
  }

  /** A plain object safe to send over the bus, log or store. */
  toJSON(): { code: number; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Shorthand: `fail("invalidToNumber", "…")` builds the error for a registry entry. */
export function fail(name: ErrorCodeName, message: string, options?: ErrorOptions): SwitchboardError {
  return new SwitchboardError(ErrorCodes[name], message, options);
}

/** Maps any thrown value to a SwitchboardError; faults with no code become 12400 (internal failure). */
export function toSwitchboardError(err: unknown): SwitchboardError {
  if (err instanceof SwitchboardError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SwitchboardError(ErrorCodes.internalFailure, message, { cause: err });
}
