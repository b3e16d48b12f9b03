// Framing on TCP (RFC 3261 §18.3) as the gateway checks it before the sip package reads a stream:
// messages split and pipelined across chunks pass whole; a message whose length cannot be trusted
// breaks the framing, and what came before it in the chunk still passes.
import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES, MAX_HEAD_BYTES, StreamFraming } from "../../src/sip/ua/stream-framing.js";

/** An OPTIONS with `body`; `length` its Content-Length (null: none). */
const message = (body: string, length: string | null = String(body.length)) =>
  [
    "OPTIONS sip:a@127.0.0.1 SIP/2.0",
    "Via: SIP/2.0/TCP 127.0.0.2:5060;branch=z9hG4bK1",
    "Call-ID: 1",
    ...(length === null ? [] : [`Content-Length: ${length}`]),
    "",
    body,
  ].join("\r\n");

describe("StreamFraming", () => {
  it("passes messages split at every byte and pipelined in one chunk, with keep-alive CRLFs between", () => {
    // One ping (a double CRLF) before the first message; a lone CRLF between two others is none.
    const stream = `\r\n\r\n${message("v=0\r\n")}${message("")}\r\n${message("Signal=5\r\n")}`;
    for (let cut = 0; cut <= stream.length; cut++) {
      const framing = new StreamFraming();
      const first = framing.push(stream.slice(0, cut));
      const second = framing.push(stream.slice(cut));
      expect([first.sound, second.sound, first.broken, second.broken]).toEqual([
        cut,
        stream.length - cut,
        undefined,
        undefined,
      ]);
      expect((first.pings ?? 0) + (second.pings ?? 0)).toBe(1);
    }
    // Byte by byte: the ping is complete at its fourth byte.
    const framing = new StreamFraming();
    const checks = [...stream].map((c) => framing.push(c));
    expect(checks.every((c) => c.broken === undefined)).toBe(true);
    expect(
      checks
        .map((c) => c.pings ?? 0)
        .join("")
        .slice(0, 6),
    ).toBe("000100");
    expect(checks.reduce((n, c) => n + (c.pings ?? 0), 0)).toBe(1);
  });

  it("counts each double CRLF between messages as one ping, however the chunks cut them", () => {
    const framing = new StreamFraming();
    expect(framing.push("\r\n\r\n\r\n\r\n").pings).toBe(2);
    expect(framing.push("\r\n").pings).toBeUndefined();
    expect(framing.push("\r\n").pings).toBe(1);
    // Whitespace of any length between messages holds only a ping's beginning; a read full of
    // pings counts every one.
    expect(framing.push(" ".repeat(100_000)).pings).toBeUndefined();
    expect(framing.push("\r\n\r\n".repeat(16_384)).pings).toBe(16_384);
    expect(framing.push(message("")).pings).toBeUndefined();
  });

  it("breaks on a message without Content-Length, with one given twice, malformed or too large", () => {
    const cases: [string, RegExp][] = [
      [message("", null), /without Content-Length/],
      [message("ab").replace("Content-Length: 2", "Content-Length: 2\r\nl: 3"), /given twice/],
      [message("", "x"), /malformed Content-Length "x"/],
      [message("", "-1"), /malformed/],
      [message("", "1e3"), /malformed/],
      [message("", String(MAX_BODY_BYTES + 1)), /more than 65536/],
    ];
    for (const [text, why] of cases) {
      const sound = message("ok");
      expect(new StreamFraming().push(sound + text), text).toEqual({
        sound: sound.length,
        broken: expect.stringMatching(why),
      });
    }
    // Heads the sip package would not read (it would take the body for the next message's head).
    const heads: [string, RegExp][] = [
      [
        message("ab").replace("OPTIONS sip:a@127.0.0.1 SIP/2.0", "HELLO"),
        /neither a request's nor a response's/,
      ],
      [message("ab").replace("Call-ID: 1", "Call-ID 1"), /a header line without ':'/],
    ];
    for (const [text, why] of heads) expect(new StreamFraming().push(text).broken, text).toMatch(why);
    // Read as the package reads it: folded (§7.3.1), its name escaped.
    expect(
      new StreamFraming().push(message("ab").replace("Content-Length: 2", "Content-Length:\r\n 2")).broken,
    ).toBeUndefined();
    expect(
      new StreamFraming().push(
        message("ab").replace("Content-Length: 2", "Content-Length: 2\r\nContent%2dLength: 9"),
      ).broken,
    ).toMatch(/given twice \(2, 9\)/);
    // The compact form (l) is a Content-Length; the same value twice is one length.
    expect(new StreamFraming().push(message("ab").replace("Content-Length", "l")).broken).toBeUndefined();
    expect(
      new StreamFraming().push(message("ab").replace("Content-Length: 2", "Content-Length: 2\r\nl: 2"))
        .broken,
    ).toBeUndefined();
  });

  it("breaks on headers that never end within the limit, counting from the message's first byte", () => {
    const framing = new StreamFraming();
    const sound = message("ok");
    expect(framing.push(sound)).toEqual({ sound: sound.length });
    const line = `X-Filler: ${"a".repeat(1000)}\r\n`;
    let sent = 0;
    let check = framing.push("OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n");
    while (check.broken === undefined) {
      check = framing.push(line);
      sent += line.length;
      expect(sent).toBeLessThan(MAX_HEAD_BYTES + 2 * line.length);
    }
    // The message began in an earlier chunk: nothing of this one is sound.
    expect(check).toEqual({ sound: 0, broken: `headers over ${MAX_HEAD_BYTES} bytes` });
  });
});
