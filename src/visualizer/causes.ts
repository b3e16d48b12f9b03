// Why a call changed state, in words: each state event carries the event that caused it (an actor
// finishing, a REST update, the caller hanging up), and a verb's result shows in the request it made.
// Pure: the timeline asks, these answer.

/** The invoked state an `xstate.done.actor.…` / `xstate.error.actor.…` event came from. */
function actorState(event: string): string | null {
  const at = event.indexOf(".call.");
  return at < 0 ? null : event.slice(at + ".call.".length);
}

/**
 * Names what caused a state change. `previousVerb` is the verb the call was running before it
 * (a finished verb is named by it); `first` says this is the call's first reported state.
 */
export function transitionCause(event: string, previousVerb: string | null, first: boolean): string {
  switch (event) {
    case "xstate.init":
      // A later init is a worker building the call again from its snapshot (the "resumed" line says which).
      return first ? "call offered" : "restored from its snapshot";
    case "channel.hangup":
      return "caller hung up";
    case "control.redirect":
      return "REST redirect (Url)";
    case "control.twiml":
      return "REST update (Twiml)";
    case "control.end":
      return "REST update (Status)";
    case "call.limit":
      return "maximum call duration (4 h)";
    case "call.timeLimit":
      return "TimeLimit reached";
  }
  const state = actorState(event);
  if (event.startsWith("xstate.done.actor.")) {
    switch (state) {
      case "arriving":
        return "number found";
      case "routed":
        return "call announced";
      case "fetching-webhook":
        return "TwiML received";
      case "executing-twiml.answering":
        return "answered";
      case "executing-twiml.verb":
        return previousVerb ? `${previousVerb} finished` : "verb finished";
      case "storing.writing":
      case "storing":
        return "call stored";
    }
    return `${state ?? event} done`;
  }
  if (event.startsWith("xstate.error.actor.")) {
    switch (state) {
      case "arriving":
        return "number lookup failed";
      case "routed":
        return "announcing the call failed";
      case "fetching-webhook":
        return "webhook failed";
      case "executing-twiml.verb":
        return previousVerb ? `${previousVerb} failed` : "verb failed";
    }
    return `${state ?? event} failed`;
  }
  if (event.startsWith("xstate.after.")) return "timer";
  return event;
}

/** What a verb's request says it got: a Record's recording, a Gather's digits or speech, a Dial's end. */
export interface VerbResult {
  /** The line of its own the timeline shows. */
  text: string;
  /** The cause of the state change it made, in words. */
  cause: string;
}

/** Read from the parameters of the request a Gather, Record or Dial made to its action (null: none of those). */
export function verbResult(params: Record<string, string>): VerbResult | null {
  if (params.RecordingUrl !== undefined) {
    const secs = params.RecordingDuration === undefined ? "" : ` ${params.RecordingDuration} s`;
    const by = params.Digits
      ? `, ended by ${params.Digits === "hangup" ? "hang-up" : `key ${params.Digits}`}`
      : "";
    const sid = params.RecordingSid ? ` ${params.RecordingSid}` : "";
    return { text: `recording${sid}${secs}${by}  ${params.RecordingUrl}`, cause: `recording finished${by}` };
  }
  if (params.SpeechResult !== undefined) {
    const confidence = params.Confidence === undefined ? "" : ` (confidence ${params.Confidence})`;
    return { text: `speech "${params.SpeechResult}"${confidence}`, cause: `speech "${params.SpeechResult}"` };
  }
  if (params.Digits !== undefined) {
    return params.Digits === ""
      ? { text: "digits (none)", cause: "no key pressed" }
      : { text: `digits ${params.Digits}`, cause: `key press ${params.Digits}` };
  }
  if (params.DialCallStatus !== undefined) {
    const secs = params.DialCallDuration === undefined ? "" : ` after ${params.DialCallDuration} s`;
    return {
      text: `dial ${params.DialCallStatus}${secs}`,
      cause: `Dial ended (${params.DialCallStatus})`,
    };
  }
  return null;
}
