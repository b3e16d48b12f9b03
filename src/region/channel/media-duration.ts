// How long a <Play> lasts on the simulated channel: the media is fetched as Twilio fetches it
// (a GET without the webhook parameters), and its length read from a WAV header or, for other
// formats, estimated from the size at 128 kbit/s.
import { request } from "undici";
import { fail, SwitchboardError } from "../../errors/switchboard-error.js";
import type { WebhookClient } from "../../webhook/client.js";

const MP3_BYTES_PER_SECOND = 16_000;

/** Fetched through `web`: its egress policy applies, as to webhooks. */
export async function mediaDurationMs(
  web: WebhookClient,
  url: string,
  signal?: AbortSignal,
): Promise<number> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    web.assertAllowed(new URL(url));
    res = await request(url, {
      method: "GET",
      signal,
      headersTimeout: 5_000,
      bodyTimeout: 15_000,
      dispatcher: web.dispatcher(),
    });
  } catch (err) {
    if (err instanceof SwitchboardError) throw err;
    throw fail("httpRetrievalFailure", `cannot fetch media ${url}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (res.statusCode >= 400) {
    await res.body.dump();
    throw fail("httpRetrievalFailure", `media ${url} answered HTTP ${res.statusCode}`);
  }
  // Twilio plays audio only: a page or a document where the media should be is 13420, and skipped.
  const type = String(res.headers["content-type"] ?? "")
    .split(";")[0]
    ?.trim()
    .toLowerCase();
  if (type && !type.startsWith("audio/")) {
    await res.body.dump();
    throw fail("playInvalidContentType", `media ${url} is ${type}, not audio`);
  }
  const body = Buffer.from(await res.body.arrayBuffer());
  return wavDurationMs(body) ?? Math.round((body.length / MP3_BYTES_PER_SECOND) * 1000);
}

/** The duration of a PCM WAV file, or undefined when `bytes` is not one. */
export function wavDurationMs(bytes: Buffer): number | undefined {
  if (
    bytes.length < 44 ||
    bytes.toString("ascii", 0, 4) !== "RIFF" ||
    bytes.toString("ascii", 8, 12) !== "WAVE"
  ) {
    return undefined;
  }
  let offset = 12;
  let byteRate = 0;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString("ascii", offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === "fmt ") byteRate = bytes.readUInt32LE(offset + 16);
    if (id === "data" && byteRate > 0) {
      return Math.round((Math.min(size, bytes.length - offset - 8) / byteRate) * 1000);
    }
    offset += 8 + size + (size % 2);
  }
  return undefined;
}
