// The Media Streams client on its own, against a real WebSocket server, at time-scales above 0: audio
// paced in the call's time, marks answered once the audio before them has played, clear.

import type { AddressInfo } from "node:net";
import { createServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallClock } from "../../src/clock/call-clock.js";
import { MediaStream, type MediaStreamOptions } from "../../src/region/streams/media-stream.js";
import { WebhookClient } from "../../src/webhook/client.js";
import { startWsServer, type WsServer } from "../helpers/ws-server.js";

let ws: WsServer;
beforeAll(async () => {
  ws = await startWsServer();
});
const web = new WebhookClient();
afterAll(async () => {
  await web.close();
  await ws?.close();
});

/** A stream on a fresh connection; the call's time runs 10× faster than real time. */
async function open(overrides: Partial<MediaStreamOptions> = {}) {
  const clock = new CallClock(0.1);
  const invalid: string[] = [];
  const n = ws.connections.length;
  /** No later than the stream's own start. */
  const openedBefore = clock.now();
  const stream = await MediaStream.open({
    url: `${ws.url}/s`,
    streamSid: "MZ00000000000000000000000000000001",
    accountSid: "AC00000000000000000000000000000001",
    callSid: "CA00000000000000000000000000000001",
    track: "inbound_track",
    parameters: {},
    bidirectional: true,
    clock,
    web,
    onInvalidMessage: (reason) => invalid.push(reason),
    ...overrides,
  });
  return { stream, clock, invalid, openedBefore, conn: await ws.connection(n) };
}

const sid = "MZ00000000000000000000000000000001";

describe("a media stream at time-scale > 0", () => {
  it("sends the caller's audio as the call's time passes, 20 ms a frame", async () => {
    const { stream, clock, conn, openedBefore } = await open();
    await conn.waitFor((m) => m.event === "media" && (m.media as { chunk: string }).chunk === "40");
    // 40 frames are 800 ms of audio: they cannot all have gone out before that much call time passed.
    expect(clock.now() - openedBefore).toBeGreaterThanOrEqual(780);
    stream.stop();
    await stream.ended;
    const frames = conn.messages.filter((m) => (m as { event: string }).event === "media") as {
      media: { timestamp: string; chunk: string };
    }[];
    expect(frames.map((f) => f.media.timestamp)).toEqual(frames.map((_, i) => String(i * 20)));
    expect(conn.messages.at(-1)).toMatchObject({ event: "stop" });
    await expect(stream.ended).resolves.toBe("engine");
  });

  it("answers a mark once the audio sent before it has played", async () => {
    const { stream, clock, conn } = await open();
    // 1600 bytes of μ-law are 200 ms of audio.
    conn.send({
      event: "media",
      streamSid: sid,
      media: { payload: Buffer.alloc(1600, 0x7f).toString("base64") },
    });
    const sentAt = clock.now();
    conn.send({ event: "mark", streamSid: sid, mark: { name: "after-audio" } });
    await conn.waitFor((m) => m.event === "mark");
    expect(clock.now() - sentAt).toBeGreaterThanOrEqual(190);
    stream.stop();
  });

  it("answers pending marks at once on clear, and reports the first bad message only", async () => {
    const { stream, clock, conn, invalid } = await open();
    const sentAt = clock.now();
    conn.send({
      event: "media",
      streamSid: sid,
      media: { payload: Buffer.alloc(40_000).toString("base64") },
    });
    conn.send({ event: "mark", streamSid: sid, mark: { name: "five-seconds-later" } });
    conn.send({ event: "bogus", streamSid: sid });
    conn.send({ event: "mark", streamSid: "MZ-other", mark: { name: "x" } });
    conn.send({ event: "clear", streamSid: sid });
    const mark = await conn.waitFor((m) => m.event === "mark");
    expect(mark.mark).toEqual({ name: "five-seconds-later" });
    // Answered by the clear, not by the five seconds of audio running out.
    expect(clock.now() - sentAt).toBeLessThan(4000);
    expect(invalid).toEqual([`stream ${sid} received an unknown "bogus" message`]);
    stream.stop();
  });

  it("ends as `server` when the server closes it", async () => {
    const { stream, conn } = await open({ bidirectional: false });
    conn.close();
    await expect(stream.ended).resolves.toBe("server");
  });

  it("rejects with 31920 when the server refuses the upgrade", async () => {
    const refusing = await startWsServer({ paths: [] });
    try {
      await expect(open({ url: `${refusing.url}/s` })).rejects.toMatchObject({ code: 31920 });
    } finally {
      await refusing.close();
    }
  });

  it("rejects with 31901 when the server never completes the handshake", async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      await expect(open({ url: `ws://127.0.0.1:${port}/s`, openTimeoutMs: 200 })).rejects.toMatchObject({
        code: 31901,
      });
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
