// SDP offer/answer (RFC 3264) for one audio stream: read the caller's offer, choose G.711 μ-law or
// A-law (the first of the two in the caller's order) on the first plain-RTP audio stream, and
// telephone-event when offered; answer every offered stream (the others refused with port 0) and
// mirror the offer's direction (sendonly → recvonly). SRTP is not spoken: an offer with nothing but
// SRTP audio is refused (488). The SDP text itself is read and written by sdp-transform (RFC 4566).
import { parse, write } from "sdp-transform";
import type { G711Codec } from "./rtp/g711.js";

export type Direction = "sendrecv" | "sendonly" | "recvonly" | "inactive";

export interface OfferedStream {
  readonly type: string;
  readonly port: number;
  readonly protocol: string;
  /** Where the peer wants this stream's RTP. */
  readonly address: string | undefined;
  /** Payload types in the peer's order, with what each names ("PCMU/8000", "telephone-event/8000"). */
  readonly formats: readonly { pt: number; name: string; rate: number }[];
  readonly direction: Direction;
  /** SRTP: an `RTP/SAVP(F)` profile or `a=crypto` keys. */
  readonly srtp: boolean;
}

export interface MediaChoice {
  readonly codec: G711Codec;
  readonly codecPt: number;
  /** The telephone-event payload type both sides use, when the caller offered one. */
  readonly dtmfPt: number | undefined;
}

/** What an offer (or the answer to our offer) settles for the call's one audio stream. */
export interface Negotiated {
  /** Which m= line carries it. */
  readonly index: number;
  readonly remote: { address: string; port: number };
  readonly media: MediaChoice;
  /** Our direction in the answer: the offer's, mirrored. */
  readonly direction: Direction;
}

const STATIC: Record<number, { name: string; rate: number }> = {
  0: { name: "PCMU", rate: 8000 },
  8: { name: "PCMA", rate: 8000 },
};

const MIRROR: Record<Direction, Direction> = {
  sendrecv: "sendrecv",
  sendonly: "recvonly",
  recvonly: "sendonly",
  inactive: "inactive",
};

/** Every m= line of an offer (or answer); undefined when the text is not SDP. */
export function parseSdp(sdp: string): OfferedStream[] | undefined {
  let session: ReturnType<typeof parse>;
  try {
    session = parse(sdp);
  } catch {
    return undefined;
  }
  if (!Array.isArray(session.media) || session.media.length === 0) return undefined;
  return session.media.map((m) => {
    const rtpmap = new Map<number, { name: string; rate: number }>();
    for (const r of m.rtp ?? [])
      if (r.rate !== undefined) rtpmap.set(r.payload, { name: r.codec, rate: r.rate });
    const formats = String(m.payloads ?? "")
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((n) => Number.isInteger(n) && n >= 0 && n < 128)
      .map((pt) => ({ pt, ...(rtpmap.get(pt) ?? STATIC[pt] ?? { name: "", rate: 0 }) }));
    const port = Number(m.port);
    return {
      type: m.type,
      port: Number.isInteger(port) ? port : 0,
      protocol: m.protocol,
      // A media-level c= wins over the session's; a multicast address may carry "/ttl".
      address: (m.connection ?? session.connection)?.ip?.split("/")[0],
      formats,
      direction: (m.direction ?? session.direction ?? "sendrecv") as Direction,
      srtp: /SAVP/i.test(m.protocol) || (m.crypto?.length ?? 0) > 0,
    };
  });
}

/** The first G.711 law in the peer's order, and its telephone-event type; undefined without either law. */
export function chooseMedia(stream: Pick<OfferedStream, "formats">): MediaChoice | undefined {
  const audio = stream.formats.find(
    (f) => (f.name.toUpperCase() === "PCMU" || f.name.toUpperCase() === "PCMA") && f.rate === 8000,
  );
  if (!audio) return undefined;
  const dtmf = stream.formats.find((f) => f.name.toLowerCase() === "telephone-event" && f.rate === 8000);
  return { codec: audio.name.toUpperCase() as G711Codec, codecPt: audio.pt, dtmfPt: dtmf?.pt };
}

