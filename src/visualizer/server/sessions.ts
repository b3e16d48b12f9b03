// The visualizer's login sessions, in memory in the api process: a random id (the cookie's value)
// names a viewer until it logs out, the session expires, or its credentials stop holding (the
// account is suspended or its token changed). Streams a session opened end with it.
import { randomBytes } from "node:crypto";

/** Who is looking: one account (sees its own calls), or the operator (`accountSid` null, sees all). */
export interface Viewer {
  user: string;
  accountSid: string | null;
}

/** What the visualizer needs of the api's logins (src/api/logins.ts implements it). */
export type LoginOutcome =
  | { ok: true; viewer: Viewer; current: () => boolean }
  | { ok: false; retryAfter: number };

export interface ViewerLogins {
  login(ip: string, user: string, password: string): LoginOutcome;
  loginBasic(ip: string, header: string | undefined): LoginOutcome | undefined;
}

export interface Session {
  id: string;
  viewer: Viewer;
  expiresAt: number;
}

interface Entry extends Session {
  current: () => boolean;
  enders: Set<() => void>;
}

/** A working day: after it the page asks for the token again. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
const MAX_SESSIONS = 10_000;
const SWEEP_MS = 60_000;

export class Sessions {
  readonly ttlMs: number;
  /** id -> session; Map order = oldest first, so the oldest go first when there are too many. */
  readonly #sessions = new Map<string, Entry>();
  readonly #sweep: NodeJS.Timeout;
  readonly #now: () => number;

  constructor(opts: { ttlMs?: number; now?: () => number } = {}) {
    this.ttlMs = opts.ttlMs ?? SESSION_TTL_MS;
    this.#now = opts.now ?? Date.now;
    // Expired sessions, and those whose credentials no longer hold, end their open streams too.
    this.#sweep = setInterval(() => this.#expire(), SWEEP_MS);
    this.#sweep.unref();
  }

  open(viewer: Viewer, current: () => boolean): Session {
    // 256 random bits: a session id cannot be guessed, so it needs no signature.
    const id = randomBytes(32).toString("base64url");
    const entry: Entry = { id, viewer, expiresAt: this.#now() + this.ttlMs, current, enders: new Set() };
    this.#sessions.set(id, entry);
    while (this.#sessions.size > MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.end(oldest);
    }
    return { id, viewer, expiresAt: entry.expiresAt };
  }

  /** The session with this id while it is valid; an expired or revoked one is ended. */
  get(id: string | undefined): Session | undefined {
    const entry = id === undefined ? undefined : this.#sessions.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now() || !entry.current()) {
      this.end(entry.id);
      return undefined;
    }
    return { id: entry.id, viewer: entry.viewer, expiresAt: entry.expiresAt };
  }

  /** Runs `fn` when the session ends; returns the unsubscriber. */
  onEnd(id: string, fn: () => void): () => void {
    const entry = this.#sessions.get(id);
    if (!entry) {
      fn();
      return () => {};
    }
    entry.enders.add(fn);
    return () => entry.enders.delete(fn);
  }

  end(id: string): void {
    const entry = this.#sessions.get(id);
    if (!entry) return;
    this.#sessions.delete(id);
    for (const fn of [...entry.enders]) fn();
  }

  get size(): number {
    return this.#sessions.size;
  }

  close(): void {
    clearInterval(this.#sweep);
    for (const id of [...this.#sessions.keys()]) this.end(id);
  }

  #expire(): void {
    for (const id of [...this.#sessions.keys()]) this.get(id);
  }
}
