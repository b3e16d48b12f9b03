// One call's view for the page: read its history, build the view, and while the call runs push a
// fresh view (at most every 100 ms) as its events arrive; the stream ends with the call.
import type { NatsConnection } from "@nats-io/transport-node";
import type { CallDirectory } from "../directory.js";
import {
  type CallHistory,
  findCallRegion,
  type HistoryRecord,
  readCallHistory,
  readLiveOrigin,
  readStoredCall,
  sortRecords,
} from "../history.js";
import type { StepResolver } from "../steps.js";
import { buildCallView, type CallView } from "../timeline.js";
import type { EventStream } from "./sse.js";

export type PageCallView = CallView & { edge: string | null; children: string[] };

export class CallViews {
  constructor(
    private readonly nc: NatsConnection,
    private readonly directory: CallDirectory,
    private readonly resolver: StepResolver,
  ) {}

  async region(callSid: string): Promise<string | null> {
    return this.directory.get(callSid)?.region ?? findCallRegion(this.nc, callSid, this.directory.regions);
  }

  /**
   * The call's region if `accountSid` may see it (null: the operator, who sees every call), else
   * null, as for a call that does not exist: another account's call is not confirmed to exist.
   */
  async visibleRegion(callSid: string, accountSid: string | null): Promise<string | null> {
    const region = await this.region(callSid);
    if (!region || accountSid === null) return region;
    return (await this.#accountOf(region, callSid)) === accountSid ? region : null;
  }

  /** The call's history and view as they are now. */
  async read(region: string, callSid: string): Promise<{ history: CallHistory; view: PageCallView }> {
    const history = await readCallHistory(this.nc, region, callSid);
    return { history, view: this.#view(history) };
  }

  /** The account a call belongs to: as the list knows it, else its stored record, else its live snapshot. */
  async #accountOf(region: string, callSid: string): Promise<string | null> {
    const known = this.directory.get(callSid)?.accountSid;
    if (known) return known;
    const stored = await readStoredCall(this.nc, region, callSid);
    if (stored) return stored.account_sid ?? null;
    return (await readLiveOrigin(this.nc, region, callSid)).accountSid;
  }

  /** Streams views of the call to `stream` until the call ends or the stream closes. */
  async stream(region: string, callSid: string, stream: EventStream): Promise<void> {
    const abort = new AbortController();
    stream.onClose(() => abort.abort());
    const arrived: HistoryRecord[] = [];
    let history: CallHistory | undefined;
    let timer: NodeJS.Timeout | undefined;
    const publish = async () => {
      timer = undefined;
      if (!history || abort.signal.aborted) return;
      const fresh = arrived.splice(0);
      history.records = sortRecords([...history.records, ...fresh]);
      const ending = fresh.some(
        (r) =>
          (r.source === "channel" && r.event.kind === "ended") || (r.source === "inspect" && isCompleted(r)),
      );
      if (ending && !history.call) history.call = await readStoredCall(this.nc, region, callSid);
      this.#send(history, stream);
    };
    const schedule = () => {
      timer ??= setTimeout(() => void publish(), 100);
    };
    abort.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
    history = await readCallHistory(this.nc, region, callSid, {
      signal: abort.signal,
      follow: (r) => {
        arrived.push(r);
        schedule();
      },
    });
    this.#send(history, stream);
    if (arrived.length) schedule();
  }

  #send(history: CallHistory, stream: EventStream): void {
    const view = this.#view(history);
    stream.send("view", view);
    if (!view.live && view.steps.length > 0) {
      stream.send("end", {});
      stream.close();
    }
  }

  #view(history: CallHistory): PageCallView {
    const view = buildCallView(history, this.resolver);
    const row = this.directory.get(history.callSid);
    return {
      ...view,
      edge: row?.edge ?? null,
      children: this.directory.children(history.callSid).map((c) => c.callSid),
    };
  }
}

function isCompleted(r: HistoryRecord): boolean {
  return r.source === "inspect" && r.event.type === "state" && r.event.value === "completed";
}