/** Our stream from an offer, or why there is none (the text of the 488's Reason). */
export function negotiate(streams: readonly OfferedStream[]): Negotiated | { refused: string } {
  let srtp = false;
  for (const [index, s] of streams.entries()) {
    if (s.type !== "audio" || s.port === 0 || s.address === undefined) continue;
    if (s.srtp) {
      srtp = true;
      continue;
    }
    if (!/^RTP\/AVPF?$/i.test(s.protocol)) continue;
    const media = chooseMedia(s);
    if (!media) continue;
    // c=0.0.0.0 is RFC 2543's hold: the peer wants nothing sent.
    const held = s.address === "0.0.0.0" && s.direction === "sendrecv";
    return {
      index,
      remote: { address: s.address, port: s.port },
      media,
      direction: held ? "recvonly" : MIRROR[s.direction],
    };
  }
  return { refused: srtp ? "SRTP is not supported: offer RTP/AVP" : "No PCMU or PCMA audio stream offered" };
}

/** Whether we send RTP in a direction we answered with. */
export function weSend(direction: Direction): boolean {
  return direction === "sendrecv" || direction === "sendonly";
}

interface SessionLine {
  address: string;
  port: number;
  sessionId: number;
  /** o= version: one more for every new description in a dialog (RFC 3264 §8). */
  version: number;
}

/** The answer: our stream where the offer's audio was, every other stream refused (port 0). */
export function buildSdpAnswer(
  opts: SessionLine & { offer: readonly OfferedStream[]; chosen: Negotiated },
): string {
  const { chosen } = opts;
  const media = opts.offer.map((s, i) =>
    i === chosen.index
      ? audioLine(opts.port, chosen.media, chosen.direction, s.protocol)
      : {
          type: s.type,
          port: 0,
          protocol: s.protocol,
          payloads: s.formats[0]?.pt ?? 0,
          rtp: [],
          fmtp: [],
        },
  );
  return write(session(opts, media));
}

/** Our offer, for an INVITE without one: PCMU, PCMA and telephone-event 101. */
export function buildSdpOffer(opts: SessionLine & { direction?: Direction }): string {
  const media = audioLine(
    opts.port,
    { codec: "PCMU", codecPt: 0, dtmfPt: 101 },
    opts.direction ?? "sendrecv",
    "RTP/AVP",
    { codec: "PCMA", codecPt: 8 },
  );
  return write(session(opts, [media]));
}

function audioLine(
  port: number,
  media: MediaChoice,
  direction: Direction,
  protocol: string,
  also?: { codec: G711Codec; codecPt: number },
) {
  const dtmf = media.dtmfPt;
  const codecs = [media, ...(also ? [also] : [])];
  return {
    type: "audio",
    port,
    protocol,
    payloads: [...codecs.map((c) => c.codecPt), ...(dtmf === undefined ? [] : [dtmf])].join(" "),
    rtp: [
      ...codecs.map((c) => ({ payload: c.codecPt, codec: c.codec, rate: 8000 })),
      ...(dtmf === undefined ? [] : [{ payload: dtmf, codec: "telephone-event", rate: 8000 }]),
    ],
    fmtp: dtmf === undefined ? [] : [{ payload: dtmf, config: "0-15" }],
    ptime: 20,
    direction,
  };
}

function session(opts: SessionLine, media: ReturnType<typeof audioLine>[] | object[]) {
  return {
    version: 0,
    origin: {
      username: "switchboard",
      sessionId: opts.sessionId,
      sessionVersion: opts.version,
      netType: "IN",
      ipVer: 4 as const,
      address: opts.address,
    },
    name: "switchboard",
    connection: { version: 4, ip: opts.address },
    timing: { start: 0, stop: 0 },
    media: media as Parameters<typeof write>[0]["media"],
  };
}
