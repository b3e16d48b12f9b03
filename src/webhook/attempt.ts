// One attempt at one hop of a webhook request: sent through the client's pool for the origin, its
// cookies stored, and its answer read: a redirect, a failure, or a body (capped, decoded by charset).
import type { Dispatcher, Pool } from "undici";
import { type FailedResponse, type Failure, failure, networkFailure, statusFailure } from "./failures.js";
import { type Hop, headersFor, type Signer } from "./request-headers.js";

// The redirects Twilio follows (its 11216 page); any other 3xx, 308 included, is 11216.
const REDIRECT_STATUSES = new Set([301, 302, 303, 307]);
/** Of an error answer's body, this much is kept (Twilio's debugger shows the first 64 KB). */
export const FAILED_BODY_KEPT = 64 * 1024;

export type Outcome =
  | {
      kind: "done";
      status: number;
      contentType: string | undefined;
      body: string;
      /** The body was chunked and empty: a document request reports 11770 for it. */
      emptyChunked?: true;
    }
  | { kind: "redirect"; status: number; location: string | undefined }
  | Failure;

/** What every attempt of one request shares. */
export interface AttemptContext extends Signer {
  pool(origin: string, connectTimeoutMs: number): Pool;
  egressDescription: string;
  callerSignal: AbortSignal | undefined;
  signal: AbortSignal;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  totalTimeoutMs: number;
  maxBodyBytes: number;
  timedOut: boolean;
}

/** Origin and path only: query strings carry callers' numbers and customers' secrets. */
export function shown(u: URL): string {
  return u.origin + u.pathname;
}

export async function attempt(hop: Hop, ctx: AttemptContext): Promise<Outcome> {
  const u = hop.url;
  const lost = (err: unknown, partial: boolean) =>
    networkFailure(err, {
      at: shown(u),
      host: u.host,
      timedOut: ctx.timedOut,
      totalTimeoutMs: ctx.totalTimeoutMs,
      callerSignal: ctx.callerSignal,
      egressDescription: ctx.egressDescription,
      partial,
    });
  let res: Dispatcher.ResponseData;
  try {
    res = await ctx.pool(u.origin, ctx.connectTimeoutMs).request({
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
    return lost(err, false);
  }
  res.body.on("error", () => {}); // failures surface through dump() or iteration; destroy() must not throw
  const status = res.statusCode;
  ctx.jar.store(res.headers["set-cookie"], u);
  if (REDIRECT_STATUSES.has(status)) {
    await discard(res);
    return { kind: "redirect", status, location: header(res, "location") };
  }
  if (status < 200 || status >= 300) return statusFailure(status, shown(u), await keep(res));
  const tooLarge = (): Failure => {
    const message = `${shown(u)}: response body larger than ${ctx.maxBodyBytes} bytes`;
    return failure("bodyTooLarge", message, new RangeError(message));
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
    return lost(err, true);
  }
  const contentTypeHeader = header(res, "content-type");
  const contentType = contentTypeHeader?.split(";")[0]?.trim().toLowerCase() || undefined;
  const body = decode(Buffer.concat(chunks, size), contentTypeHeader);
  const emptyChunked = size === 0 && /\bchunked\b/i.test(header(res, "transfer-encoding") ?? "");
  return { kind: "done", status, contentType, body, ...(emptyChunked && { emptyChunked }) };
}

function header(res: Dispatcher.ResponseData, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** An error answer as the debugger shows it: headers, and the body's first FAILED_BODY_KEPT bytes. */
async function keep(res: Dispatcher.ResponseData): Promise<FailedResponse> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      const room = FAILED_BODY_KEPT - size;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        size += room;
        truncated = true;
        break; // leaving the loop destroys the rest of the body
      }
      chunks.push(chunk);
      size += chunk.length;
    }
  } catch {
    // The status is what failed the request; a body cut short is shown as far as it came.
  }
  const contentType = headers["content-type"]?.split(";")[0]?.trim().toLowerCase() || undefined;
  return {
    status: res.statusCode,
    headers,
    ...(contentType && { contentType }),
    body: decode(Buffer.concat(chunks, size), headers["content-type"]),
    ...(truncated && { truncated }),
  };
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
