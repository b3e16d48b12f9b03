// The location service's bindings: newest first, expiring, an older REGISTER not undoing a newer one,
// at most MAX_BINDINGS Contacts for an address of record.
import { describe, expect, it } from "vitest";
import { MAX_BINDINGS, Registrations } from "../../src/sip/registrations.js";

const source = { protocol: "UDP", address: "192.0.2.10", port: 5060 };
const AOR = "alice@sip.example.com";

describe("registrations", () => {
  it("keep each Contact until it expires, the newest first", () => {
    let now = 0;
    const r = new Registrations(() => now);
    r.update(AOR, [{ contact: "sip:alice@192.0.2.10", expires: 60 }], { source, callId: "a", cseq: 1 });
    now = 1_000;
    r.update(AOR, [{ contact: "sip:alice@198.51.100.7", expires: 120 }], { source, callId: "b", cseq: 1 });
    expect(r.bindings(AOR).map((b) => b.contact)).toEqual(["sip:alice@198.51.100.7", "sip:alice@192.0.2.10"]);
    now = 61_000;
    expect(r.bindings(AOR).map((b) => b.contact)).toEqual(["sip:alice@198.51.100.7"]);
    now = 121_001;
    expect(r.bindings(AOR)).toEqual([]);
  });

  it("unbind a Contact with expires 0, and refuse an older CSeq of the same Call-ID", () => {
    const r = new Registrations(() => 0);
    const contact = "sip:alice@192.0.2.10";
    r.update(AOR, [{ contact, expires: 60 }], { source, callId: "a", cseq: 5 });
    expect(r.update(AOR, [{ contact, expires: 0 }], { source, callId: "a", cseq: 4 })).toMatch(
      /CSeq 4 is not after 5/,
    );
    expect(r.bindings(AOR)).toHaveLength(1);
    expect(r.update(AOR, [{ contact, expires: 0 }], { source, callId: "a", cseq: 6 })).toEqual([]);
    expect(r.bindings(AOR)).toEqual([]);
  });

  it(`take at most ${MAX_BINDINGS} Contacts for an address of record, all or nothing`, () => {
    const r = new Registrations(() => 0);
    const contacts = Array.from({ length: MAX_BINDINGS }, (_, i) => ({
      contact: `sip:alice@192.0.2.${i}`,
      expires: 60,
    }));
    expect(r.update(AOR, contacts, { source, callId: "a", cseq: 1 })).toHaveLength(MAX_BINDINGS);
    const more = [{ contact: "sip:alice@192.0.2.99", expires: 60 }];
    expect(r.update(AOR, more, { source, callId: "b", cseq: 1 })).toMatch(/at most 10 Contacts/);
    expect(r.bindings(AOR)).toHaveLength(MAX_BINDINGS);
  });
});
