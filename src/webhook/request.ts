// How switchboard requests a customer's webhook, as Twilio does (spec §2–§4): signed, browser-like
// (redirects, cookies), with Twilio's timeouts, retries and error codes. One undici Pool per origin.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { type Dispatcher, Pool } from "undici";
import type { ErrorCodeName } from "../errors/codes.js";
import { fail } from "../errors/switchboard-error.js";
import { parseConnectionOverrides, type RetryPolicyName, withoutFragment } from "./connection-overrides.js";
import { CookieJar } from "./cookie-jar.js";
import { assertEgressAllowed, egressGeneration, egressPolicy } from "./egress.js";
import { type SigningKey, signatureSettingsHeader, signatureUrl, twilioSignature } from "./sign.js";

export { CookieJar };

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
}

const MAX_POOLS = 256;
// Without a bound a Pool opens a socket per concurrent request and keeps each alive: a worker filling
// with 100,000 calls held one socket (≈ 3 KB of heap, a file descriptor) per call. Past the bound,
// requests wait in the Pool's queue, inside each request's total timeout.
const MAX_CONNECTIONS_PER_ORIGIN = 128;
const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// Set by switchboard or by undici: a caller's extra headers cannot replace them.
const RESERVED_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "keep-alive"]);
const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME", "EAI_NODATA"]);
const CONNECT_CODES = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "ETIMEDOUT",
]);

// Keyed by origin and connect timeout (undici sets the connect timeout per Pool); least recently used
// first, so the oldest entry is evicted (and closed, letting its in-flight requests finish) past the cap.
const pools = new Map<string, Pool>();

function poolFor(origin: string, connectTimeoutMs: number): Pool {
  const key = `${origin} ${connectTimeoutMs} ${egressGeneration()}`;
  let pool = pools.get(key);
  if (pool) pools.delete(key);
  else {
    const connect = { timeout: connectTimeoutMs, lookup: egressPolicy().lookup };
    pool = new Pool(origin, { pipelining: 1, connections: MAX_CONNECTIONS_PER_ORIGIN, connect });
  }
  pools.set(key, pool);
  for (const [oldKey, old] of pools) {
    if (pools.size <= MAX_POOLS) break;
    pools.delete(oldKey);
    old.close().catch(() => {});
  }
  return pool;
}

/** Closes every Pool (for shutdown); requests in flight finish first. */
export async function closeWebhookPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.allSettled(all.map((p) => p.close()));
}

interface Failure {
  kind: "failed";
  code: ErrorCodeName;
  message: string;
  cause: unknown;
  /** The retry policy that allows another attempt; none for failures never retried. */
  retryAs?: RetryPolicyName;
  /** The HTTP status, when the server answered with an error status. */
  httpStatus?: number;
}
type Outcome =
  | { kind: "done"; status: number; contentType: string | undefined; body: string }
  | { kind: "redirect"; status: number; location: string | undefined }
  | Failure;

interface Hop {
  url: URL;
  method: "GET" | "POST";
  body: string | undefined;
}

interface Context {
  req: WebhookRequest;
  token: string;
  jar: CookieJar;
  signal: AbortSignal;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  totalTimeoutMs: number;
  maxBodyBytes: number;
  timedOut: boolean;
}

function parseHttpUrl(raw: string, base?: URL): URL {
  let u: URL;
  try {
    u = new URL(raw, base);
  } catch (err) {
    throw fail("invalidUrl", `invalid URL: ${raw}`, { cause: err });
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw fail("invalidUrl", `not an http(s) URL: ${raw}`, {
      cause: new TypeError(`unsupported scheme ${u.protocol}`),
    });
  }
  u.hash = "";
  return u;
}

/** Origin and path only: query strings carry callers' numbers and customers' secrets. */
function shown(u: URL): string {
  return u.origin + u.pathname;
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown[]; cause?: unknown } | undefined;
  if (typeof e?.code === "string") return e.code;
  if (Array.isArray(e?.errors) && e.errors.length > 0) return errorCode(e.errors[0]);
  return e?.cause !== undefined && e.cause !== err ? errorCode(e.cause) : undefined;
}

