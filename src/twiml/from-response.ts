// What Twilio makes of a webhook's response (twilio-voice-spec.md §2): XML and HTML are TwiML;
// text/plain is TwiML when it parses, else it is read aloud; audio is played, then the call hangs
// up; no content type is 12300.
import { fail, SwitchboardError } from "../errors/switchboard-error.js";
import type { WebhookResponse } from "../webhook/request.js";
import { parseTwiml } from "./parse.js";
import type { TwimlDocument } from "./verb-data.js";

const TWIML_TYPES = new Set(["text/xml", "application/xml", "text/html"]);

export function documentFromResponse(res: WebhookResponse): TwimlDocument {
  if (res.emptyChunked) throw fail("emptyChunkedBody", `${res.url} answered with an empty chunked body`);
  const type = res.contentType;
  if (type === undefined || type === "") {
    throw fail("invalidContentType", `${res.url} answered without a Content-Type`);
  }
  if (TWIML_TYPES.has(type)) return parseTwiml(res.body, res.url);
  if (type === "text/plain") {
    try {
      return parseTwiml(res.body, res.url);
    } catch (err) {
      if (!(err instanceof SwitchboardError)) throw err;
      const text = res.body.trim();
      return {
        verbs: text
          ? [{ name: "Say", text, voice: "man", language: "en-US", loop: 1 }, { name: "Hangup" }]
          : [],
        warnings: [],
      };
    }
  }
  if (type.startsWith("audio/")) {
    return {
      verbs: [{ name: "Play", url: res.url, loop: 1 }, { name: "Hangup" }],
      warnings: [],
      audio: true,
    };
  }
  throw fail("invalidContentType", `${res.url} answered with Content-Type ${type}, which is not TwiML`);
}
