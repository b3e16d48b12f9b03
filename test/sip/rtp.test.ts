// RTP framing and RFC 4733 telephone-events.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildRtp, parseRtp } from "../../src/sip/rtp/packet.js";
import {
  buildTelephoneEvent,
  DtmfReceiver,
  eventOf,
  keyOf,
  parseTelephoneEvent,
} from "../../src/sip/rtp/telephone-event.js";

describe("RTP packets", () => {
  it("reads back what it builds", () => {
    fc.assert(
      fc.property(
        fc.record({
          payloadType: fc.integer({ min: 0, max: 71 }),
          marker: fc.boolean(),
          sequence: fc.integer({ min: 0, max: 0xffff }),
          timestamp: fc.integer({ min: 0, max: 0xffffffff }),
          ssrc: fc.integer({ min: 0, max: 0xffffffff }),
          payload: fc.uint8Array({ maxLength: 320 }),
        }),
        (p) => {
          expect(parseRtp(buildRtp(p))).toEqual(p);
        },
      ),
    );
  });

  it("skips CSRCs, a header extension and padding", () => {
    const payload = Uint8Array.of(1, 2, 3);
    const packet = Uint8Array.of(
      0xb1, // V=2, P=1, X=1, CC=1
      0x00,
      0,
      1,
      0,
      0,
      0,
      160,
      0,
      0,
      0,
      7,
      ...[9, 9, 9, 9], // CSRC
      ...[0xbe, 0xde, 0, 1, 5, 5, 5, 5], // extension: one word
      ...payload,
      0,
      2, // two bytes of padding
    );
    expect(parseRtp(packet)?.payload).toEqual(payload);
  });

  it("refuses what is not RTP version 2, and RTCP", () => {
    expect(parseRtp(Uint8Array.of(0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))).toBeUndefined();
    expect(parseRtp(Uint8Array.of(0x80, 200, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0))).toBeUndefined();
    expect(parseRtp(Uint8Array.of(0x80, 0))).toBeUndefined();
  });
});

describe("RFC 4733 telephone-events", () => {
  it("maps keys to events and back", () => {
    expect(eventOf("5")).toBe(5);
    expect(eventOf("*")).toBe(10);
    expect(eventOf("#")).toBe(11);
    expect(eventOf("D")).toBe(15);
    expect(keyOf(11)).toBe("#");
    expect(keyOf(16)).toBeUndefined();
  });

  it("reads back what it builds", () => {
    const e = { event: 11, end: true, volume: 10, duration: 800 };
    expect(parseTelephoneEvent(buildTelephoneEvent(e))).toEqual(e);
  });

  it("reports each key once, however often its packets and end packets repeat", () => {
    const rx = new DtmfReceiver();
    const keys: string[] = [];
    const send = (ts: number, event: number, end: boolean, duration: number) => {
      const k = rx.receive(42, ts, buildTelephoneEvent({ event, end, volume: 10, duration }));
      if (k !== undefined) keys.push(k);
    };
    for (const [ts, event] of [
      [1000, 1],
      [5000, 2],
      [9000, 1],
    ] as const) {
      for (let d = 160; d <= 800; d += 160) send(ts, event, false, d);
      for (let i = 0; i < 3; i++) send(ts, event, true, 960);
    }
    expect(keys.join("")).toBe("121");
  });

  it("takes a replayed press (the same timestamp, after the event ended and a pause) as a new key", () => {
    const rx = new DtmfReceiver();
    const press = (at: number) => {
      const keys: string[] = [];
      for (let i = 0; i < 5; i++) {
        const k = rx.receive(
          7,
          4000,
          buildTelephoneEvent({ event: 11, end: i >= 3, volume: 10, duration: 160 * (i + 1) }),
          at + i * 20,
        );
        if (k !== undefined) keys.push(k);
      }
      return keys.join("");
    };
    expect(press(0)).toBe("#");
    // sipp's play_pcap_audio sends the same pcap again a few seconds later: a second #.
    expect(press(3000)).toBe("#");
    // End retransmissions that come late but within a few packet times are still the same press.
    expect(
      rx.receive(7, 4000, buildTelephoneEvent({ event: 11, end: true, volume: 10, duration: 960 }), 3150),
    ).toBeUndefined();
  });
});
