// SDP offer/answer: the caller's G.711 choice and telephone-event payload type, every offered stream
// answered (the others with port 0), the offer's direction mirrored, and SRTP refused.
import { describe, expect, it } from "vitest";
import { buildSdpAnswer, buildSdpOffer, chooseMedia, negotiate, parseSdp } from "../../src/sip/sdp.js";

const offer = (m: string, extra: string[] = [], more: string[] = []) =>
  ["v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "c=IN IP4 10.0.0.1", "t=0 0", m, ...extra, ...more, ""].join(
    "\r\n",
  );

function chosen(sdp: string) {
  const streams = parseSdp(sdp);
  if (!streams) throw new Error("not SDP");
  const n = negotiate(streams);
  if ("refused" in n) throw new Error(n.refused);
  return { streams, n };
}

describe("SDP", () => {
  it("chooses the first G.711 law in the caller's order, and its telephone-event type", () => {
    const sdp = offer("m=audio 4000 RTP/AVP 18 8 0 96", [
      "a=rtpmap:18 G729/8000",
      "a=rtpmap:96 telephone-event/8000",
    ]);
    const { n } = chosen(sdp);
    expect(n.remote).toEqual({ address: "10.0.0.1", port: 4000 });
    expect(n.media).toEqual({ codec: "PCMA", codecPt: 8, dtmfPt: 96 });
  });

  it("uses the media-level address over the session's, and static types without rtpmap", () => {
    const { n } = chosen(offer("m=audio 4002 RTP/AVP 0", ["c=IN IP4 10.0.0.9"]));
    expect(n.remote).toEqual({ address: "10.0.0.9", port: 4002 });
    expect(n.media).toEqual({ codec: "PCMU", codecPt: 0, dtmfPt: undefined });
  });

  it("finds no media when neither law is offered, or there is no audio", () => {
    const g729 = parseSdp(offer("m=audio 4000 RTP/AVP 18", ["a=rtpmap:18 G729/8000"]));
    expect(g729?.[0] && chooseMedia(g729[0])).toBeUndefined();
    expect(negotiate(parseSdp(offer("m=video 4000 RTP/AVP 96")) ?? [])).toEqual({
      refused: "No PCMU or PCMA audio stream offered",
    });
  });

  it("refuses an offer whose only audio is SRTP, by profile or by a=crypto", () => {
    const savp = parseSdp(offer("m=audio 4000 RTP/SAVP 0")) ?? [];
    const crypto =
      parseSdp(offer("m=audio 4000 RTP/AVP 0", ["a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x"])) ?? [];
    expect(negotiate(savp)).toEqual({ refused: "SRTP is not supported: offer RTP/AVP" });
    expect(negotiate(crypto)).toEqual({ refused: "SRTP is not supported: offer RTP/AVP" });
  });

  it("answers every stream, refusing the others with port 0, and mirrors the direction", () => {
    const sdp = offer(
      "m=audio 4000 RTP/AVP 0 101",
      ["a=rtpmap:101 telephone-event/8000", "a=sendonly"],
      ["m=video 4002 RTP/AVP 96", "a=rtpmap:96 H264/90000"],
    );
    const { streams, n } = chosen(sdp);
    const answer = buildSdpAnswer({
      address: "127.0.0.1",
      port: 20000,
      sessionId: 7,
      version: 8,
      offer: streams,
      chosen: n,
    });
    expect(answer).toContain("m=audio 20000 RTP/AVP 0 101\r\n");
    expect(answer).toContain("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n");
    expect(answer).toContain("c=IN IP4 127.0.0.1\r\n");
    expect(answer).toContain("o=switchboard 7 8 IN IP4 127.0.0.1\r\n");
    expect(answer).toContain("a=ptime:20\r\n");
    expect(answer).toContain("a=recvonly\r\n");
    expect(answer).toContain("m=video 0 RTP/AVP 96\r\n");
  });

  it("offers both laws and telephone-event when the caller sent no offer", () => {
    const sdp = buildSdpOffer({ address: "127.0.0.1", port: 20002, sessionId: 1, version: 1 });
    expect(sdp).toContain("m=audio 20002 RTP/AVP 0 8 101\r\n");
    expect(sdp).toContain("a=sendrecv\r\n");
  });
});
