// One RtpSession over real loopback UDP sockets and the real pacer: each packet keeps its own header and
// frame although the session writes every packet into one buffer, and the caller's audio is decoded
// only while something hears it (issue #20's media plane).
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { Pacer } from "../../src/sip/media/pacer.js";
import { RtpSession } from "../../src/sip/media/rtp-session.js";
import { decodeG711, encodeG711 } from "../../src/sip/rtp/g711.js";
import { buildRtp, parseRtp, type RtpPacket } from "../../src/sip/rtp/packet.js";

const bound = async (address = "127.0.0.1"): Promise<Socket> => {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, address, resolve));
  return s;
};

/** Waits a few turns of the loop for `what` (datagrams on loopback arrive within them). */
const until = async (what: () => boolean) => {
  for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setImmediate(r));
  return what();
};

/** Sends RTP packets from `from` to `port` on 127.0.0.1, numbered in order. */
function sender(from: Socket, port: number) {
  let seq = 1;
  return (payloadType: number, payload: Uint8Array) =>
    new Promise<void>((resolve) =>
      from.send(
        buildRtp({ payloadType, marker: false, sequence: seq++, timestamp: seq * 160, ssrc: 7, payload }),
        port,
        "127.0.0.1",
        () => resolve(),
      ),
    );
}

/** An RFC 4733 end packet for `event` (a key). */
const keyEnd = (event: number) => Uint8Array.of(event, 0x80 | 10, 0x03, 0x20);

