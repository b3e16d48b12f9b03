// SDP offer/answer (RFC 3264) for one audio stream: read the caller's offer, choose G.711 μ-law or
// A-law (the first of the two in the caller's order) and telephone-event when offered, and write
// the answer. Anything else in the offer (video, other codecs) is declined or ignored.
import type { G711Codec } from "./rtp/g711.js";

export interface SdpOffer {
  /** Where the caller wants our RTP. */
  readonly address: string;
  readonly port: number;
  /** Payload types in the caller's order, with what each names ("PCMU/8000", "telephone-event/8000"). */
  readonly formats: readonly { pt: number; name: string; rate: number }[];
}

export interface MediaChoice {
  readonly codec: G711Codec;
  readonly codecPt: number;
  /** The telephone-event payload type both sides use, when the caller offered one. */
  readonly dtmfPt: number | undefined;
}

const STATIC: Record<number, { name: string; rate: number }> = {
  0: { name: "PCMU", rate: 8000 },
  8: { name: "PCMA", rate: 8000 },
};

/** Reads the first audio stream of an offer; undefined when there is none with a port. */
export function parseSdpOffer(sdp: string): SdpOffer | undefined {
  let sessionAddress: string | undefined;
  let mediaAddress: string | undefined;
  let port: number | undefined;
  let pts: number[] = [];
  const rtpmap = new Map<number, { name: string; rate: number }>();
  let inAudio = false;
  let seenAudio = false;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("m=")) {
      if (seenAudio) break;
      const [media, p, , ...fmts] = line.slice(2).split(/\s+/);
      inAudio = media === "audio";
      if (inAudio) {
        seenAudio = true;
        port = Number(p);
        pts = fmts.map(Number).filter((n) => Number.isInteger(n) && n >= 0 && n < 128);
      }
    } else if (line.startsWith("c=")) {
      const address = line.split(/\s+/)[2]?.split("/")[0];
      if (inAudio) mediaAddress = address;
      else if (!seenAudio) sessionAddress = address;
    } else if (inAudio && line.startsWith("a=rtpmap:")) {
      const m = /^a=rtpmap:(\d+)\s+([^/\s]+)\/(\d+)/.exec(line);
      if (m) rtpmap.set(Number(m[1]), { name: m[2] as string, rate: Number(m[3]) });
    }
  }
  const address = mediaAddress ?? sessionAddress;
  if (!seenAudio || address === undefined || port === undefined || !Number.isInteger(port) || port <= 0)
    return undefined;
  const formats = pts.map((pt) => {
    const known = rtpmap.get(pt) ?? STATIC[pt] ?? { name: "", rate: 0 };
    return { pt, name: known.name, rate: known.rate };
  });
  return { address, port, formats };
}

/** Our choice from an offer; undefined when it offers neither PCMU nor PCMA (488). */
export function chooseMedia(offer: SdpOffer): MediaChoice | undefined {
  const audio = offer.formats.find(
    (f) => (f.name.toUpperCase() === "PCMU" || f.name.toUpperCase() === "PCMA") && f.rate === 8000,
  );
  if (!audio) return undefined;
  const dtmf = offer.formats.find((f) => f.name.toLowerCase() === "telephone-event" && f.rate === 8000);
  return { codec: audio.name.toUpperCase() as G711Codec, codecPt: audio.pt, dtmfPt: dtmf?.pt };
}

/** The SDP answer: our RTP address and port, the chosen codec and telephone-event (0-15). */
export function buildSdpAnswer(opts: {
  address: string;
  port: number;
  sessionId: number;
  media: MediaChoice;
}) {
  const { media } = opts;
  const pts = [media.codecPt, ...(media.dtmfPt === undefined ? [] : [media.dtmfPt])];
  return [
    "v=0",
    `o=switchboard ${opts.sessionId} ${opts.sessionId} IN IP4 ${opts.address}`,
    "s=switchboard",
    `c=IN IP4 ${opts.address}`,
    "t=0 0",
    `m=audio ${opts.port} RTP/AVP ${pts.join(" ")}`,
    `a=rtpmap:${media.codecPt} ${media.codec}/8000`,
    ...(media.dtmfPt === undefined
      ? []
      : [`a=rtpmap:${media.dtmfPt} telephone-event/8000`, `a=fmtp:${media.dtmfPt} 0-15`]),
    "a=ptime:20",
    "a=sendrecv",
    "",
  ].join("\r\n");
}
