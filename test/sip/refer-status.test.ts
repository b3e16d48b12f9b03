// What a REFER's outcome tells `<Refer>`'s action (referParams), and how a NOTIFY's message/sipfrag
// body is read (sipfragCode): the mapping from SIP status codes to ReferCallStatus.
import { describe, expect, it } from "vitest";
import { sipfragCode } from "../../src/sip/ua/refer.js";
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
});