describe("RtpSession", () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  async function pair(
    hears: () => boolean,
    audio: (p: RtpPacket, pcm: Int16Array) => void = () => {},
    sources: (address: string) => boolean = () => false,
    /** The address the peer's SDP names, when not its socket's (127.0.0.1). */
    sdpAddress?: string,
  ) {
    const pacer = new Pacer();
    const peer = await bound();
    const socket = await bound();
    const keys: string[] = [];
    const strangers: string[] = [];
    const session = new RtpSession(
      socket,
      pacer,
      { address: sdpAddress ?? "127.0.0.1", port: peer.address().port },
      { codec: "PCMU", codecPt: 0, dtmfPt: 101 },
      { key: (k) => keys.push(k), audio, hears, stranger: (address) => strangers.push(address) },
      sources,
    );
    cleanup.push(() => {
      session.close(new Error("test over"));
      pacer.stop();
      peer.close();
    });
    return { session, peer, keys, strangers };
  }

  it("sends each frame of a prompt in its own packet, header and payload intact", async () => {
    const { session, peer } = await pair(() => false);
    // Eight frames, each a different constant, so a frame written over another shows.
    const frames = 8;
    const pcm = new Int16Array(160 * frames);
    for (let f = 0; f < frames; f++) pcm.fill(1000 * (f + 1), f * 160, (f + 1) * 160);
    const got: RtpPacket[] = [];
    const heard = new Promise<void>((resolve) =>
      peer.on("message", (data) => {
        const p = parseRtp(data);
        if (p && p.payload[0] !== 0xff) got.push({ ...p, payload: Uint8Array.from(p.payload) });
        if (got.length === frames) resolve();
      }),
    );
    session.start(performance.now());
    await session.play(pcm, new AbortController().signal);
    await heard;
    for (let f = 0; f < frames; f++) {
      const p = got[f] as RtpPacket;
      expect(p.payload).toEqual(encodeG711("PCMU", pcm.subarray(f * 160, (f + 1) * 160)));
      expect(p.payloadType).toBe(0);
      if (f > 0) {
        const prev = got[f - 1] as RtpPacket;
        expect(p.sequence).toBe((prev.sequence + 1) & 0xffff);
        expect(p.timestamp).toBe((prev.timestamp + 160) >>> 0);
        expect(p.ssrc).toBe(prev.ssrc);
      }
    }
  });

  it("decodes the caller's audio only while something hears it; keys always", async () => {
    let hearing = false;
    const decoded: Int16Array[] = [];
    const { session, keys } = await pair(
      () => hearing,
      (_p, pcm) => decoded.push(pcm),
    );
    const caller = await bound();
    cleanup.push(() => caller.close());
    const send = sender(caller, session.port);
    const tone = encodeG711("PCMU", new Int16Array(160).fill(2000));
    await send(0, tone);
    await send(0, tone);
    expect(await until(() => session.stats.received === 2)).toBe(true);
    expect(decoded).toHaveLength(0);
    // A key's end packet (event 5, end bit) comes through while nothing hears the audio.
    await send(101, keyEnd(5));
    expect(await until(() => keys.length === 1)).toBe(true);
    expect(keys).toEqual(["5"]);
    hearing = true;
    await send(0, tone);
    expect(await until(() => decoded.length === 1)).toBe(true);
    expect(decoded[0]).toEqual(decodeG711("PCMU", tone));
  });

  it("takes packets only from its peer: a stranger's keys and audio are dropped and do not move the stream", async () => {
    const decoded: Int16Array[] = [];
    // The SDP names 127.0.0.1 (a peer's private address, say); its signalling comes from 127.0.0.2.
    const { session, peer, keys, strangers } = await pair(
      () => true,
      (_p, pcm) => decoded.push(pcm),
      (address) => address === "127.0.0.2",
    );
    const stranger = await bound("127.0.0.3");
    const natted = await bound("127.0.0.2");
    cleanup.push(() => {
      stranger.close();
      natted.close();
    });
    const tone = encodeG711("PCMU", new Int16Array(160).fill(2000));
    const fromStranger = sender(stranger, session.port);
    await fromStranger(101, keyEnd(9));
    await fromStranger(0, tone);
    expect(await until(() => session.stats.foreign === 2)).toBe(true);
    expect(keys).toEqual([]);
    expect(decoded).toEqual([]);
    expect(session.remote).toEqual({ address: "127.0.0.1", port: peer.address().port });
    // The peer's own packets, from its signalling address: heard, and the stream goes there.
    const fromPeer = sender(natted, session.port);
    await fromPeer(101, keyEnd(5));
    await fromPeer(0, tone);
    expect(await until(() => decoded.length === 1)).toBe(true);
    expect(keys).toEqual(["5"]);
    expect(session.remote).toEqual({ address: "127.0.0.2", port: natted.address().port });
    // Once the stream is the peer's, a stranger still cannot take it.
    await fromStranger(101, keyEnd(1));
    expect(await until(() => session.stats.foreign === 3)).toBe(true);
    expect(keys).toEqual(["5"]);
    // Reported once (for the log), not once a packet.
    expect(strangers).toEqual(["127.0.0.3"]);
    expect(session.remote?.address).toBe("127.0.0.2");
  });

  it("still takes the SDP's own address after following the signalling peer's", async () => {
    const { session, peer, keys } = await pair(
      () => false,
      () => {},
      (address) => address === "127.0.0.2",
    );
    const natted = await bound("127.0.0.2");
    cleanup.push(() => natted.close());
    await sender(natted, session.port)(101, keyEnd(1));
    expect(await until(() => keys.length === 1)).toBe(true);
    expect(session.remote?.address).toBe("127.0.0.2");
    // The peer's SDP address (127.0.0.1) sends too: heard, and the stream stays where it went.
    await sender(peer, session.port)(101, keyEnd(2));
    expect(await until(() => keys.length === 2)).toBe(true);
    expect(keys).toEqual(["1", "2"]);
    expect(session.stats.foreign).toBe(0);
  });

  it("learns the source when the SDP names an address behind NAT, until the peer's own is heard", async () => {
    // The SDP names 10.0.0.7 (unreachable from here); media comes from wherever the NAT maps it.
    const { session, peer, keys, strangers } = await pair(
      () => false,
      () => {},
      (address) => address === "127.0.0.2",
      "10.0.0.7",
    );
    const mapped = await bound("127.0.0.3");
    const signalling = await bound("127.0.0.2");
    const other = await bound("127.0.0.4");
    cleanup.push(() => {
      mapped.close();
      signalling.close();
      other.close();
    });
    // The first packet, from anywhere, is taken for the peer's: the stream goes there.
    await sender(mapped, session.port)(101, keyEnd(3));
    expect(await until(() => keys.length === 1)).toBe(true);
    expect(session.remote).toEqual({ address: "127.0.0.3", port: mapped.address().port });
    // Anyone else is not.
    await sender(other, session.port)(101, keyEnd(4));
    expect(await until(() => session.stats.foreign === 1)).toBe(true);
    expect(strangers).toEqual(["127.0.0.4"]);
    // The peer's own address (its signalling's) wins over what was learned.
    await sender(signalling, session.port)(101, keyEnd(5));
    expect(await until(() => keys.length === 2)).toBe(true);
    expect(session.remote?.address).toBe("127.0.0.2");
    await sender(mapped, session.port)(101, keyEnd(6));
    expect(await until(() => session.stats.foreign === 2)).toBe(true);
    expect(keys).toEqual(["3", "5"]);
    // A session refresh with the same SDP leaves the stream where it is, and opens no new learning.
    session.renegotiate({ remote: { address: "10.0.0.7", port: peer.address().port }, sending: true });
    expect(session.remote?.address).toBe("127.0.0.2");
    await sender(other, session.port)(101, keyEnd(7));
    expect(await until(() => session.stats.foreign === 3)).toBe(true);
  });
});
