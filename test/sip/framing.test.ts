// Framing the gateway cannot trust (RFC 3261 §18.3), as `switchboard sip` meets it: over UDP a request
// whose body is shorter than its Content-Length, or whose Content-Length is not a number, gets 400;
// over TCP a message without a usable Content-Length closes the connection after the messages before
// it are answered. Each is logged, and nothing but JSON reaches the gateway's stdout. A keep-alive
// ping over TCP gets its pong.
import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { startTestEngine } from "../helpers/engine.js";
import { startSipProcess } from "./harness.js";
import { parseSip, rawPeer, request, type SipText } from "./raw-sip.js";

const final = (m: { status: number | undefined }) => (m.status ?? 0) >= 200;

/**
 * Writes `text` on a new TCP connection from 127.0.0.2 and reads what comes back until `enough` says
 * so, or until the gateway closes the connection.
 */
async function exchange(port: number, text: string, enough: (received: string) => boolean): Promise<string> {
  const socket: Socket = connect({ host: "127.0.0.1", port, localAddress: "127.0.0.2" });
  try {
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    let received = "";
    const done = new Promise<void>((resolve) => {
      socket.setEncoding("latin1").on("data", (chunk: string) => {
        received += chunk;
        if (enough(received)) resolve();
      });
      socket.once("close", () => resolve());
    });
    socket.write(text, "latin1");
    await done;
    return received;
  } finally {
    socket.destroy();
  }
}

/** The responses in what a connection received. */
const repliesIn = (received: string): SipText[] =>
  received
    .split(/(?=SIP\/2\.0 )/)
    .filter(Boolean)
    .map(parseSip);

/** Writes `text` on a new TCP connection; what came back once the gateway closed it. */
const sendAndWaitClose = (port: number, text: string) => exchange(port, text, () => false);

/** Writes `text` on a new TCP connection; the responses, once `count` came back (or it closed). */
const answersOn = async (port: number, text: string, count: number) =>
  repliesIn(await exchange(port, text, (received) => (received.match(/SIP\/2\.0 /g)?.length ?? 0) >= count));

describe("SIP framing", () => {
  it("refuses over UDP with 400 and closes a TCP connection, logging why", { timeout: 60_000 }, async () => {
    await using engine = await startTestEngine();
    const started = await startSipProcess(engine.nats.url);
    await using gateway = started.process;
    await gateway.waitForLog("ready");
    const uri = `sip:+15551230000@127.0.0.1:${started.sipPort}`;

    await using udp = await rawPeer("127.0.0.2", started.sipPort);
    const ask = async (text: string) => {
      udp.send(text);
      return await udp.next(final);
    };
    const short = await ask(
      request(udp, "OPTIONS", uri, { body: "abc" }).replace("Content-Length: 3", "Content-Length: 50"),
    );
    expect(short.start).toBe("SIP/2.0 400 Bad Request");
    expect(short.header("Reason")).toBe(
      'SIP ;cause=400 ;text="Content-Length 50 is larger than the body (3 bytes)"',
    );
    const notANumber = await ask(
      request(udp, "OPTIONS", uri).replace("Content-Length: 0", "Content-Length: x"),
    );
    expect(notANumber.header("Reason")).toBe('SIP ;cause=400 ;text="Malformed Content-Length"');
    // A sound one, for contrast: the bytes after the body are not part of it.
    const sound = await ask(`${request(udp, "OPTIONS", uri)}trailing`);
    expect(sound.start).toBe("SIP/2.0 200 OK");

    const tcp = { address: "127.0.0.2", port: 5060, transport: "TCP" as const };
    // The first OPTIONS is answered; the second has no Content-Length, and the connection goes.
    const first = request(tcp, "OPTIONS", uri, { cseq: 7 });
    const unframed = request(tcp, "OPTIONS", uri, { cseq: 8 }).replace("Content-Length: 0\r\n", "");
    const answers = await sendAndWaitClose(started.sipPort, first + unframed);
    const replies = repliesIn(answers);
    expect(replies.map((r) => `${r.status} ${r.header("cseq")}`)).toEqual(["200 7 OPTIONS"]);
    expect((await gateway.waitForLog("SIP message refused for its framing")).why).toBe(
      "a message without Content-Length",
    );
    // Large but within the limits: a 62 KB body in one write, then 360 messages in one write (the sip
    // package alone gave up on either past 60,480 bytes unread).
    const big = request(tcp, "OPTIONS", uri, { cseq: 9, body: "x".repeat(62_000) });
    const burst = Array.from({ length: 360 }, (_, i) => request(tcp, "OPTIONS", uri, { cseq: 100 + i })).join(
      "",
    );
    const answered = await answersOn(started.sipPort, big + burst, 361);
    expect(answered.map((r) => r.status)).toEqual(Array(361).fill(200));
    // A keep-alive ping (a double CRLF) is answered with one CRLF, and the connection goes on: its
    // pong first, then the OPTIONS's 200 (RFC 5626 §3.5.1).
    const pinged = await exchange(
      started.sipPort,
      `\r\n\r\n${request(tcp, "OPTIONS", uri, { cseq: 500 })}`,
      (received) => received.includes("SIP/2.0 200"),
    );
    expect(pinged.startsWith("\r\nSIP/2.0 200 OK\r\n")).toBe(true);
    // A body larger than the gateway takes: closed at once, without an answer.
    const huge = request(tcp, "INVITE", uri).replace("Content-Length: 0", "Content-Length: 1000000");
    expect(await sendAndWaitClose(started.sipPort, huge)).toBe("");

    await gateway.waitForLine(/more than 65536/);
    expect(await gateway.stop()).toBe(0);
    // The sip package's own "Flood attempt" line would be here, among the JSON.
    const lines = gateway
      .output()
      .split("\n")
      .filter((l) => l.trim() !== "");
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  });
});
