// A call's history as the page and `switchboard trace` show it: the steps of its statechart (one per
// reported state change) and one timeline of states, webhook exchanges, channel commands and
// notifications, each entry tied to the step it happened in. Pure: history in, view out.
import { APPLICATION_ERROR_SAY } from "../../machines/call.machine.js";
import type { ChannelOut } from "../protocol/channel-events.js";
import { documentFromResponse } from "../twiml/from-response.js";
import type { Verb } from "../twiml/verb-data.js";
import type { WebhookResponse } from "../webhook/request.js";
import { causalOrder } from "./causal-order.js";
import type { CallHistory, HistoryRecord } from "./history.js";
import { type StepResolver, stateLabel } from "./steps.js";

export interface TimelineStep {
  index: number;
  at: number;
  label: string;
  value: unknown;
  status: string;
  event: string;
  active: string[];
  passed: string[];
  taken: string[];
  verb: { name: string; index: number; verb: Verb | null } | null;
  documentUrl: string | null;
  /** Until the next step; null while this is the live call's current step. */
  durationMs: number | null;
}

export type EntryKind = "state" | "webhook" | "channel" | "error" | "warning";

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
  const push = (r: HistoryRecord, kind: EntryKind, text: string, detail: Record<string, unknown>) =>
    entries.push({ at: r.at, step: step(), kind, text, durationMs: null, detail });

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
        steps.push({
          index: steps.length,
          at: r.at,
          label: stateLabel(e.value, e.verb?.name),
          value: e.value,
          status: e.status,
          event: e.event,
          ...path,
          verb,
          documentUrl: e.documentUrl,
          durationMs: null,
        });
        const verbText = verb ? `  #${verb.index} ${describeVerb(verb.name, verb.verb)}` : "";
        push(r, "state", `${stateLabel(e.value)}  [${e.status}]${verbText}`, {
          event: e.event,
          status: e.status,
          verb,
          documentUrl: e.documentUrl,
          document: verb ? (document?.body ?? null) : null,
        });
        break;
      }
      case "webhook.request":
        from ??= e.params.From ?? null;
        to ??= e.params.To ?? null;
        push(r, "webhook", `${e.method} ${e.url}  CallStatus=${e.params.CallStatus ?? ""}`, {
          request: { method: e.method, url: e.url, params: e.params },
          response: null,
        });
        break;
      case "webhook.response": {
        lastResponse = { url: e.url, verbs: parseVerbs(e), body: e.body ?? null };
        const request = [...entries]
          .reverse()
          .find((x) => x.kind === "webhook" && x.detail.response === null);
        if (request) {
          request.detail.response = { ...e };
          request.durationMs = e.durationMs;
          request.text += `  -> ${e.status} ${e.contentType ?? "(no content type)"}`;
        }
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
