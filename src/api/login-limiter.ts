// Failed-login rate limit, in memory per api process: after `maxFailures` failed Basic-auth attempts
// within `windowMs` from one client IP, or naming one AccountSid, every request from that IP or for
// that AccountSid is refused (429, 20429) until the oldest failure leaves the window. Guessing a
// token is then slow whichever way an attacker spreads the attempts (docs/security.md).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FailureLimiter, type FailureLimiterOptions } from "../util/failure-limiter.js";
import { claimedAccountSid } from "./auth.js";
import { sendTwilioError } from "./twilio-error.js";

export type LoginLimiterOptions = FailureLimiterOptions;

/** The failure limiter of logins: keyed by client IP and by the AccountSid a request names. */
export class LoginLimiter extends FailureLimiter {
  /** The limiter's keys for a request: its client IP and, when it names one, the AccountSid. */
  static keys(ip: string, accountSid: string | undefined): string[] {
    return accountSid === undefined ? [`ip:${ip}`] : [`ip:${ip}`, `sid:${accountSid}`];
  }
}

/**
 * Puts the limiter in front of an authenticated scope: registered before the auth hook, it refuses
 * blocked requests before their credentials are checked, and counts every 401 the scope sends.
 */
export function limitFailedLogins(app: FastifyInstance, limiter: LoginLimiter): void {
  const keysOf = (req: FastifyRequest) =>
    LoginLimiter.keys(req.ip, claimedAccountSid(req.headers.authorization));
  app.addHook("onRequest", async (req, reply) => {
    const wait = limiter.retryAfter(keysOf(req));
    if (wait === 0) return;
    reply.header("Retry-After", String(wait));
    return sendTwilioError(reply, "tooManyRequests", `Too many failed logins; retry in ${wait} s`);
  });
  // onSend, not onResponse: the failure is counted before the client can see the 401 and retry.
  app.addHook("onSend", async (req, reply) => {
    if (reply.statusCode === 401) limiter.fail(keysOf(req));
  });
}
