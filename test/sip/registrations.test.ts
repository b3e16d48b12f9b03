// The location service's bindings: newest first, expiring, one binding for one Contact however
// written, an older REGISTER not undoing a newer one, at most MAX_BINDINGS Contacts (the oldest going),
// and a TCP binding's connection let go when the binding goes.
import { describe, expect, it } from "vitest";
import { MAX_BINDINGS, Registrations } from "../../src/sip/registrations.js";

const source = { protocol: "UDP", address: "192.0.2.10", port: 5060 };
const AOR = "alice@sip.example.com";
const by = (callId: string, cseq: number) => ({ source, callId, cseq, password: "0".repeat(22) });

describe("registrations", () => {
  it("keep each Contact until it expires, the newest first", () => {
    let now = 0;
    const r = new Registrations(() => now);
    r.update(AOR, [{ contact: "sip:alice@192.0.2.10", expires: 60 }], by("a", 1));
    now = 1_000;
    r.update(AOR, [{ contact: "sip:alice@198.51.100.7", expires: 120 }], by("b", 1));
    expect(r.bindings(AOR).map((b) => b.contact)).toEqual(["sip:alice@198.51.100.7", "sip:alice@192.0.2.10"]);
    now = 61_000;
    expect(r.bindings(AOR).map((b) => b.contact)).toEqual(["sip:alice@198.51.100.7"]);
    now = 121_001;
    expect(r.bindings(AOR)).toEqual([]);
  });

  it("take one Contact written two ways (host and transport case) as one binding", () => {
    const r = new Registrations(() => 0);
    r.update(AOR, [{ contact: "sip:alice@Phone.example.com;transport=UDP", expires: 60 }], by("a", 1));
    r.update(AOR, [{ contact: "sip:alice@phone.example.com;transport=udp", expires: 60 }], by("a", 2));
    expect(r.bindings(AOR)).toHaveLength(1);
  });

  it("unbind a Contact with expires 0, and refuse an older CSeq of the same Call-ID, Contact: * too", () => {
    const r = new Registrations(() => 0);
    const contact = "sip:alice@192.0.2.10";
    r.update(AOR, [{ contact, expires: 60 }], by("a", 5));
    expect(r.update(AOR, [{ contact, expires: 0 }], by("a", 4))).toMatch(/CSeq 4 is not after 5/);
    expect(r.clear(AOR, by("a", 5))).toMatch(/CSeq 5 is not after 5/);
    expect(r.bindings(AOR)).toHaveLength(1);
    expect(r.update(AOR, [{ contact, expires: 0 }], by("a", 6))).toEqual([]);
    expect(r.bindings(AOR)).toEqual([]);
  });

  it(`keep at most ${MAX_BINDINGS} Contacts for an address of record, the oldest going first`, () => {
    const r = new Registrations(() => 0);
    for (let i = 0; i <= MAX_BINDINGS; i++)
      r.update(AOR, [{ contact: `sip:alice@192.0.2.${i}`, expires: 60 }], by(String(i), 1));
    const kept = r.bindings(AOR).map((b) => b.contact);
    expect(kept).toHaveLength(MAX_BINDINGS);
    expect(kept[0]).toBe(`sip:alice@192.0.2.${MAX_BINDINGS}`);
    expect(kept).not.toContain("sip:alice@192.0.2.0");
  });

  it("let a binding's connection go when it is replaced, unbound, expires or is dropped", () => {
    let now = 0;
    const r = new Registrations(() => now);
    const released: string[] = [];
    const flow = (name: string) => ({ release: () => released.push(name) });
    const contact = "sip:alice@192.0.2.10;transport=tcp";
    r.update(AOR, [{ contact, expires: 60 }], { ...by("a", 1), flow: flow("first") });
    r.update(AOR, [{ contact, expires: 60 }], { ...by("a", 2), flow: flow("second") });
    expect(released).toEqual(["first"]);
    r.update(AOR, [{ contact: "sip:alice@192.0.2.11", expires: 60 }], { ...by("b", 1), flow: flow("other") });
    r.drop(AOR, (b) => b.contact === "sip:alice@192.0.2.11");
    expect(released).toEqual(["first", "other"]);
    now = 61_000;
    expect(r.bindings(AOR)).toEqual([]);
    expect(released).toEqual(["first", "other", "second"]);
  });
});
