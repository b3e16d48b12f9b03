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
    // An id that is not a key token is encoded apart from every plain id (which has no `=`).
    const lookalike = await RegistrationStore.open(
      env.nc,
      Buffer.from("edge.2 (b)").toString("base64url"),
      log,
    );
    await other.save("carol@sip.example.com", [binding("sip:carol@192.0.2.9")]);

    const restarted = await RegistrationStore.open(env.nc, "gw1", log);
    const loaded = await restarted.load();
    expect([...loaded.keys()]).toEqual(["alice@sip.example.com"]);
    expect(loaded.get("alice@sip.example.com")).toEqual([
      { ...udp, source: { protocol: "UDP", address: "192.0.2.7", port: 5062 } },
    ]);
    expect([...(await other.load()).keys()]).toEqual(["carol@sip.example.com"]);
    expect((await lookalike.load()).size).toBe(0);
    // What a reader of the bucket sees holds no HA1.
    const stored = await restarted.kv.get(
      `gw1.${Buffer.from("alice@sip.example.com").toString("base64url")}`,
    );
    expect(stored?.string()).not.toContain(HA1);
  });

  it("skips a stored value that is not bindings a REGISTER could have made", async () => {
    await using env = await nats();
    const store = await RegistrationStore.open(env.nc, "gw1", log);
    await store.save("alice@sip.example.com", [binding("sip:alice@192.0.2.7:5062")]);
    const plant = (aor: string, value: unknown) =>
      store.kv.put(
        `gw1.${Buffer.from(aor).toString("base64url")}`,
        typeof value === "string" ? value : JSON.stringify(value),
      );
    const good = binding("sip:x@192.0.2.7");
    await plant("mallory@sip.example.com", "{not json");
    await plant("eve@sip.example.com", [
      { ...good, source: { protocol: "TCP", address: "192.0.2.7", port: 1 } },
    ]);
    // Bound for a year, a Contact that would break a request line, a host name to look up, no mark.
    await plant("trudy@sip.example.com", [{ ...good, expiresAt: Date.now() + 365 * 86_400_000 }]);
    await plant("oscar@sip.example.com", [{ ...good, contact: "sip:o@192.0.2.7\r\nX-Evil: 1" }]);
    await plant("peggy@sip.example.com", [{ ...good, source: { ...good.source, address: "evil.example" } }]);
    await plant("victor@sip.example.com", [{ ...good, password: "" }]);
    await plant("not an address of record", [good]);
    expect([...(await store.load()).keys()]).toEqual(["alice@sip.example.com"]);
  });
});
