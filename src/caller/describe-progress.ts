// One line per step of a call, for `switchboard call` on a terminal.
import type { CallProgress } from "./place-call.js";

export function describeProgress(p: CallProgress): string | undefined {
  if (p.source === "offered") return `offered  ${p.callSid}, stored in region ${p.region}`;
  if (p.source === "channel") {
    const e = p.event;
    switch (e.kind) {
      case "say":
        return `say      "${e.text}" (${e.voice}, ${e.language})`;
      case "play":
        return `play     ${e.url}`;
      case "pause":
        return `pause    ${e.length} s`;
      case "reject":
        return `reject   ${e.reason}`;
      case "gather":
        return `gather   listening for ${e.input.join(" and ")}${e.finishOnKey ? ` (finish on ${e.finishOnKey})` : ""}`;
      case "record":
        return `record   up to ${e.maxLength} s${e.finishOnKey ? ` (finish on ${e.finishOnKey})` : ""}`;
      case "digits":
        return `digits   ${e.digits}`;
      case "dial":
        return `dial     bridged to ${e.to} (${e.callSid})`;
      case "ended":
        return undefined;
      default:
        return e.kind;
    }
  }
  const e = p.event;
  switch (e.type) {
    case "state":
      return `state    ${stateName(e.value, e.verb?.name)}  [${e.status}]`;
    case "webhook.request":
      return `webhook  ${e.method} ${e.url}  CallStatus=${e.params.CallStatus ?? ""}`;
    case "webhook.response":
      return `         <- ${e.status} ${e.contentType ?? "(no content type)"} in ${e.durationMs} ms`;
    case "webhook.error":
      return e.httpStatus === undefined
        ? `         <- no response (${e.code}) after ${e.durationMs} ms`
        : `         <- ${e.httpStatus} ${e.response?.contentType ?? ""} (${e.code}) in ${e.durationMs} ms`;
    case "resumed":
      return `resumed  on worker ${e.worker} (taken over from ${e.from})`;
    case "notification":
      return `${e.level.padEnd(8)} ${e.code} ${e.message}`;
  }
}

/** "executing-twiml.verb(Say)": the one state every verb runs in, named by the verb it runs. */
function stateName(value: unknown, verb: string | undefined): string {
  if (typeof value === "string") return value === "verb" && verb ? `verb(${verb})` : value;
  const [key, child] = Object.entries(value as Record<string, unknown>)[0] ?? [];
  return child === undefined ? String(key) : `${key}.${stateName(child, verb)}`;
}
