// What the gateway answers to requests it does not take, each with the right status, reason phrase
// and a Reason header: a Require it does not support (420), methods outside a call (405/501),
// malformed Request-URI or From (400), a tel: URI (416), SRTP offers (488), callers outside --allow (403), a
// number nobody hosts (404), and an edge that does not answer (503).

import pino from "pino";
import { describe, expect, it } from "vitest";
import { addTrunk, removeTrunk } from "../../src/admin/trunks.js";
import { watchTrunks } from "../../src/cli/sip-trunks.js";
import { InboundAccess } from "../../src/sip/inbound-access.js";
import { openAdminStores } from "../../src/store/global.js";
import { startTestEngine } from "../helpers/engine.js";
import { startGateway } from "./harness.js";
import { rawPeer, request, sdpOffer } from "./raw-sip.js";

const final = (m: { status: number | undefined }) => (m.status ?? 0) >= 200;

/** The final response to an INVITE for a number nobody hosts, through a gateway made with `extra`. */
async function unhostedInvite(extra: Parameters<typeof startGateway>[2] = {}) {
  await using engine = await startTestEngine();
  await using gw = await startGateway(engine, "gw1", extra);
  await using peer = await rawPeer("127.0.0.2", gw.sipPort);
  peer.send(
    request(peer, "INVITE", `sip:+15559999999@127.0.0.1:${gw.sipPort}`, {
      body: sdpOffer("127.0.0.2", 4000),
    }),
  );
  return await peer.next(final, 15_000);
}

