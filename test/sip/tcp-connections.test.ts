// TCP connections from outside --allow: a stranger may connect (a callee's BYE may come that way) but
// holds at most MAX_PER_STRANGER at once; the next is closed at once, and one closing makes room.
// A peer inside --allow is not counted, nor one whose caller authenticated.
import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { InboundAccess } from "../../src/sip/inbound-access.js";
import { SipUsers } from "../../src/sip/sip-users.js";
import { MAX_PER_STRANGER } from "../../src/sip/ua/connection-limits.js";
import { authorization, parseChallenge } from "../../src/sip/ua/digest.js";
import { DigestCheck } from "../../src/sip/ua/digest-check.js";
import { startTestEngine } from "../helpers/engine.js";
import { startGateway } from "./harness.js";
import { parseSip, rawPeer, request, sdpOffer } from "./raw-sip.js";

const REALM = "sip.example.com";
const md5 = (s: string) => createHash("md5").update(s).digest("hex");

interface Peer {
  socket: Socket;
  /** The response to an OPTIONS sent on it, or "closed" when the gateway closed it first. */
  options(uri: string): Promise<number | "closed">;
}

async function open(from: string, port: number): Promise<Peer> {
  const socket = connect({ host: "127.0.0.1", port, localAddress: from });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let received = "";
  let closed = false;
  const waiters = new Set<() => void>();
  socket.setEncoding("latin1").on("data", (chunk: string) => {
    received += chunk;
    for (const w of waiters) w();
  });
  socket.on("error", () => {});
  socket.once("close", () => {
    closed = true;
    for (const w of waiters) w();
  });
  return {
    socket,
    options: (uri) =>
      new Promise((resolve) => {
        const check = () => {
          const status = parseSip(received).status;
          if (status !== undefined) resolve(status);
          else if (closed) resolve("closed");
          else return;
          waiters.delete(check);
        };
        waiters.add(check);
        if (!closed)
          socket.write(request({ address: from, port: 5060, transport: "TCP" }, "OPTIONS", uri), "latin1");
        check();
      }),
  };
}

/**
 * Opens MAX_PER_STRANGER connections from `from` (each served: its OPTIONS is 403, a stranger may not
 * call), then one more, which the gateway closes. All go in `peers`, to be destroyed.
 */
async function fillToCap(from: string, port: number, uri: string, peers: Peer[]): Promise<void> {
  const held: Peer[] = [];
  for (let i = 0; i < MAX_PER_STRANGER; i++) held.push(await open(from, port));
  peers.push(...held);
  expect(await Promise.all(held.map((p) => p.options(uri)))).toEqual(Array(MAX_PER_STRANGER).fill(403));
  const over = await open(from, port);
  peers.push(over);
  expect(await over.options(uri)).toBe("closed");
}

describe("TCP connections from outside --allow", () => {
  it("are held to MAX_PER_STRANGER at once from one address; the allowed are not counted", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine({ worker: false });
    await using gw = await startGateway(engine, "gw1", { access: new InboundAccess(["127.0.0.2/32"]) });
    const uri = `sip:+15551230000@127.0.0.1:${gw.sipPort}`;
    const peers: Peer[] = [];
    try {
      // A stranger's connections are served (its OPTIONS is refused 403: it may not call) up to the cap.
      await fillToCap("127.0.0.3", gw.sipPort, uri, peers);
      // Another stranger has its own count.
      const other = await open("127.0.0.4", gw.sipPort);
      peers.push(other);
      expect(await other.options(uri)).toBe(403);
      // One closes: room for one more.
      const first = peers[0] as Peer;
      await new Promise<void>((resolve) => first.socket.end(resolve));
      await new Promise<void>((resolve) =>
        first.socket.closed ? resolve() : first.socket.once("close", () => resolve()),
      );
      const again = await openWhenRoom("127.0.0.3", gw.sipPort, uri, peers);
      expect(again).toBe(403);
      // The allowed caller is not counted: twice the cap, each served (200).
      const allowed: Peer[] = [];
      for (let i = 0; i < 2 * MAX_PER_STRANGER; i++) allowed.push(await open("127.0.0.2", gw.sipPort));
      peers.push(...allowed);
      expect(await Promise.all(allowed.map((p) => p.options(uri)))).toEqual(
        Array(2 * MAX_PER_STRANGER).fill(200),
      );
    } finally {
      for (const p of peers) p.socket.destroy();
    }
  });
});

describe("TCP connections from a host a caller authenticated from", () => {
  it("are not counted: strangers holding the budget do not lock out a phone that authenticated", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine({ worker: false });
    const users = SipUsers.parse(`alice:${REALM}:${md5(`alice:${REALM}:Correct1Horse`)}\n`);
    await using gw = await startGateway(engine, "gw1", {
      access: new InboundAccess(["127.0.0.2/32"]),
      digest: new DigestCheck(users),
    });
    const uri = `sip:+15551230000@127.0.0.1:${gw.sipPort}`;
    const peers: Peer[] = [];
    try {
      await fillToCap("127.0.0.5", gw.sipPort, uri, peers);

      // The phone on that address authenticates over UDP (its call then fails for want of a route).
      await using phone = await rawPeer("127.0.0.5", gw.sipPort);
      const callId = randomBytes(6).toString("hex");
      const from = `<sip:alice@127.0.0.5:${phone.port}>;tag=auth`;
      phone.send(request(phone, "INVITE", uri, { callId, from, body: sdpOffer("127.0.0.5", 40_000) }));
      const challenged = await phone.next((m) => (m.status ?? 0) >= 200);
      expect(challenged.status).toBe(401);
      const challenge = parseChallenge(challenged.header("WWW-Authenticate") ?? "");
      expect(challenge).toBeDefined();
      const answer = authorization(
        challenge as NonNullable<typeof challenge>,
        { username: "alice", password: "Correct1Horse" },
        "INVITE",
        uri,
      );
      phone.send(
        request(phone, "INVITE", uri, {
          callId,
          from,
          cseq: 2,
          headers: [`Authorization: ${answer}`],
          body: sdpOffer("127.0.0.5", 40_000),
        }),
      );
      const final = await phone.next((m) => (m.status ?? 0) >= 200 && m.header("CSeq") === "2 INVITE");
      expect([401, 403]).not.toContain(final.status);

      // Now its address may open more.
      const more = await open("127.0.0.5", gw.sipPort);
      peers.push(more);
      expect(await more.options(uri)).toBe(403);
    } finally {
      for (const p of peers) p.socket.destroy();
    }
  });
});

/**
 * Opens a connection once the gateway has seen the last one close: its close and our next accept
 * race on the loop, so a connection refused in that window is tried again (never more than 20 times).
 */
async function openWhenRoom(
  from: string,
  port: number,
  uri: string,
  peers: Peer[],
): Promise<number | "closed"> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const peer = await open(from, port);
    peers.push(peer);
    const status = await peer.options(uri);
    if (status !== "closed") return status;
  }
  return "closed";
}
