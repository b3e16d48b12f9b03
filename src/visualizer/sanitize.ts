// Inspection events must not carry secrets, and the region worker is written so they do not; the
// visualizer still scrubs everything it serves, in case a header, a parameter or a URL with
// credentials slips into one later.
const SECRET_KEY = /auth.?token|signature|password|secret|authorization|api.?key|cookie/i;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]+):([^/\s@]+)@/gi;

export const REDACTED = "[redacted]";

/** A deep copy of `value` with secret-looking fields and URL passwords replaced. */
export function sanitize<T>(value: T): T {
  return scrub(value, 0) as T;
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === "string") return value.replace(URL_CREDENTIALS, `$1$2:${REDACTED}@`);
  if (value === null || typeof value !== "object" || depth > 20) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value instanceof Uint8Array || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && v !== null && v !== undefined ? REDACTED : scrub(v, depth + 1);
  }
  return out;
}
