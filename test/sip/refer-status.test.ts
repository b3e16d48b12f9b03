// What a REFER's outcome tells `<Refer>`'s action (referParams), and how a NOTIFY's message/sipfrag
// body is read (sipfragCode): the mapping from SIP status codes to ReferCallStatus.
import { describe, expect, it } from "vitest";
import type { Dialog } from "../../src/sip/ua/dialog.js";
import { DialogRefers, sipfragCode } from "../../src/sip/ua/refer.js";
import type { SipMessage, SipStack } from "../../src/sip/ua/stack.js";
import { referParams } from "../../src/twiml/verbs/refer.js";

describe("<Refer>'s outcome", () => {
  it("names the new call's state from the last NOTIFY's status", () => {
    const status = (notifyCode: number) => referParams({ referCode: 202, notifyCode }).ReferCallStatus;
    expect(status(100)).toBe("in-progress");
    expect(status(180)).toBe("in-progress");
    expect(status(200)).toBe("in-progress");
    expect(status(486)).toBe("busy");
    expect(status(600)).toBe("busy");
    expect(status(487)).toBe("canceled");
    expect(status(404)).toBe("failed");
    expect(status(503)).toBe("failed");
    expect(referParams({ referCode: 202, notifyCode: 486 })).toEqual({
      ReferSipResponseCode: "202",
      NotifySipResponseCode: "486",
      ReferCallStatus: "busy",
    });
  });

  it("reports only the REFER's status when no NOTIFY came, or the REFER was refused", () => {
    expect(referParams({ referCode: 202 })).toEqual({ ReferSipResponseCode: "202" });
    expect(referParams({ referCode: 403 })).toEqual({ ReferSipResponseCode: "403" });
    expect(referParams({ referCode: 408, notifyCode: 200 })).toEqual({ ReferSipResponseCode: "408" });
  });

  it("reads a sipfrag's status line, and nothing else", () => {
    expect(sipfragCode("SIP/2.0 180 Ringing")).toBe(180);
    expect(sipfragCode("SIP/2.0 200 OK\r\n")).toBe(200);
    expect(sipfragCode("  SIP/2.0 603 Decline")).toBe(603);
    expect(sipfragCode("HTTP/1.1 200 OK")).toBeUndefined();
    expect(sipfragCode("SIP/2.0 99 Odd")).toBeUndefined();
    expect(sipfragCode(undefined)).toBeUndefined();
  });

  it("sends one REFER for a target asked for twice while under way (a resumed call's), 491 for another", async () => {
    const refers = new DialogRefers();
    const sent: string[] = [];
    let answer!: (rs: SipMessage) => void;
    // Only what DialogRefers uses of a dialog: its URI and sending a request in it.
    const dialog = {
      local: { uri: "sip:gw@127.0.0.1", params: {} },
      send: (
        _stack: SipStack,
        method: string,
        _contact: string,
        extra: { headers: Record<string, string> },
      ) => {
        sent.push(`${method} ${extra.headers["refer-to"]}`);
        return new Promise<SipMessage>((resolve) => {
          answer = resolve;
        });
      },
    } as unknown as Dialog;
    const session = {
      stack: {} as SipStack,
      dialog,
      contact: "sip:gw@127.0.0.1",
      closed: new Promise<void>(() => {}),
    };
    const signal = new AbortController().signal;
    const first = refers.refer(session, "sip:alice@example.com", signal);
    const again = refers.refer(session, "sip:alice@example.com", signal);
    const other = await refers.refer(session, "sip:bob@example.com", signal);
    expect(other).toEqual({ referCode: 491 });
    answer({ status: 403, headers: {} } as unknown as SipMessage);
    expect(await first).toEqual({ referCode: 403 });
    expect(await again).toEqual({ referCode: 403 });
    expect(sent).toEqual(["REFER <sip:alice@example.com>"]);
    // Over: a later <Refer> sends again.
    const later = refers.refer(session, "sip:alice@example.com", signal);
    answer({ status: 405, headers: {} } as unknown as SipMessage);
    expect(await later).toEqual({ referCode: 405 });
    expect(sent).toHaveLength(2);
  });

  it("refuses a NOTIFY when no REFER waits, or one of another event package", () => {
    const refers = new DialogRefers();
    const notify = (event: string) =>
      ({ method: "NOTIFY", headers: { event }, content: "SIP/2.0 200 OK" }) as unknown as SipMessage;
    expect(refers.notify(notify("refer"))).toBe(false);
    expect(refers.notify(notify("presence"))).toBe(false);
  });
});
