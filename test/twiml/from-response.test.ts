// What a webhook's response becomes, by its Content-Type, as Twilio treats it (spec §2).
import { describe, expect, it } from "vitest";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import { documentFromResponse } from "../../src/twiml/from-response.js";
import type { WebhookResponse } from "../../src/webhook/request.js";

const res = (contentType: string | undefined, body: string): WebhookResponse => ({
  url: "https://app.example/voice",
  status: 200,
  contentType,
  body,
  durationMs: 1,
  attempts: 1,
});
const TWIML = "<Response><Say>Hi</Say></Response>";

describe("documentFromResponse", () => {
  it.each(["text/xml", "application/xml", "text/html"])("runs %s as TwiML", (type) => {
    expect(documentFromResponse(res(type, TWIML)).verbs).toMatchObject([{ name: "Say", text: "Hi" }]);
  });

  it("runs text/plain as TwiML when it parses, and reads it aloud then hangs up when it does not", () => {
    expect(documentFromResponse(res("text/plain", TWIML)).verbs).toMatchObject([{ name: "Say", text: "Hi" }]);
    expect(documentFromResponse(res("text/plain", "  Thanks for calling!  ")).verbs).toEqual([
      { name: "Say", text: "Thanks for calling!", voice: "man", language: "en-US", loop: 1 },
      { name: "Hangup" },
    ]);
  });

  it("plays an audio response, then hangs up", () => {
    expect(documentFromResponse(res("audio/mpeg", "ID3…")).verbs).toEqual([
      { name: "Play", url: "https://app.example/voice", loop: 1 },
      { name: "Hangup" },
    ]);
  });

  it.each([undefined, "", "application/json"])("refuses Content-Type %s with 12300", (type) => {
    const err = (() => {
      try {
        documentFromResponse(res(type, TWIML));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SwitchboardError);
    expect((err as SwitchboardError).code).toBe(12300);
  });

  it("keeps the parser's code for malformed XML sent as text/xml (12100)", () => {
    expect(() => documentFromResponse(res("text/xml", "<Response><Say>"))).toThrow(
      expect.objectContaining({ code: 12100 }),
    );
  });
});
