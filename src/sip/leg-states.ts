// What each outbound leg placed by this gateway has reported on its `.leg` subject, and when: the
// answer to `leg-state`, so a region that resumes a call learns what it missed while no worker listened.
import type { LegEvent, LegState } from "../protocol/sip-legs.js";

/** An ended leg's state is kept this long (a region resumes a call within seconds; a whole region's outage is longer)… */
const KEPT_MS = 3600_000;
/** …and at most this many ended legs' (the oldest go first). */
const MAX_ENDED = 10_000;

interface Entry {
  rang: boolean;
  final?: Exclude<LegEvent, { kind: "ringing" }>;
  answeredAt?: number;
  endedAt?: number;
}

export class LegStates {
  /** Live legs and ended ones, in the order they ended (a Map keeps insertion order). */
  readonly #live = new Map<string, Entry>();
  readonly #ended = new Map<string, Entry>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  placed(legSid: string): void {
    this.#live.set(legSid, { rang: false });
  }

  /** The leg's event, as it is published. Only the first final event counts (a leg answers or fails once). */
  saw(legSid: string, event: LegEvent): void {
    const entry = this.#live.get(legSid);
    if (!entry) return;
    if (event.kind === "ringing") entry.rang = true;
    else if (!entry.final) {
      entry.final = event;
      if (event.kind === "answered") entry.answeredAt = this.now();
    }
  }

  /** The leg is over on this gateway (BYE either way, CANCEL, a failure). */
  ended(legSid: string): void {
    const entry = this.#live.get(legSid);
    if (!entry) return;
    this.#live.delete(legSid);
    entry.endedAt = this.now();
    this.#ended.set(legSid, entry);
    this.#prune();
  }

  /** The leg's state for `leg-state`, or undefined for a leg this gateway did not place (or forgot). */
  of(legSid: string): LegState | undefined {
    this.#prune();
    const entry = this.#live.get(legSid) ?? this.#ended.get(legSid);
    if (!entry) return undefined;
    const now = this.now();
    const ago = (t: number | undefined) => (t === undefined ? undefined : Math.max(0, Math.round(now - t)));
    const answeredMsAgo = ago(entry.answeredAt);
    const endedMsAgo = ago(entry.endedAt);
    return {
      rang: entry.rang,
      ...(entry.final && { final: entry.final }),
      ...(answeredMsAgo !== undefined && { answeredMsAgo }),
      ...(endedMsAgo !== undefined && { endedMsAgo }),
    };
  }

  #prune(): void {
    const oldest = this.now() - KEPT_MS;
    for (const [sid, entry] of this.#ended) {
      if (this.#ended.size <= MAX_ENDED && (entry.endedAt ?? 0) >= oldest) break;
      this.#ended.delete(sid);
    }
  }
}
