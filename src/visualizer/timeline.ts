// A call's history as the page and `switchboard trace` show it: the steps of its statechart (one per
// reported state change) and one timeline of states, webhook exchanges, channel commands and
// notifications, each entry tied to the step it happened in. Pure: history in, view out.
import { APPLICATION_ERROR_SAY } from "../../machines/call.machine.js";
import type { ChannelOut } from "../protocol/channel-events.js";
import { documentFromResponse } from "../twiml/from-response.js";
import type { Verb } from "../twiml/verb-data.js";
import type { WebhookResponse } from "../webhook/request.js";
import { causalOrder } from "./causal-order.js";
import { transitionCause, verbResult } from "./causes.js";
import type { CallHistory, HistoryRecord } from "./history.js";
import { prettyXml } from "./pretty-xml.js";
import { type StepResolver, stateLabel } from "./steps.js";

export interface TimelineStep {
  index: number;
  at: number;
  label: string;
  value: unknown;
  status: string;
  event: string;
  /** What caused the step, in words ("key press 1", "caller hung up", "REST redirect (Url)"). */
  cause: string;
  active: string[];
  passed: string[];
  taken: string[];
  verb: { name: string; index: number; verb: Verb | null } | null;
  documentUrl: string | null;
  /** Until the next step; null while this is the live call's current step. */
  durationMs: number | null;
}

/** `input`: what a Gather heard or a Record kept; `worker`: the call moved to another worker. */
export type EntryKind = "state" | "webhook" | "channel" | "input" | "worker" | "error" | "warning";

export interface TimelineEntry {
  at: number;
  /** The step this happened in (-1 before the first state was reported). */
  step: number;
  kind: EntryKind;
  text: string;
  durationMs: number | null;
  /** What the page shows when the entry is clicked. */
  detail: Record<string, unknown>;
}

export interface CallView {
  callSid: string;
  region: string;
  live: boolean;
  status: string;
  from: string | null;
  to: string | null;
  startedAt: number | null;
  endedAt: number | null;
  /** The stored record's duration (the call's own time), in seconds. */
  duration: string | null;
  errorCode: number | null;
  parentCallSid: string | null;
  channelCaptured: boolean;
  steps: TimelineStep[];
  entries: TimelineEntry[];
  record: unknown;
}

interface Document {
  url: string | null;
  verbs: Verb[] | null;
  body: string | null;
}

