// <Stream>, the Media Streams noun of <Connect> and <Start>: its attributes and <Parameter> children.
// A stream Twilio could not open (bad URL scheme, bad track) is warned about and skipped here, so the
// verbs only ever see streams they can run.
import { ErrorCodes } from "../../../errors/codes.js";
import type { HttpMethod } from "../../../model/http.js";
import type { TwimlElement } from "../../element.js";
import { resolveUrl } from "../../resolve-url.js";
import type { StreamNoun, StreamTrack } from "../../verb-data.js";
import type { ParseContext } from "../../verb-definition.js";
import { checkAttributes, checkChildElements, checkNoText } from "../../verb-parsing.js";

const ATTRIBUTES = ["url", "name", "track", "statusCallback", "statusCallbackMethod", "connectorName"];
const TRACKS: readonly StreamTrack[] = ["inbound_track", "outbound_track", "both_tracks"];
/** Twilio's limit on one `<Parameter>`: name and value together (spec §8). */
const PARAMETER_LIMIT = 500;
const schema = ErrorCodes.schemaValidation.code;

/**
 * Reads one `<Stream>`; undefined (after a warning) when it cannot run. `bidirectional` is
 * `<Connect>`'s stream, which carries the inbound track only (31941 otherwise).
 */
export function parseStream(
  el: TwimlElement,
  ctx: ParseContext,
  bidirectional: boolean,
): StreamNoun | undefined {
  checkAttributes(el, ATTRIBUTES, ctx);
  checkNoText(el, ctx);
  checkChildElements(el, ctx, ["Parameter"]);
  const a = el.attributes;
  const url = streamUrl(a.url, ctx, el);
  if (url === undefined) return undefined;
  const track = (a.track ?? "inbound_track") as StreamTrack;
  if (!TRACKS.includes(track) || (bidirectional && track !== "inbound_track")) {
    ctx.warn(
      ErrorCodes.streamInvalidTrack.code,
      `<Stream track="${a.track}"> is not supported ${bidirectional ? "in <Connect> (inbound_track only)" : "(inbound_track, outbound_track, both_tracks)"}; stream skipped`,
      el,
    );
    return undefined;
  }
  const statusCallback = callbackUrl(a.statusCallback, ctx, el);
  return {
    url,
    ...(a.name && { name: a.name }),
    track,
    ...(statusCallback && { statusCallback }),
    statusCallbackMethod: httpMethod(a.statusCallbackMethod, ctx, el, "statusCallbackMethod"),
    parameters: parameters(el, ctx),
  };
}

/** A `method`-style attribute: POST when absent; anything but GET/POST is warned about with `code`. */
export function httpMethod(
  raw: string | undefined,
  ctx: ParseContext,
  el: TwimlElement,
  attribute = "method",
  code = schema,
): HttpMethod {
  if (raw === undefined || raw === "POST") return "POST";
  if (raw === "GET") return "GET";
  ctx.warn(code, `<${el.name} ${attribute}="${raw}"> is not GET or POST; using POST`, el);
  return "POST";
}

/** An http(s) callback or action URL resolved against the document; undefined (after a warning) otherwise. */
export function callbackUrl(
  raw: string | undefined,
  ctx: ParseContext,
  el: TwimlElement,
  code: number = ErrorCodes.invalidUrl.code,
): string | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  try {
    const url = resolveUrl(raw.trim(), ctx.documentUrl);
    if (url.protocol === "http:" || url.protocol === "https:") return url.href;
  } catch {}
  ctx.warn(code, `<${el.name}> URL "${raw}" is not an http(s) URL; ignored`, el);
  return undefined;
}

function streamUrl(raw: string | undefined, ctx: ParseContext, el: TwimlElement): string | undefined {
  if (raw === undefined || raw.trim() === "") {
    ctx.warn(schema, "<Stream> needs a url; stream skipped", el);
    return undefined;
  }
  let url: URL;
  try {
    url = resolveUrl(raw.trim(), ctx.documentUrl);
  } catch {
    ctx.warn(ErrorCodes.invalidUrl.code, `<Stream url="${raw}"> is not a URL; stream skipped`, el);
    return undefined;
  }
  // Twilio takes wss only; ws is accepted too so that apps can be run against a local server.
  if (url.protocol !== "wss:" && url.protocol !== "ws:") {
    ctx.warn(ErrorCodes.streamUrlSchema.code, `<Stream url="${raw}"> is not a wss: URL; stream skipped`, el);
    return undefined;
  }
  // Twilio opens the socket without the query string (its docs: "do not add query string
  // parameters to the url. Use nested <Parameter> values instead"): an app that reads a token from
  // the query works here and not there, unless it is dropped here too.
  if (url.search !== "") {
    ctx.warn(
      schema,
      `<Stream url="${raw}">: the query string is not sent (as on Twilio); pass values in <Parameter>`,
      el,
    );
    url.search = "";
  }
  url.hash = "";
  return url.href;
}

function parameters(el: TwimlElement, ctx: ParseContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const child of el.children) {
    if (typeof child === "string" || child.name !== "Parameter") continue;
    checkAttributes(child, ["name", "value"], { ...ctx, warn: (c, m) => ctx.warn(c, m, child) });
    const { name, value = "" } = child.attributes;
    if (!name) {
      ctx.warn(schema, "<Parameter> needs a name; ignored", child);
    } else if (name.length + value.length >= PARAMETER_LIMIT) {
      ctx.warn(schema, `<Parameter name="${name}"> is ${PARAMETER_LIMIT} characters or more; ignored`, child);
    } else {
      out[name] = value;
    }
  }
  return out;
}
