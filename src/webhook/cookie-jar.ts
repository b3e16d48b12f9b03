// A call's cookies, kept across all its webhook requests as a browser keeps them.

interface Cookie {
  name: string;
  value: string;
  domain: string;
  hostOnly: boolean;
  path: string;
  secure: boolean;
  expiresAt: number;
}

const NONE: Cookie[] = [];

/**
 * A browser-like cookie store (RFC 6265, without a public-suffix list): Set-Cookie from any response is
 * returned as Cookie on later requests that match its domain, path and Secure flag, until it expires.
 */
/** A cookie as a snapshot keeps it: JSON has no Infinity, so a session cookie expires at null. */
export type SavedCookie = Omit<Cookie, "expiresAt"> & { expiresAt: number | null };

export class CookieJar {
  // Only an array just made by filter() is changed in place, so a jar with no cookies can share NONE:
  // most apps set none, and a parked call keeps its jar (issue #9).
  #cookies: Cookie[] = NONE;

  constructor(
    readonly maxCookies = 50,
    saved: readonly SavedCookie[] = [],
  ) {
    if (saved.length > 0)
      this.#cookies = saved.slice(-maxCookies).map((c) => ({ ...c, expiresAt: c.expiresAt ?? Infinity }));
  }

  /** The cookies to keep with the call's snapshot (so a resumed call sends them), or undefined for none. */
  saved(): SavedCookie[] | undefined {
    if (this.#cookies.length === 0) return undefined;
    return this.#cookies.map((c) => ({ ...c, expiresAt: Number.isFinite(c.expiresAt) ? c.expiresAt : null }));
  }

  /** Stores the Set-Cookie header value(s) of a response from `url`. */
  store(setCookie: string | string[] | undefined, url: URL): void {
    for (const line of typeof setCookie === "string" ? [setCookie] : (setCookie ?? [])) {
      const [pair = "", ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      if (eq <= 0 || name === "" || line.length > 4096) continue;
      const slash = url.pathname.lastIndexOf("/");
      const host = url.hostname.toLowerCase();
      const c: Cookie = {
        name,
        value: pair.slice(eq + 1).trim(),
        domain: host,
        hostOnly: true,
        path: "/",
        secure: false,
        expiresAt: Infinity,
      };
      if (slash > 0) c.path = url.pathname.slice(0, slash);
      let valid = true;
      for (const attr of attrs) {
        const at = attr.indexOf("=");
        const key = (at < 0 ? attr : attr.slice(0, at)).trim().toLowerCase();
        const val = at < 0 ? "" : attr.slice(at + 1).trim();
        if (key === "secure") c.secure = true;
        else if (key === "path" && val.startsWith("/")) c.path = val;
        else if (key === "max-age" && /^-?\d+$/.test(val)) c.expiresAt = Date.now() + Number(val) * 1000;
        else if (key === "expires" && c.expiresAt === Infinity && !Number.isNaN(Date.parse(val)))
          c.expiresAt = Date.parse(val);
        else if (key === "domain" && val !== "") {
          const domain = val.replace(/^\./, "").toLowerCase();
          valid = domain.includes(".") && (host === domain || host.endsWith(`.${domain}`));
          c.domain = domain;
          c.hostOnly = false;
        }
      }
      if (!valid) continue;
      this.#cookies = this.#cookies.filter(
        (o) => !(o.name === c.name && o.domain === c.domain && o.path === c.path),
      );
      if (c.expiresAt > Date.now()) this.#cookies.push(c);
      if (this.#cookies.length > this.maxCookies) this.#cookies.shift();
    }
  }

  /** The Cookie header for a request to `url`, or undefined when no cookie applies. */
  header(url: URL): string | undefined {
    if (this.#cookies.length === 0) return undefined;
    const now = Date.now();
    this.#cookies = this.#cookies.filter((c) => c.expiresAt > now);
    const host = url.hostname.toLowerCase();
    const path = url.pathname;
    const matching = this.#cookies.filter(
      (c) =>
        (c.hostOnly ? host === c.domain : host === c.domain || host.endsWith(`.${c.domain}`)) &&
        (path === c.path ||
          (path.startsWith(c.path) && (c.path.endsWith("/") || path[c.path.length] === "/"))) &&
        (!c.secure || url.protocol === "https:"),
    );
    if (matching.length === 0) return undefined;
    return matching
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
  }
}
