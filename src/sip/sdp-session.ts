// A call's SDP session: the offer/answer exchanges of its dialog (RFC 3264) — the INVITE's, a
// re-INVITE's or UPDATE's (hold, resume, a moved address), or ours when the caller sent none — and
// what each changes on its RTP stream. One o= session id; its version goes up with every new SDP.
import type { RtpSession } from "./media/rtp-session.js";
import {
  buildSdpAnswer,
  buildSdpOffer,
  type Negotiated,
  negotiate,
  type OfferedStream,
  parseSdp,
  weSend,
} from "./sdp.js";
import type { OfferResult } from "./ua/inbound-dialog.js";

export class SdpSession {
  #version: number;

  constructor(
    private readonly rtp: RtpSession,
    /** The address in our c= and o= lines (behind NAT, the advertised one). */
    private readonly address: string,
    private readonly id: number,
  ) {
    this.#version = id;
  }

  /** Reads an offer: its streams and our choice, or why it is refused (488). */
  static read(sdp: string): { streams: OfferedStream[]; chosen: Negotiated } | { refused: string } {
    const streams = parseSdp(sdp);
    if (!streams) return { refused: "Malformed SDP" };
    const chosen = negotiate(streams);
    return "refused" in chosen ? chosen : { streams, chosen };
  }

  /** Applies an accepted offer to the stream and writes the answer. */
  answer(streams: readonly OfferedStream[], chosen: Negotiated): string {
    this.rtp.renegotiate({ remote: chosen.remote, media: chosen.media, sending: weSend(chosen.direction) });
    return buildSdpAnswer({ ...this.#line(), offer: streams, chosen });
  }

  /** An offer inside the dialog: applied and answered, or refused with the session left as it was. */
  reoffer(sdp: string): OfferResult {
    const read = SdpSession.read(sdp);
    if ("refused" in read) return { status: 488, text: read.refused };
    return { sdp: this.answer(read.streams, read.chosen) };
  }

  /** Our offer (an INVITE or re-INVITE without SDP): both G.711 laws and telephone-event. */
  offer(): string {
    return buildSdpOffer(this.#line());
  }

  /** The answer to our offer, from the ACK; false when it settles on nothing we can send. */
  answered(sdp: string): boolean {
    const read = SdpSession.read(sdp);
    if ("refused" in read) return false;
    const { chosen } = read;
    // An answer's direction is already from its own side: the peer's sendonly is our recvonly.
    this.rtp.renegotiate({ remote: chosen.remote, media: chosen.media, sending: weSend(chosen.direction) });
    return true;
  }

  #line() {
    return { address: this.address, port: this.rtp.port, sessionId: this.id, version: this.#version++ };
  }
}
