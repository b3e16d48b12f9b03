// What reaches a live call over NATS besides its job: the channel's input (`call.<sid>.in`: keys,
// speech, the caller hanging up) and live-call changes (`call.<sid>.control`, REST's POST Calls/{Sid}).
import type { Msg } from "@nats-io/transport-node";
import { fail, toSwitchboardError } from "../../errors/switchboard-error.js";
import { parseCallControl } from "../../protocol/call-control.js";
import { ChannelInSchema } from "../../protocol/channel-events.js";
import { decode, encodingOf } from "../../protocol/codec.js";
import { respondError, respondValue } from "../../protocol/service-error.js";
import type { TwimlWarning } from "../../twiml/verb-data.js";
import type { RegionRuntime } from "../runtime.js";
import type { BridgedLegControl } from "./dial-legs.js";
import type { LiveCall } from "./live-call.js";

/** Hands keys, speech or a hang-up to the call's channel; a bad payload is logged and ignored. */
export function takeChannelInput(rt: Pick<RegionRuntime, "log">, call: LiveCall, msg: Msg): void {
  try {
    const parsed = ChannelInSchema.safeParse(decode(msg.data, encodingOf(msg.headers)));
    if (!parsed.success)
      throw fail("invalidPayload", `invalid channel input: ${parsed.error.issues[0]?.message}`);
    const event = parsed.data;
    if (event.kind === "hangup") call.channel.callerHungUp();
    else call.channel.input(event);
  } catch (err) {
    const e = toSwitchboardError(err);
    rt.log.warn({ callSid: call.callSid, code: e.code }, `ignored channel input: ${e.message}`);
  }
}

/** Applies a live-call change and answers with the call as it is right after (an empty one only reads). */
export function takeCallControl(rt: Pick<RegionRuntime, "outbox">, call: LiveCall, msg: Msg): void {
  try {
    const change = parseCallControl(decode(msg.data, encodingOf(msg.headers)));
    // A `Twiml` given over REST is checked as a fetched document is: its warnings go on the call.
    const warn = (w: TwimlWarning) =>
      rt.outbox.notifier.notify({
        accountSid: call.actor.getSnapshot().context.facts.accountSid ?? "",
        callSid: call.callSid,
        level: "warning",
        code: w.code,
        message: w.line === undefined ? w.message : `${w.message} (line ${w.line}, column ${w.column})`,
      });
    // A new Url or Twiml moves the call on: the verb it leaves hears that it was redirected.
    const resource = call.applyControl(change, warn);
    if (msg.reply) respondValue(msg, resource);
  } catch (err) {
    if (msg.reply) respondError(msg, err);
  }
}

/**
 * A live-call change for a leg one of this worker's calls is bridged to (`POST Calls/{leg}.json`):
 * `Status=completed` hangs it up (the Dial goes on to its action), `canceled` changes nothing on an
 * answered leg, as on any live call; new TwiML for the leg is refused, since a leg runs no TwiML of
 * its own here. Answers with the leg's Call resource.
 */
export function takeLegControl(leg: BridgedLegControl, parentSid: string, callSid: string, msg: Msg): void {
  (async () => {
    const change = parseCallControl(decode(msg.data, encodingOf(msg.headers)));
    if (change.url !== undefined || change.twiml !== undefined || change.timeLimitS !== undefined) {
      throw fail(
        "invalidParameter",
        `${callSid} is a <Dial> leg bridged to ${parentSid}: switchboard can hang it up (Status=completed) but not give it new TwiML or a TimeLimit; update ${parentSid} instead`,
      );
    }
    return change.status === "completed" ? await leg.hangup() : leg.resource();
  })().then(
    (resource) => {
      if (msg.reply) respondValue(msg, resource);
    },
    (err: unknown) => {
      if (msg.reply) respondError(msg, err);
    },
  );
}
