// I-Twilio-Idempotency-Token: one per request, the same on every attempt at it — a retry, or the
// same request made again by a worker that resumed the call — so an app can tell they are one.
import { hash } from "node:crypto";

/** A UUID-shaped token derived from what identifies the request (e.g. the call and its document number). */
export function idempotencyToken(...parts: (string | number)[]): string {
  // One-shot: a Hash object (a stream underneath) cost more than the digest in the worker's profile.
  const h = hash("sha256", parts.join(":"), "hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
