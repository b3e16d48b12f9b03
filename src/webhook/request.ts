// How switchboard requests a customer's webhook, as Twilio does (spec §2–§4): signed, browser-like
// (redirects, cookies), with Twilio's timeouts and retries; failures carry the codes of failures.ts.
// Not undici's redirect and retry interceptors: every hop is signed anew for its own URL, carries the
// jar's cookies for it and is checked against the egress policy, and a retry keeps the hop it failed on.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Pool } from "undici";
import { type AttemptContext, attempt, shown } from "./attempt.js";
import { parseConnectionOverrides, withoutFragment } from "./connection-overrides.js";
import { CookieJar } from "./cookies.js";
import { assertEgressAllowed, type EgressPolicy } from "./egress.js";
import { failed, finalError } from "./failures.js";
import type { Hop } from "./request-headers.js";
import type { SigningKey } from "./sign.js";

export interface WebhookRequest {
  /** As configured; may carry a `#fragment` of connection overrides. */
  url: string;
  method: "GET" | "POST";
  /** Twilio parameters: the form body for POST, appended to the query string for GET. */
  params: Record<string, string>;
  /** A shared key to sign with instead of the auth token (announced in a settings header). */
  signingKey?: SigningKey;
  /** The account's auth token, for X-Twilio-Signature. */
  authToken: string;
  /** Extra headers, e.g. X-Home-Region. They cannot replace the headers Twilio itself sends. */
  headers?: Record<string, string>;
  /** I-Twilio-Idempotency-Token; the same across retries of one request. Generated when missing. */
  idempotencyToken?: string;
  /** A call's cookies, kept across all its requests; without one, cookies live for this request only. */
  cookies?: CookieJar;
  signal?: AbortSignal;
  /** Default 64 KiB; a larger body fails with 11750. */
  maxBodyBytes?: number;
}

export interface WebhookResponse {
  /**
   * The final URL after redirects, without fragment and without the parameters a GET added to it
   * (TwiML relative URLs, and a Gather's or Record's default action, resolve against it).
   */
  url: string;
  status: number;
  /** Media type only, lower-cased, without parameters. */
  contentType: string | undefined;
  body: string;
  durationMs: number;
  /** 1 + the retries spent (redirects are not attempts). */
  attempts: number;
  /** The body was empty and chunked (`Transfer-Encoding: chunked`): no document, 11770. */
  emptyChunked?: true;
}

/** What a request is sent through: a WebhookClient's pools, under its egress policy. */
export interface Connections {
  readonly egress: EgressPolicy;
  pool(origin: string, connectTimeoutMs: number): Pool;
}

const MAX_REDIRECTS = 10;

function parseHttpUrl(raw: string, base?: URL): URL {
  let u: URL;
  try {
    u = new URL(raw, base);
  } catch (err) {
    throw failed("invalidUrl", `invalid URL: ${raw}`, err);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw failed(
      "invalidUrl",
      `not an http(s) URL: ${raw}`,
      new TypeError(`unsupported scheme ${u.protocol}`),
    );
  }
  u.hash = "";
  return u;
}

/** Requests a webhook as Twilio does; every failure is a SwitchboardError with Twilio's code. */
export async function requestWebhook(via: Connections, req: WebhookRequest): Promise<WebhookResponse> {
  const started = performance.now();
  const overrides = parseConnectionOverrides(req.url);
  let url = parseHttpUrl(withoutFragment(req.url));
  if (overrides.refused) {
    const { condition, message } = overrides.refused;
    throw failed(condition, `${url.origin}${url.pathname}: ${message}`, new Error(message));
  }
  assertEgressAllowed(via.egress, url);
  // The document's URL is the one asked for, not the one the GET parameters were added to: a Gather's
  // default action (that URL) would otherwise carry this request's parameters into the next request.
  const requested = url.href;
  const form = new URLSearchParams(req.params).toString();
  if (req.method === "GET" && form !== "") url.search = url.search ? `${url.search}&${form}` : `?${form}`;
  let hop: Hop = { url, method: req.method, body: req.method === "POST" ? form : undefined };

  const abort = new AbortController();
  const ctx: AttemptContext = {
    params: req.params,
    authToken: req.authToken,
    ...(req.signingKey && { signingKey: req.signingKey }),
    ...(req.headers && { headers: req.headers }),
    token: req.idempotencyToken ?? randomUUID(),
    jar: req.cookies ?? new CookieJar(),
    pool: (origin, ct) => via.pool(origin, ct),
    egressDescription: via.egress.description,
    callerSignal: req.signal,
    signal: abort.signal,
    connectTimeoutMs: overrides.connectTimeoutMs,
    readTimeoutMs: overrides.readTimeoutMs,
    totalTimeoutMs: overrides.totalTimeoutMs,
    maxBodyBytes: req.maxBodyBytes ?? 64 * 1024,
    timedOut: false,
  };
  const timer = setTimeout(() => {
    ctx.timedOut = true;
    abort.abort(new Error(`total timeout of ${ctx.totalTimeoutMs} ms`));
  }, ctx.totalTimeoutMs);
  const onCallerAbort = () => abort.abort(req.signal?.reason);
  if (req.signal?.aborted) onCallerAbort();
  req.signal?.addEventListener("abort", onCallerAbort, { once: true });

  let attempts = 1;
  let retriesLeft = overrides.retryCount;
  let redirects = 0;
  try {
    for (;;) {
      const outcome = await attempt(hop, ctx);
      if (outcome.kind === "done") {
        return {
          url: redirects === 0 ? requested : hop.url.href,
          status: outcome.status,
          contentType: outcome.contentType,
          body: outcome.body,
          durationMs: performance.now() - started,
          attempts,
          ...(outcome.emptyChunked && { emptyChunked: outcome.emptyChunked }),
        };
      }
      if (outcome.kind === "failed") {
        const { retryAs } = outcome;
        const allowed =
          retryAs !== undefined && (overrides.retryPolicy.has(retryAs) || overrides.retryPolicy.has("all"));
        if (allowed && retriesLeft > 0 && !abort.signal.aborted) {
          retriesLeft--;
          attempts++;
          continue;
        }
        throw finalError(outcome, attempts);
      }
      const from = shown(hop.url);
      if (outcome.location === undefined) {
        const message = `${from} answered HTTP ${outcome.status} without a Location`;
        throw failed("redirectWithoutLocation", message, new Error(message));
      }
      if (redirects >= MAX_REDIRECTS) {
        const message = `${from}: more than ${MAX_REDIRECTS} redirects`;
        throw failed("tooManyRedirects", message, new Error(`last Location: ${outcome.location}`));
      }
      redirects++;
      try {
        url = parseHttpUrl(outcome.location, hop.url);
      } catch (err) {
        throw failed("invalidRedirect", `${from}: invalid redirect`, err);
      }
      assertEgressAllowed(via.egress, url);
      const toGet = outcome.status === 303 || (hop.method === "POST" && outcome.status <= 302);
      hop = toGet ? { url, method: "GET", body: undefined } : { url, method: hop.method, body: hop.body };
    }
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener("abort", onCallerAbort);
  }
}
