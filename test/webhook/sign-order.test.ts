// The signature's parameter order is UTF-8 byte order even where JavaScript's own string order
// (UTF-16 code units) differs: a name outside the Basic Multilingual Plane against one above U+E000.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { twilioSignature } from "../../src/webhook/sign.js";

const hmac = (data: string) => createHmac("sha1", "token").update(Buffer.from(data, "utf8")).digest("base64");

describe("twilioSignature parameter order", () => {
  it("sorts by UTF-8 bytes when a name holds a surrogate pair", () => {
    // "Ａ" (U+FF21) is EF BC A1 in UTF-8, "😀" (U+1F600) is F0 9F 98 80: Ａ first, though "😀" < "Ａ" in UTF-16.
    const url = "https://app.example/voice";
    expect(twilioSignature("token", url, { "😀": "1", Ａ: "2" })).toBe(hmac(`${url}Ａ2😀1`));
  });

  it("sorts ASCII names case-sensitively, upper case first", () => {
    const url = "https://app.example/voice";
    expect(twilioSignature("token", url, { b: "1", B: "2", a: "3" })).toBe(hmac(`${url}B2a3b1`));
  });
});