function networkFailure(err: unknown, ctx: Context, u: URL, partial: boolean): Failure {
  const at = shown(u);
  if (ctx.timedOut) {
    const message = `${at}: no complete response within the total timeout of ${ctx.totalTimeoutMs} ms`;
    return { kind: "failed", code: "httpConnectionFailure", message, cause: err };
  }
  if (ctx.req.signal?.aborted) {
    const message = `${at}: request aborted`;
    return { kind: "failed", code: "httpConnectionFailure", message, cause: ctx.req.signal.reason ?? err };
  }
  const code = errorCode(err) ?? "unknown";
  if (DNS_CODES.has(code)) {
    return {
      kind: "failed",
      code: "httpBadHostName",
      message: `${u.host}: host not found (${code})`,
      cause: err,
    };
  }
  if (code === "EEGRESS") {
    const message = `${at}: refused by the egress policy (${egressPolicy().description})`;
    return { kind: "failed", code: "httpRetrievalFailure", message, cause: err };
  }
  if (code === "UND_ERR_INVALID_ARG") {
    return { kind: "failed", code: "httpRetrievalFailure", message: `${at}: invalid request`, cause: err };
  }
  const connect = CONNECT_CODES.has(code);
  const timeout = code === "UND_ERR_CONNECT_TIMEOUT" || code.endsWith("_TIMEOUT");
  const what = connect ? "connection failed" : timeout ? "read timed out" : "connection lost";
  // No retry once part of the response has arrived (spec §4).
  const retryAs: RetryPolicyName | undefined = partial ? undefined : connect ? "ct" : "rt";
  const message = `${at}: ${what} (${code})`;
  return { kind: "failed", code: "httpConnectionFailure", message, cause: err, retryAs };
}

function headersFor(hop: Hop, ctx: Context): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.req.headers ?? {})) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
  }
  const signed = signatureUrl(hop.url.href);
  const params = hop.method === "POST" ? ctx.req.params : {};
  const key = ctx.req.signingKey;
  headers["x-twilio-signature"] = key
    ? twilioSignature(key.secret, signed, params, key.algorithm)
    : twilioSignature(ctx.req.authToken, signed, params);
  if (key) headers["x-twilio-webhooks-signature-settings"] = signatureSettingsHeader(key);
  headers["i-twilio-idempotency-token"] = ctx.token;
  headers["user-agent"] = "TwilioProxy/1.1";
  headers.accept = "*/*";
  if (hop.body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
  else delete headers["content-type"];
  const cookie = ctx.jar.header(hop.url);
  if (cookie !== undefined) headers.cookie = cookie;
  if (hop.url.username !== "" || hop.url.password !== "") {
    const creds = `${percentDecoded(hop.url.username)}:${percentDecoded(hop.url.password)}`;
    headers.authorization = `Basic ${Buffer.from(creds).toString("base64")}`;
  }
  return headers;
}

function percentDecoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function header(res: Dispatcher.ResponseData, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function discard(res: Dispatcher.ResponseData): Promise<void> {
  await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
}

function decode(bytes: Buffer, contentTypeHeader: string | undefined): string {
  const charset = /;\s*charset="?([^";\s]+)/i.exec(contentTypeHeader ?? "")?.[1];
  try {
    return new TextDecoder(charset ?? "utf-8").decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
}

