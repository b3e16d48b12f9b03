// The visualizer's list of calls across regions, kept current in the api process: each region's
// recent inspection events (live calls, their state and status) and its recent Call resources
// (ended calls), both followed with ordered consumers. Bounded: the newest MAX_CALLS are kept.
import { DeliverPolicy, type JsMsg, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.js";
import type { CallResource } from "../model/records.js";
import { decode } from "../protocol/codec.js";
import { type InspectEvent, inspectEnvelopes } from "../protocol/inspect.js";
import { buckets, streams } from "../protocol/subjects.js";
import { readLiveOrigin } from "./history.js";
import { sanitize } from "./sanitize.js";
import { stateLabel } from "./steps.js";

export interface CallRow {
  callSid: string;
  region: string;
  /** The account the call belongs to, once an event, its record or its snapshot names it. */
  accountSid: string | null;
  edge: string | null;
  from: string | null;
  to: string | null;
  status: string;
  state: string | null;
  live: boolean;
  startedAt: number | null;
  /** The call's own duration in seconds once stored. */
  duration: string | null;
  parentCallSid: string | null;
  errorCode: number | null;
  /**
   * Errors and warnings reported against the call (its Notifications), as its inspection events
   * told them: the list marks them (and a stored `errorCode`, for a call whose events it did not read).
   */
  errors: number;
  warnings: number;
}

const MAX_CALLS = 2000;
/** How far back each region's streams are read when the directory starts. */
const BACKLOG = 5000;
/** Only calls this recent are looked up in the live snapshots (older ones have ended). */
const EDGE_LOOKUP_MS = 120_000;

export class CallDirectory {
  readonly #rows = new Map<string, CallRow>();
  readonly #regions = new Set<string>();
  /** Streams with a consumer already (or one being created). */
  readonly #following = new Set<string>();
  readonly #listeners = new Set<(rows: CallRow[]) => void>();
  readonly #closers: (() => Promise<unknown>)[] = [];
  readonly #stored = new Set<string>();
  readonly #edgeTries = new Map<string, number>();
  #pending = new Map<string, CallRow>();
  #flush: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {}

  get regions(): string[] {
    return [...this.#regions].sort();
  }

  /** The newest calls first; with `keep`, only the calls it keeps (one account's). */
  rows(limit = 500, keep: (row: CallRow) => boolean = () => true): CallRow[] {
    return [...this.#rows.values()]
      .filter(keep)
      .sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0))
      .slice(0, limit);
  }

  get(callSid: string): CallRow | undefined {
    return this.#rows.get(callSid);
  }

  /** Calls whose stored record names `callSid` as their parent (child legs). */
  children(callSid: string): CallRow[] {
    return [...this.#rows.values()].filter((r) => r.parentCallSid === callSid);
  }

  /** Rows that changed, batched (at most one call every 200 ms). Returns the unsubscriber. */
  onChange(listener: (rows: CallRow[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Starts following a region. Safe to call again (discovery does, every few seconds): it only
   * picks up what is not followed yet, such as a bucket created after the region's first call.
   */
  async addRegion(region: string): Promise<void> {
    this.#regions.add(region);
    await Promise.all([
      this.#follow(streams.inspect(region), (m) => this.#onInspect(region, m)),
      this.#follow(`KV_${buckets.calls(region)}`, (m) => this.#onRecord(region, m)),
    ]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#flush);
    this.#listeners.clear();
    await Promise.all(this.#closers.splice(0).map((c) => c().catch(() => {})));
  }

  async #follow(stream: string, onMsg: (m: JsMsg) => void): Promise<void> {
    if (this.#following.has(stream)) return;
    this.#following.add(stream);
    try {
      const info = await (await jetstreamManager(this.nc)).streams.info(stream);
      const start = Math.max(info.state.first_seq, info.state.last_seq - BACKLOG + 1, 1);
      const consumer = await jetstream(this.nc).consumers.get(stream, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: start,
      });
      const messages = await consumer.consume();
      if (this.#closed) {
        await messages.close();
        return;
      }
      this.#closers.push(() => messages.close());
      void (async () => {
        for await (const m of messages) {
          try {
            onMsg(m);
          } catch (err) {
            this.log.warn({ err, stream }, "ignored a message the visualizer cannot read");
          }
        }
      })();
    } catch {
      // Not there yet (a bucket is made with the region's first call): the next discovery retries.
      this.#following.delete(stream);
    }
  }

  #row(region: string, callSid: string): CallRow {
    let row = this.#rows.get(callSid);
    if (!row) {
      row = {
        callSid,
        region,
        accountSid: null,
        edge: null,
        from: null,
        to: null,
        status: "queued",
        state: null,
        live: true,
        startedAt: null,
        duration: null,
        parentCallSid: null,
        errorCode: null,
        errors: 0,
        warnings: 0,
      };
      this.#rows.set(callSid, row);
      if (this.#rows.size > MAX_CALLS) this.#evict();
    }
    return row;
  }

  #onInspect(region: string, m: JsMsg): void {
    const callSid = m.subject.slice(m.subject.lastIndexOf(".") + 1);
    const row = this.#row(region, callSid);
    const at = Number(m.info.timestampNanos) / 1e6;
    row.startedAt ??= at;
    for (const e of inspectEnvelopes(m.data)) this.#apply(region, row, e, at);
    this.#changed(row);
  }

  #apply(region: string, row: CallRow, e: InspectEvent, at: number): void {
    const { callSid } = row;
    if (e.type === "state") {
      row.state = stateLabel(e.value, e.verb?.name);
      // Once the record is stored it is the truth; replayed events must not make the call live again.
      if (!this.#stored.has(callSid)) {
        row.status = e.status;
        row.live = row.state !== "completed";
      }
      const tries = this.#edgeTries.get(callSid) ?? 0;
      if (
        (row.edge === null || row.accountSid === null) &&
        row.live &&
        tries < 3 &&
        Date.now() - at < EDGE_LOOKUP_MS
      ) {
        this.#edgeTries.set(callSid, tries + 1);
        void this.#lookUpEdge(region, row);
      }
    } else if (e.type === "webhook.request") {
      // The worker fills AccountSid from the call's own facts (empty before its number is loaded).
      row.accountSid ||= e.params.AccountSid || null;
      row.from ??= e.params.From ?? null;
      row.to ??= e.params.To ?? null;
    } else if (e.type === "notification") {
      if (e.level === "error") row.errors++;
      else row.warnings++;
    }
  }

  #onRecord(region: string, m: JsMsg): void {
    const callSid = m.subject.slice(m.subject.lastIndexOf(".") + 1);
    if (m.headers?.get("KV-Operation")) return; // a delete or purge marker
    const call = sanitize(decode(m.data, "json") as CallResource);
    const row = this.#row(region, callSid);
    this.#stored.add(callSid);
    Object.assign(row, {
      accountSid: call.account_sid ?? row.accountSid,
      from: call.from,
      to: call.to,
      status: call.status,
      live: false,
      duration: call.duration,
      parentCallSid: call.parent_call_sid,
      errorCode: call.error_code ?? null,
      startedAt: row.startedAt ?? Date.parse(call.start_time ?? call.date_created),
    });
    this.#changed(row);
  }

  async #lookUpEdge(region: string, row: CallRow): Promise<void> {
    const origin = await readLiveOrigin(this.nc, region, row.callSid);
    const edge = row.edge === null ? origin.edge : null;
    const accountSid = row.accountSid === null ? origin.accountSid : null;
    if (edge !== null) row.edge = edge;
    if (accountSid !== null) row.accountSid = accountSid;
    if (edge !== null || accountSid !== null) this.#changed(row);
  }

  #changed(row: CallRow): void {
    this.#pending.set(row.callSid, row);
    this.#flush ??= setTimeout(() => {
      this.#flush = undefined;
      const rows = [...this.#pending.values()].map((r) => ({ ...r }));
      this.#pending = new Map();
      for (const l of this.#listeners) l(rows);
    }, 200);
  }

  #evict(): void {
    const oldest = [...this.#rows.values()]
      .sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0))
      .slice(0, this.#rows.size - MAX_CALLS * 0.9);
    for (const r of oldest) {
      this.#rows.delete(r.callSid);
      this.#stored.delete(r.callSid);
      this.#edgeTries.delete(r.callSid);
    }
  }
}
