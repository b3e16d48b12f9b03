// SDP offer/answer (RFC 3264) for one audio stream: read the caller's offer, choose G.711 μ-law or
// A-law (the first of the two in the caller's order) and telephone-event when offered, and write
// the answer. Anything else in the offer (video, other codecs) is declined or ignored. The SDP text
// itself is read and written by sdp-transform (RFC 4566's grammar).
import { parse, write } from "sdp-transform";
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
  const session = parse(sdp);
  const audio = session.media.find((m) => m.type === "audio");
  // A media-level c= wins over the session's; a multicast address may carry "/ttl".
  const address = (audio?.connection ?? session.connection)?.ip?.split("/")[0];
  const port = Number(audio?.port);
  if (!audio || address === undefined || !Number.isInteger(port) || port <= 0) return undefined;
  const rtpmap = new Map<number, { name: string; rate: number }>();
  for (const r of audio.rtp) if (r.rate !== undefined) rtpmap.set(r.payload, { name: r.codec, rate: r.rate });
  const pts = String(audio.payloads ?? "")
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= 0 && n < 128);
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
  const dtmf = media.dtmfPt;
  const pts = [media.codecPt, ...(dtmf === undefined ? [] : [dtmf])];
  return write({
    version: 0,
    origin: {
      username: "switchboard",
      sessionId: opts.sessionId,
      sessionVersion: opts.sessionId,
      netType: "IN",
      ipVer: 4,
      address: opts.address,
    },
    name: "switchboard",
    connection: { version: 4, ip: opts.address },
    timing: { start: 0, stop: 0 },
    media: [
      {
        type: "audio",
        port: opts.port,
        protocol: "RTP/AVP",
        payloads: pts.join(" "),
        rtp: [
          { payload: media.codecPt, codec: media.codec, rate: 8000 },
          ...(dtmf === undefined ? [] : [{ payload: dtmf, codec: "telephone-event", rate: 8000 }]),
        ],
        fmtp: dtmf === undefined ? [] : [{ payload: dtmf, config: "0-15" }],
        ptime: 20,
        direction: "sendrecv",
      },
    ],
  });
}
