// HTTP digest authentication for our outbound INVITEs (RFC 2617, RFC 7616 as SIP uses it, RFC 3261
// §22): the Authorization (401) or Proxy-Authorization (407) answering a trunk's challenge. The
// other side, challenging callers, is digest-check.ts.
import { createHash, randomBytes } from "node:crypto";

export interface Challenge {
  realm: string;
  nonce: string;
  opaque?: string;
  /** "MD5" (default), "MD5-sess", "SHA-256" or "SHA-256-sess". */
  algorithm?: string;
  /** The qop options offered ("auth", "auth-int", "auth,auth-int"); absent: RFC 2069 digest. */
  qop?: string;
}

/** Longer authentication headers are not read: no phone or carrier sends one, and parsing is work. */
export const MAX_AUTH_HEADER = 4096;

/**
 * A `Digest k="v", k=v, …` header's parameters (names lower-cased, quotes and escapes taken off);
 * undefined when its scheme is not Digest, it is malformed or longer than MAX_AUTH_HEADER. For a
 * challenge (WWW-Authenticate) and an answer (Authorization) alike. Each parameter is matched where
 * the last ended (a sticky pattern): a scan that could start anywhere backtracks over a long run of
 * name characters from every position, seconds of a stranger's 60 KB header.
 */
export function digestParams(header: string): Record<string, string> | undefined {
  if (header.length > MAX_AUTH_HEADER) return undefined;
  const scheme = /^\s*digest\s+/i.exec(header);
  if (!scheme) return undefined;
  const params: Record<string, string> = {};
  const re = /\s*([a-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))\s*(?:,|$)/iy;
  re.lastIndex = scheme[0].length;
  while (re.lastIndex < header.length) {
    const p = re.exec(header);
    if (!p) return undefined;
    params[(p[1] ?? "").toLowerCase()] = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return params;
}

/**
 * The `sip` package parses authentication headers into objects (values still quoted), one per header:
 * back to each header's text.
 */
export function authHeaderTexts(raw: unknown): string[] {
  const all = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return all.map((a) => {
    if (typeof a === "string") return a;
    const params = Object.entries(a as Record<string, string>)
      .filter(([k, v]) => k !== "scheme" && v !== undefined)
      .map(([k, v]) => `${k}=${v}`);
    return `${(a as Record<string, string>).scheme ?? "Digest"} ${params.join(", ")}`;
  });
}

/** Reads a `Digest realm="…", nonce="…", …` challenge; undefined when it is not a digest one. */
export function parseChallenge(header: string): Challenge | undefined {
  const params = digestParams(header);
  if (params?.realm === undefined || params.nonce === undefined) return undefined;
  return {
    realm: params.realm,
    nonce: params.nonce,
    ...(params.opaque !== undefined && { opaque: params.opaque }),
    ...(params.algorithm !== undefined && { algorithm: params.algorithm }),
    ...(params.qop !== undefined && { qop: params.qop }),
  };
}

export interface Credentials {
  username: string;
  password: string;
}

/** The Authorization header value answering `challenge` for `method` on `uri`; throws on an algorithm we lack. */
export function authorization(
  challenge: Challenge,
  creds: Credentials,
  method: string,
  uri: string,
  opts: { cnonce?: string; nc?: number; body?: string } = {},
): string {
  const algorithm = (challenge.algorithm ?? "MD5").toUpperCase();
  const hashName = algorithm.startsWith("SHA-256") ? "sha256" : algorithm.startsWith("MD5") ? "md5" : "";
  if (hashName === "" || !/^(MD5|SHA-256)(-SESS)?$/.test(algorithm))
    throw new Error(`unsupported digest algorithm ${challenge.algorithm}`);
  const h = (s: string) => createHash(hashName).update(s).digest("hex");
  const offered = (challenge.qop ?? "").split(",").map((q) => q.trim().toLowerCase());
  // auth when offered (it does not sign the body, which a proxy may not see as we do); else auth-int.
  const qop = offered.includes("auth") ? "auth" : offered.includes("auth-int") ? "auth-int" : undefined;
  const cnonce = opts.cnonce ?? randomBytes(8).toString("hex");
  const nc = (opts.nc ?? 1).toString(16).padStart(8, "0");
  let ha1 = h(`${creds.username}:${challenge.realm}:${creds.password}`);
  if (algorithm.endsWith("-SESS")) ha1 = h(`${ha1}:${challenge.nonce}:${cnonce}`);
  const ha2 = qop === "auth-int" ? h(`${method}:${uri}:${h(opts.body ?? "")}`) : h(`${method}:${uri}`);
  const response = qop
    ? h(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:${qop}:${ha2}`)
    : h(`${ha1}:${challenge.nonce}:${ha2}`);
  const q = (s: string) => `"${s.replace(/["\\]/g, "\\$&")}"`;
  const parts = [
    `username=${q(creds.username)}`,
    `realm=${q(challenge.realm)}`,
    `nonce=${q(challenge.nonce)}`,
    `uri=${q(uri)}`,
    `response=${q(response)}`,
    `algorithm=${challenge.algorithm ?? "MD5"}`,
    ...(challenge.opaque !== undefined ? [`opaque=${q(challenge.opaque)}`] : []),
    ...(qop ? [`qop=${qop}`, `nc=${nc}`, `cnonce=${q(cnonce)}`] : []),
  ];
  return `Digest ${parts.join(", ")}`;
}