export function buildCallView(history: CallHistory, resolver: StepResolver): CallView {
  const steps: TimelineStep[] = [];
  const entries: TimelineEntry[] = [];
  let lastResponse: Document | null = null;
  let document: Document | null = null;
  let from: string | null = null;
  let to: string | null = null;
  const step = () => steps.length - 1;
  const push = (r: HistoryRecord, kind: EntryKind, text: string, detail: Record<string, unknown>) => {
    const entry: TimelineEntry = { at: r.at, step: step(), kind, text, durationMs: null, detail };
    entries.push(entry);
    return entry;
  };
  /** The current step's line: its cause is named again when a later record tells it better. */
  let stateEntry: TimelineEntry | undefined;
  const stateText = (s: TimelineStep) =>
    `${stateLabel(s.value)}  [${s.status}]${s.verb ? `  #${s.verb.index} ${describeVerb(s.verb.name, s.verb.verb)}` : ""}  ← ${s.cause}`;

  for (const r of causalOrder(history.records)) {
    if (r.source === "channel") {
      push(r, "channel", channelText(r.event), { ...r.event });
      continue;
    }
    const e = r.event;
    switch (e.type) {
      case "state": {
        const previous = steps.at(-1);
        const path = resolver.resolve(previous?.active ?? null, e.value, e.event);
        const wasExecuting = previous?.active.some((id) => id.endsWith("executing-twiml")) ?? false;
        if (e.event.startsWith("xstate.done.actor.") && e.event.endsWith("fetching-webhook")) {
          document = lastResponse;
        } else if (e.event.startsWith("xstate.error.actor.") && !wasExecuting) {
          // The document could not be fetched: the caller hears the application-error message.
          document = { url: null, verbs: [APPLICATION_ERROR_SAY], body: null };
        } else if (e.event === "control.twiml") {
          document = { url: null, verbs: null, body: null };
        }
        const verb = e.verb ? { ...e.verb, verb: document?.verbs?.[e.verb.index] ?? null } : null;
        if (previous) previous.durationMs = r.at - previous.at;
        const current: TimelineStep = {
          index: steps.length,
          at: r.at,
          label: stateLabel(e.value, e.verb?.name),
          value: e.value,
          status: e.status,
          event: e.event,
          cause: transitionCause(e.event, previous?.verb?.name ?? null, previous === undefined),
          ...path,
          verb,
          documentUrl: e.documentUrl,
          durationMs: null,
        };
        steps.push(current);
        stateEntry = push(r, "state", stateText(current), {
          event: e.event,
          cause: current.cause,
          status: e.status,
          verb,
          documentUrl: e.documentUrl,
          document: verb && document?.body ? prettyXml(document.body) : null,
        });
        break;
      }
      case "webhook.request": {
        from ??= e.params.From ?? null;
        to ??= e.params.To ?? null;
        const result = verbResult(e.params);
        const current = steps.at(-1);
        if (result && current) {
          // The verb's result, on its own line, names the step its request was made in.
          push(r, "input", result.text, { params: e.params });
          if (current.event.startsWith("xstate.done.actor.") && stateEntry) {
            current.cause = result.cause;
            stateEntry.text = stateText(current);
            stateEntry.detail.cause = result.cause;
          }
        }
        push(r, "webhook", `${e.method} ${e.url}  CallStatus=${e.params.CallStatus ?? ""}`, {
          request: { method: e.method, url: e.url, params: e.params },
          response: null,
        });
        break;
      }
      case "webhook.response": {
        lastResponse = { url: e.url, verbs: parseVerbs(e), body: e.body ?? null };
        const request = openRequest(entries);
        if (request) {
          const twiml = e.body !== undefined && /xml/.test(e.contentType ?? "xml") ? prettyXml(e.body) : null;
          request.detail.response = { ...e, ...(twiml !== null && { twiml }) };
          request.durationMs = e.durationMs;
          request.text += `  -> ${e.status} ${e.contentType ?? "(no content type)"}`;
        }
        break;
      }
      case "webhook.error": {
        // A request that failed: its answer, when there was one, is kept as any response is, and
        // the error says what was wrong with it (the status, or a document that could not be used).
        const request = openRequest(entries) ?? entries.findLast((x) => x.kind === "webhook");
        if (!request) break;
        const error = { code: e.code, message: e.message };
        if (request.detail.response === null) {
          request.durationMs = e.durationMs;
          request.detail.response = e.response
            ? { ...e.response, url: e.url, durationMs: e.durationMs, failed: true }
            : { failed: true, durationMs: e.durationMs, status: null };
          request.text +=
            e.httpStatus !== undefined ? `  -> ${e.httpStatus} (${e.code})` : `  -> no response (${e.code})`;
        } else request.text += `  (${e.code})`;
        request.detail.error = error;
        break;
      }
      case "resumed": {
        // The new worker reports the restored state first, then that it took the call over.
        const current = steps.at(-1);
        if (current?.event === "xstate.init" && current.index > 0 && stateEntry) {
          current.cause = `take-over by worker ${e.worker}`;
          stateEntry.text = stateText(current);
          stateEntry.detail.cause = current.cause;
        }
        push(r, "worker", `resumed on worker ${e.worker} (taken over from ${e.from})`, { ...e });
        break;
      }
      case "notification":
        push(r, e.level, `${e.code} ${e.message}`, { ...e });
        break;
    }
  }

  const call = history.call;
  const last = steps.at(-1);
  const live = call === null && last !== undefined && last.label !== "completed";
  if (last && !live) last.durationMs = 0;
  for (const x of entries) if (x.kind === "state") x.durationMs = steps[x.step]?.durationMs ?? null;
  return {
    callSid: history.callSid,
    region: history.region,
    live,
    status: call?.status ?? last?.status ?? "queued",
    from: call?.from ?? from,
    to: call?.to ?? to,
    startedAt: steps[0]?.at ?? history.records[0]?.at ?? null,
    endedAt: live ? null : (history.records.at(-1)?.at ?? null),
    duration: call?.duration ?? null,
    errorCode: call?.error_code ?? null,
    parentCallSid: call?.parent_call_sid ?? null,
    channelCaptured: history.channelCaptured,
    steps,
    entries,
    record: call,
  };
}

/** The newest webhook request still waiting for its answer. */
function openRequest(entries: TimelineEntry[]): TimelineEntry | undefined {
  return entries.findLast((x) => x.kind === "webhook" && x.detail.response === null);
}

function parseVerbs(e: { url: string; status: number; contentType?: string; body?: string }): Verb[] | null {
  if (e.body === undefined) return null;
  try {
    const res = { url: e.url, status: e.status, contentType: e.contentType, body: e.body } as WebhookResponse;
    return [...documentFromResponse(res).verbs];
  } catch {
    return null;
  }
}

function describeVerb(name: string, verb: Verb | null): string {
  if (!verb) return name;
  switch (verb.name) {
    case "Say":
      return `Say "${verb.text}"`;
    case "Play":
      return `Play ${verb.url}`;
    case "Pause":
      return `Pause ${verb.length} s`;
    case "Redirect":
      return `Redirect ${verb.method} ${verb.url}`;
    case "Reject":
      return `Reject ${verb.reason}`;
    default:
      return verb.name;
  }
}

function channelText(e: ChannelOut): string {
  switch (e.kind) {
    case "say":
      return `say "${e.text}" (${e.voice}, ${e.language})`;
    case "play":
      return `play ${e.url}`;
    case "pause":
      return `pause ${e.length} s`;
    case "reject":
      return `reject ${e.reason}`;
    case "dial":
      return `dial: bridged to ${e.to} (${e.callSid})`;
    case "ended":
      return `ended ${e.status} in ${e.region}`;
    default:
      return e.kind;
  }
}
