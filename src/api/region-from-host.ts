// The region of a region-scoped request, from the Host as Twilio does it:
// api.<edge>.<region>.twilio.com (and api.<region>.twilio.com); anything else is us1. One api serving
// several regions on one host (`switchboard up`) also takes the region as a first path segment,
// `/<region>/2010-04-01/…`: the URLs a region hands out (RecordingUrl, TranscriptionUrl) carry it,
// since a Host is not something a URL can say on 127.0.0.1.
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { NAME_PATTERN } from "../protocol/subjects.js";

/** Set by `regionPathRewrite` from the path, never taken from the client. */
const REGION_HEADER = "x-switchboard-region";
/** A region's name as Twilio's are (us1, ie1, au1): letters, then digits. */
const REGION_PREFIX = /^\/([a-z][a-z0-9-]*\d)(\/(?:2010-04-01|v2)\/.*)$/;

export function regionFromHost(host: string | undefined): string {
  // Host names are case-insensitive (a proxy may send API.DUBLIN.IE1.TWILIO.COM).
  const labels = (host ?? "").toLowerCase().split(":")[0]?.split(".") ?? [];
  if (labels[0] !== "api") return "us1";
  const candidate = labels.length >= 5 ? labels[2] : labels.length === 4 ? labels[1] : undefined;
  return isRegionName(candidate) ? candidate : "us1";
}

/** The request's region: its path's `/<region>` prefix, else its Host. */
export function regionOf(req: { headers: IncomingHttpHeaders }): string {
  const fromPath = req.headers[REGION_HEADER];
  return typeof fromPath === "string" ? fromPath : regionFromHost(req.headers.host);
}

/**
 * Fastify's `rewriteUrl`: `/ie1/2010-04-01/…` is routed as `/2010-04-01/…` in region ie1. A header of
 * that name sent by the client is dropped first, so only the path says it.
 */
export function regionPathRewrite(req: IncomingMessage): string {
  delete req.headers[REGION_HEADER];
  const url = req.url ?? "/";
  const m = REGION_PREFIX.exec(url);
  if (!m || !isRegionName(m[1])) return url;
  req.headers[REGION_HEADER] = m[1];
  return m[2] ?? url;
}

/** `/<region>` when the request named its region in its path: absolute URLs made for it keep it. */
export function regionPathPrefix(req: { headers: IncomingHttpHeaders }): string {
  const fromPath = req.headers[REGION_HEADER];
  return typeof fromPath === "string" ? `/${fromPath}` : "";
}

/** A list's own path as the client asked for it (its `/<region>` prefix kept), without the query. */
export function listPath(req: { url: string; headers: IncomingHttpHeaders }): string {
  return `${regionPathPrefix(req)}${req.url.split("?")[0] ?? ""}`;
}

/** The api's URL as region `region` hands it out: the default region's plain, another's prefixed. */
export function regionApiUrl(apiUrl: string, region: string): string {
  const base = apiUrl.replace(/\/+$/, "");
  return region === "us1" ? base : `${base}/${region}`;
}

function isRegionName(name: string | undefined): name is string {
  return name !== undefined && NAME_PATTERN.test(name) && /\d$/.test(name);
}
