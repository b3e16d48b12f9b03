// <Play>: the URL's audio fetched as Twilio fetches it (the egress policy applies, as to webhooks),
// cached with its ETag (revalidated with If-None-Match on each use) and decoded to 8 kHz PCM.
import { request } from "undici";
import { fail } from "../../errors/switchboard-error.js";
import type { WebhookClient } from "../../webhook/client.js";
import { soxTypeOf, toPcm8k } from "./convert.js";
import { MediaCache } from "./media-cache.js";

/** A Play file is at most this big (Twilio does not document one; a 10-minute WAV is ≈ 10 MB). */
const MAX_BYTES = 64 * 1024 * 1024;
const TIMEOUT_MS = 15_000;

export class AudioFetcher {
  readonly #cache = new MediaCache<string>(128 * 1024 * 1024);

  /** `web`: the fetches go through its dispatcher, under its egress policy. */
  constructor(private readonly web: WebhookClient) {}

  async pcm(url: string, signal: AbortSignal): Promise<Int16Array> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw fail("invalidUrl", `<Play> URL is not valid: ${url}`);
    }
    this.web.assertAllowed(u);
    const cached = this.#cache.peek(url);
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(u, {
        method: "GET",
        dispatcher: this.web.dispatcher(),
        headers: cached?.tag ? { "if-none-match": cached.tag } : {},
        signal: AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]),
      });
    } catch (err) {
      signal.throwIfAborted();
      throw fail("httpRetrievalFailure", `<Play> ${url}: ${(err as Error).message}`, { cause: err });
    }
    if (res.statusCode === 304 && cached) {
      await res.body.dump();
      return cached.pcm;
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump();
      throw fail("httpRetrievalFailure", `<Play> ${url} answered ${res.statusCode}`);
    }
    const bytes = new Uint8Array(await res.body.arrayBuffer());
    if (bytes.length > MAX_BYTES)
      throw fail("httpRetrievalFailure", `<Play> ${url} is over ${MAX_BYTES} bytes`);
    const type = soxTypeOf(bytes, String(res.headers["content-type"] ?? ""));
    if (!type) throw fail("mediaConversionFailed", `<Play> ${url}: not audio switchboard can play`);
    const pcm = await toPcm8k(bytes, type);
    const etag = res.headers.etag;
    if (typeof etag === "string") this.#cache.put(url, pcm, etag);
    return pcm;
  }
}
