// SDP offer/answer: the caller's G.711 choice and telephone-event payload type.
import { describe, expect, it } from "vitest";
import { buildSdpAnswer, chooseMedia, parseSdpOffer } from "../../src/sip/sdp.js";

const offer = (m: string, extra: string[] = []) =>
  ["v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "c=IN IP4 10.0.0.1", "t=0 0", m, ...extra, ""].join("\r\n");

describe("SDP", () => {
  it("chooses the first G.711 law in the caller's order, and its telephone-event type", () => {
    const sdp = offer("m=audio 4000 RTP/AVP 18 8 0 96", [
      "a=rtpmap:18 G729/8000",
      "a=rtpmap:96 telephone-event/8000",
    ]);
    const parsed = parseSdpOffer(sdp);
    expect(parsed).toMatchObject({ address: "10.0.0.1", port: 4000 });
    expect(parsed && chooseMedia(parsed)).toEqual({ codec: "PCMA", codecPt: 8, dtmfPt: 96 });
  });

  it("uses the media-level address over the session's, and static types without rtpmap", () => {
    const parsed = parseSdpOffer(offer("m=audio 4002 RTP/AVP 0", ["c=IN IP4 10.0.0.9"]));
    expect(parsed).toMatchObject({ address: "10.0.0.9", port: 4002 });
    expect(parsed && chooseMedia(parsed)).toEqual({ codec: "PCMU", codecPt: 0, dtmfPt: undefined });
  });

  it("finds no media when neither law is offered, or there is no audio", () => {
    const g729 = parseSdpOffer(offer("m=audio 4000 RTP/AVP 18", ["a=rtpmap:18 G729/8000"]));
    expect(g729 && chooseMedia(g729)).toBeUndefined();
    expect(parseSdpOffer(offer("m=video 4000 RTP/AVP 96"))).toBeUndefined();
  });

  it("answers with one codec, telephone-event 0-15 and 20 ms packets", () => {
    const answer = buildSdpAnswer({
      address: "127.0.0.1",
      port: 20000,
      sessionId: 7,
      media: { codec: "PCMU", codecPt: 0, dtmfPt: 101 },
    });
    expect(answer).toContain("m=audio 20000 RTP/AVP 0 101\r\n");
    expect(answer).toContain("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n");
    expect(answer).toContain("c=IN IP4 127.0.0.1\r\n");
    expect(answer).toContain("a=ptime:20\r\n");
  });
});