describe("SIP requests the gateway refuses", () => {
  it("answers each with its status, reason phrase and a Reason header", { timeout: 60_000 }, async () => {
    await using engine = await startTestEngine();
    await using gw = await startGateway(engine);
    await using peer = await rawPeer("127.0.0.2", gw.sipPort);
    const uri = `sip:+15551230099@127.0.0.1:${gw.sipPort}`;
    const ask = async (text: string) => {
      peer.send(text);
      return await peer.next(final);
    };

    const require = await ask(
      request(peer, "INVITE", uri, { headers: ["Require: 100rel, foo"], body: sdpOffer("127.0.0.2", 4000) }),
    );
    expect(require.start).toBe("SIP/2.0 420 Bad Extension");
    expect(require.header("Unsupported")).toBe("100rel, foo");

    const subscribe = await ask(request(peer, "SUBSCRIBE", uri));
    expect(subscribe.start).toBe("SIP/2.0 405 Method Not Allowed");
    expect(subscribe.header("Allow")).toContain("INVITE");

    const foo = await ask(request(peer, "FOO", uri));
    expect(foo.start).toBe("SIP/2.0 501 Not Implemented");

    const badUri = await ask(
      request(peer, "INVITE", "garbage", { to: `<${uri}>`, body: sdpOffer("127.0.0.2", 4000) }),
    );
    expect(badUri.start).toBe("SIP/2.0 400 Bad Request");
    const badNumber = await ask(
      request(peer, "INVITE", `sip:%ZZ@127.0.0.1:${gw.sipPort}`, { body: sdpOffer("127.0.0.2", 4000) }),
    );
    expect(badNumber.status).toBe(400);
    const badFrom = await ask(
      request(peer, "INVITE", uri, { from: "nonsense;tag=1", body: sdpOffer("127.0.0.2", 4000) }),
    );
    expect(badFrom.start).toBe("SIP/2.0 400 Bad Request");
    expect(badFrom.header("Reason")).toBe('SIP ;cause=400 ;text="Malformed From"');

    const savp = await ask(
      request(peer, "INVITE", uri, { body: sdpOffer("127.0.0.2", 4000, { proto: "RTP/SAVP" }) }),
    );
    expect(savp.start).toBe("SIP/2.0 488 Not Acceptable Here");
    expect(savp.header("Reason")).toContain("SRTP");
    const crypto = await ask(
      request(peer, "INVITE", uri, {
        body: sdpOffer("127.0.0.2", 4000, {
          extra: ["a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoc2"],
        }),
      }),
    );
    expect(crypto.status).toBe(488);

    const tel = await ask(
      request(peer, "INVITE", "tel:+15551230099", {
        to: "<tel:+15551230099>",
        body: sdpOffer("127.0.0.2", 4000),
      }),
    );
    expect(tel.start).toBe("SIP/2.0 416 Unsupported URI Scheme");

    for (const m of [require, subscribe, foo, badUri, badNumber, badFrom, savp, crypto, tel]) {
      expect(m.header("Reason"), m.start).toMatch(/^SIP ;cause=\d{3} ;text="[^"]+"$/);
      // Every final response carries a To-tag, a refusal outside any call too (RFC 3261 §8.2.6.2).
      expect(m.header("To"), m.start).toMatch(/;tag=\w+/);
    }
    // No call reached the engine.
    expect(gw.calls.size).toBe(0);
  });

  it("answers 404 for a number nobody hosts", { timeout: 60_000 }, async () => {
    const rs = await unhostedInvite();
    expect(rs.start).toBe("SIP/2.0 404 Not Found");
    expect(rs.header("Reason")).toBe(
      'SIP ;cause=404 ;text="20404: +15559999999 is not a number switchboard hosts"',
    );
  });

  it("answers 503 with Retry-After when no edge answers its offer, which a carrier retries elsewhere", {
    timeout: 60_000,
  }, async () => {
    const rs = await unhostedInvite({ edge: "nowhere" });
    expect(rs.start).toBe("SIP/2.0 503 Service Unavailable");
    expect(rs.header("Retry-After")).toBe("5");
  });

  it("lets only networks given with --allow place calls (403 for the rest)", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using gw = await startGateway(engine, "gw1", { access: new InboundAccess(["127.0.0.3/32"]) });
    await using outsider = await rawPeer("127.0.0.2", gw.sipPort);
    await using insider = await rawPeer("127.0.0.3", gw.sipPort);
    const uri = `sip:+15559999999@127.0.0.1:${gw.sipPort}`;
    outsider.send(request(outsider, "INVITE", uri, { body: sdpOffer("127.0.0.2", 4000) }));
    const refused = await outsider.next(final);
    expect(refused.start).toBe("SIP/2.0 403 Forbidden");
    expect(refused.header("Reason")).toContain("127.0.0.2 may not place calls");
    insider.send(request(insider, "OPTIONS", uri));
    expect((await insider.next(final)).status).toBe(200);
    // Later ranges (a trunk's --inbound-cidr) join the same list.
    gw.access.add(["127.0.0.2/32"]);
    outsider.send(request(outsider, "OPTIONS", uri));
    expect((await outsider.next(final)).status).toBe(200);
  });

  it("lets a trunk's --inbound-cidr networks place calls, following sb_trunks as trunks come and go", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    const log = pino({ level: "silent" });
    const access = new InboundAccess(["127.0.0.3/32"]);
    const stores = await openAdminStores(engine.nc);
    const watch = await watchTrunks(engine.nc, access, log);
    if (!watch) throw new Error("the trunks could not be watched");
    await using _watch = { [Symbol.asyncDispose]: async () => watch.stop() };
    await using gw = await startGateway(engine, "gw1", { access });
    await using carrier = await rawPeer("127.0.0.2", gw.sipPort);
    const uri = `sip:+15559999999@127.0.0.1:${gw.sipPort}`;
    const options = async () => {
      carrier.send(request(carrier, "OPTIONS", uri));
      return (await carrier.next(final)).status;
    };
    expect(await options()).toBe(403);
    // watchTrunks applies each change to the access list; hear of it after, to wait on the event.
    const apply = watch.onChange;
    let heard: (() => void) | undefined;
    watch.onChange = (cidrs) => {
      apply?.(cidrs);
      heard?.();
    };
    const change = (work: () => Promise<unknown>) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no change to the trunks was heard")), 10_000);
        heard = () => {
          clearTimeout(timer);
          resolve();
        };
        work().catch(reject);
      });
    await change(() =>
      addTrunk(stores, { name: "carrier", host: "127.0.0.9", inboundCidrs: ["127.0.0.2/32"] }),
    );
    expect(access.trunkCidrs).toEqual(["127.0.0.2/32"]);
    expect(await options()).toBe(200);
    await change(() => removeTrunk(engine.nc, stores, "carrier"));
    expect(access.trunkCidrs).toEqual([]);
    expect(await options()).toBe(403);
  });

  it("lets only the machine itself call when no --allow is given", () => {
    const access = new InboundAccess();
    expect(access.allows("127.0.0.2")).toBe(true);
    expect(access.allows("::1")).toBe(true);
    expect(access.allows("::ffff:127.0.0.5")).toBe(true);
    expect(access.allows("192.0.2.1")).toBe(false);
    expect(() => new InboundAccess(["10.0.0.0/33"])).toThrow(/bad prefix/);
  });
});
