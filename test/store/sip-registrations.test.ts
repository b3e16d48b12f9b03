// A SIP gateway's registered phones in `sb_sip_registrations` on a real nats-server: what one gateway
// saves it loads again after a restart, and nothing of another gateway's; UDP bindings only (a TCP
// one's connection dies with the process); the last change is what stays; no HA1 is written; a value
// that does not read as bindings is skipped, not thrown.
import { connect } from "@nats-io/transport-node";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { type Binding, passwordMark } from "../../src/sip/registrations.js";
import { RegistrationStore } from "../../src/store/sip-registrations.js";
import { startTestNatsServer } from "../helpers/nats-server.js";
import { setUp } from "../helpers/teardown.js";

const log = pino({ level: "silent" });
const HA1 = "5f4dcc3b5aa765d61d8327deb882cf99";
const binding = (contact: string, protocol = "UDP", flow?: Binding["flow"]): Binding => ({
  contact,
  source: { protocol, address: "192.0.2.7", port: 5062 },
  expiresAt: Date.now() + 600_000,
  callId: "reg-1",
  cseq: 3,
  password: passwordMark(HA1),
  ...(flow && { flow }),
});

async function nats() {
  return setUp(async (t) => {
    const server = t.use(await startTestNatsServer());
    const nc = t.add(await connect({ servers: server.url }), (c) => c.close());
    return { nc, [Symbol.asyncDispose]: () => t.stop() };
  });
}

describe("RegistrationStore", () => {
  it("loads what the same gateway saved, only its UDP bindings, and the last change of each", async () => {
    await using env = await nats();
    const gw1 = await RegistrationStore.open(env.nc, "gw1", log);
    const udp = binding("sip:alice@192.0.2.7:5062");
    const flow = { release() {} };
    await gw1.save("alice@sip.example.com", [
      udp,
      binding("sip:alice@192.0.2.7:5070;transport=tcp", "TCP", flow),
    ]);
    await gw1.save("bob@sip.example.com", [binding("sip:bob@192.0.2.8")]);
    await gw1.save("bob@sip.example.com", []);
    // Another gateway's phones are its own, whatever its id's characters.
    const other = await RegistrationStore.open(env.nc, "edge.2 (b)", log);
    await other.save("carol@sip.example.com", [binding("sip:carol@192.0.2.9")]);

    const restarted = await RegistrationStore.open(env.nc, "gw1", log);
    const loaded = await restarted.load();
    expect([...loaded.keys()]).toEqual(["alice@sip.example.com"]);
    expect(loaded.get("alice@sip.example.com")).toEqual([
      { ...udp, source: { protocol: "UDP", address: "192.0.2.7", port: 5062 } },
    ]);
    expect([...(await other.load()).keys()]).toEqual(["carol@sip.example.com"]);
    // What a reader of the bucket sees holds no HA1.
    const stored = await restarted.kv.get(
      `gw1.${Buffer.from("alice@sip.example.com").toString("base64url")}`,
    );
    expect(stored?.string()).not.toContain(HA1);
  });

  it("skips a stored value that is not bindings", async () => {
    await using env = await nats();
    const store = await RegistrationStore.open(env.nc, "gw1", log);
    await store.save("alice@sip.example.com", [binding("sip:alice@192.0.2.7:5062")]);
    await store.kv.put(`gw1.${Buffer.from("mallory@sip.example.com").toString("base64url")}`, "{not json");
    await store.kv.put(
      `gw1.${Buffer.from("eve@sip.example.com").toString("base64url")}`,
      JSON.stringify([{ contact: "sip:eve@x", source: { protocol: "TCP", address: "x", port: 1 } }]),
    );
    expect([...(await store.load()).keys()]).toEqual(["alice@sip.example.com"]);
  });
});
