// A call's cookies, kept across all its webhook requests as a browser keeps them: tough-cookie's jar
// (RFC 6265 with the public-suffix list, so `Domain=co.uk` is refused), made at the first Set-Cookie.
import { Cookie, CookieJar as ToughCookieJar, type CookieJar as ToughJar } from "tough-cookie";

/** A cookie as a snapshot keeps it: JSON has no Infinity, so a session cookie expires at null. */
export interface SavedCookie {
  name: string;
  value: string;
  domain: string;
  hostOnly: boolean;
  path: string;
  secure: boolean;
  expiresAt: number | null;
}

// MemoryCookieStore calls back before it returns: its callback API is used as a synchronous one.
function now<T>(run: (done: (err: Error | null, value?: T) => void) => unknown): T | undefined {
  let out: T | undefined;
  run((err, value) => {
    if (err) throw err;
    out = value;
  });
  return out;
}

export class CookieJar {
  // Undefined until a response sets a cookie: most apps set none, and a parked call keeps its jar
  // (issue #9), so an empty jar must cost nothing.
  #jar: ToughJar | undefined;

  constructor(
    readonly maxCookies = 50,
    saved: readonly SavedCookie[] = [],
  ) {
    for (const c of saved.slice(-maxCookies)) {
      const cookie = new Cookie({
        key: c.name,
        value: c.value,
        domain: c.domain,
        hostOnly: c.hostOnly,
        path: c.path,
        secure: c.secure,
        expires: c.expiresAt === null ? "Infinity" : new Date(c.expiresAt),
      });
      now((done) => this.#tough().store.putCookie(cookie, done));
    }
  }

  /** The cookies to keep with the call's snapshot (so a resumed call sends them), or undefined for none. */
  saved(): SavedCookie[] | undefined {
    const all = this.#all();
    if (all.length === 0) return undefined;
    return all.map((c) => {
      const expires = c.expiryTime();
      return {
        name: c.key,
        value: c.value,
        domain: c.domain ?? "",
        hostOnly: c.hostOnly ?? true,
        path: c.path ?? "/",
        secure: c.secure,
        expiresAt: expires === undefined || !Number.isFinite(expires) ? null : expires,
      };
    });
  }

  /** Stores the Set-Cookie header value(s) of a response from `url`. */
  store(setCookie: string | string[] | undefined, url: URL): void {
    if (setCookie === undefined || setCookie.length === 0) return;
    const jar = this.#tough();
    for (const line of typeof setCookie === "string" ? [setCookie] : setCookie) {
      // A cookie that is invalid, or for another domain or a public suffix, is dropped as a browser does.
      jar.setCookieSync(line, url.href, { ignoreError: true });
    }
    const all = this.#all();
    all.sort((a, b) => a.creationIndex - b.creationIndex);
    for (const c of all.slice(0, Math.max(0, all.length - this.maxCookies))) {
      now((done) => jar.store.removeCookie(c.domain, c.path, c.key, done));
    }
  }

  /** The Cookie header for a request to `url`, or undefined when no cookie applies. */
  header(url: URL): string | undefined {
    if (!this.#jar) return undefined;
    return this.#jar.getCookieStringSync(url.href) || undefined;
  }

  #all(): Cookie[] {
    if (!this.#jar) return [];
    const jar = this.#jar;
    return now<Cookie[]>((done) => jar.store.getAllCookies(done)) ?? [];
  }

  #tough(): ToughJar {
    // Secure cookies set over http are kept (and sent over https only), as before tough-cookie.
    this.#jar ??= new ToughCookieJar(undefined, { enforceSecureOriginOnStorage: false });
    return this.#jar;
  }
}