async function attempt(hop: Hop, ctx: Context): Promise<Outcome> {
  const u = hop.url;
  let res: Dispatcher.ResponseData;
  try {
    res = await poolFor(u.origin, ctx.connectTimeoutMs).request({
      path: u.pathname + u.search,
      method: hop.method,
      headers: headersFor(hop, ctx),
      body: hop.body,
      signal: ctx.signal,
      // undici runs these on its coarse timer wheel (fires up to ~1 s late); the total timeout is exact.
      headersTimeout: ctx.readTimeoutMs,
      bodyTimeout: ctx.readTimeoutMs,
    });
  } catch (err) {
    return networkFailure(err, ctx, u, false);
  }
  res.body.on("error", () => {}); // failures surface through dump() or iteration; destroy() must not throw
  const status = res.statusCode;
  ctx.jar.store(res.headers["set-cookie"], u);
  if (REDIRECT_STATUSES.has(status)) {
    await discard(res);
    return { kind: "redirect", status, location: header(res, "location") };
  }
  if (status < 200 || status >= 300) {
    await discard(res);
    const retryAs: RetryPolicyName | undefined = status >= 500 ? "5xx" : status >= 400 ? "4xx" : undefined;
    const message = `${shown(u)} answered HTTP ${status}`;
    return {
      kind: "failed",
      code: "httpRetrievalFailure",
      message,
      cause: new Error(message),
      retryAs,
      httpStatus: status,
    };
  }
  const tooLarge = (): Failure => {
    const message = `${shown(u)}: response body larger than ${ctx.maxBodyBytes} bytes`;
    return { kind: "failed", code: "responseTooLarge", message, cause: new RangeError(message) };
  };
  if (Number(header(res, "content-length") ?? 0) > ctx.maxBodyBytes) {
    res.body.destroy();
    return tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > ctx.maxBodyBytes) return tooLarge(); // leaving the loop destroys the body
      chunks.push(chunk);
    }
  } catch (err) {
    return networkFailure(err, ctx, u, true);
  }
  const contentTypeHeader = header(res, "content-type");
  const contentType = contentTypeHeader?.split(";")[0]?.trim().toLowerCase() || undefined;
  return { kind: "done", status, contentType, body: decode(Buffer.concat(chunks, size), contentTypeHeader) };
}

/** Requests a webhook as Twilio does; every failure is a SwitchboardError with Twilio's code. */
export async function requestWebhook(req: WebhookRequest): Promise<WebhookResponse> {
  const started = performance.now();
  const overrides = parseConnectionOverrides(req.url);
  let url = parseHttpUrl(withoutFragment(req.url));
  assertEgressAllowed(url);
  // The document's URL is the one asked for, not the one the GET parameters were added to: a Gather's
  // default action (that URL) would otherwise carry this request's parameters into the next request.
  const requested = url.href;
  const form = new URLSearchParams(req.params).toString();
  if (req.method === "GET" && form !== "") url.search = url.search ? `${url.search}&${form}` : `?${form}`;
  let hop: Hop = { url, method: req.method, body: req.method === "POST" ? form : undefined };

  const abort = new AbortController();
  const ctx: Context = {
    req,
    token: req.idempotencyToken ?? randomUUID(),
    jar: req.cookies ?? new CookieJar(),
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
        const durationMs = performance.now() - started;
        return {
          url: redirects === 0 ? requested : hop.url.href,
          status: outcome.status,
          contentType: outcome.contentType,
          body: outcome.body,
          durationMs,
          attempts,
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
        const tries = attempts === 1 ? "1 attempt" : `${attempts} attempts`;
        throw Object.assign(fail(outcome.code, `${outcome.message} (${tries})`, { cause: outcome.cause }), {
          httpStatus: outcome.httpStatus,
        });
      }
      const from = shown(hop.url);
      if (outcome.location === undefined) {
        const message = `${from} answered HTTP ${outcome.status} without a Location`;
        throw fail("httpRetrievalFailure", message, { cause: new Error(message) });
      }
      if (redirects >= MAX_REDIRECTS) {
        const message = `${from}: more than ${MAX_REDIRECTS} redirects`;
        throw fail("tooManyRedirects", message, { cause: new Error(`last Location: ${outcome.location}`) });
      }
      redirects++;
      try {
        url = parseHttpUrl(outcome.location, hop.url);
      } catch (err) {
        throw fail("httpRetrievalFailure", `${from}: invalid redirect`, { cause: err });
      }
      assertEgressAllowed(url);
      const toGet = outcome.status === 303 || (hop.method === "POST" && outcome.status <= 302);
      hop = toGet ? { url, method: "GET", body: undefined } : { url, method: hop.method, body: hop.body };
    }
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener("abort", onCallerAbort);
  }
}
