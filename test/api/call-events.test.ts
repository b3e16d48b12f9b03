// Calls/{Sid}/Events pairs each webhook request with what came back: a response, an error status, or
// nothing at all (a timeout).
import { describe, expect, it } from "vitest";
import { webhookExchanges } from "../../src/api/rest/call-events.js";
import type { InspectEvent } from "../../src/protocol/inspect.js";

const at = Date.UTC(2026, 10, 27, 12, 0, 0);
const request = (url: string): InspectEvent & { at: number } => ({
  type: "webhook.request",
  url,
  method: "POST",
  params: { CallSid: "CA1" },
  at,
});

describe("webhookExchanges", () => {
  it("gives an error status as the response, and a request that got nothing a null response", () => {
    const exchanges = webhookExchanges([
      request("https://app.example/voice"),
      {
        type: "webhook.error",
        url: "https://app.example/voice",
        code: 11200,
        message: "500",
        httpStatus: 500,
        durationMs: 12.4,
        at,
      },
      request("https://app.example/fallback"),
      {
        type: "webhook.error",
        url: "https://app.example/fallback",
        code: 11205,
        message: "timeout",
        durationMs: 15000,
        at,
      },
      request("https://app.example/next"),
      {
        type: "webhook.response",
        url: "https://app.example/next",
        status: 200,
        contentType: "text/xml",
        durationMs: 3,
        body: "<Response/>",
        at,
      },
      // A document that could not be used after a 200 does not replace the response.
      {
        type: "webhook.error",
        url: "https://app.example/next",
        code: 12100,
        message: "parse",
        durationMs: 0,
        at,
      },
    ]);
    expect(exchanges.map((e) => [e.request.url, e.response?.response_code ?? null])).toEqual([
      ["https://app.example/voice", 500],
      ["https://app.example/fallback", null],
      ["https://app.example/next", 200],
    ]);
    expect(exchanges[0]?.response).toMatchObject({
      request_duration: 12,
      content_type: null,
      response_body: null,
    });
    expect(exchanges[2]?.response?.response_body).toBe("<Response/>");
  });
});
