// How a caller's stay in a room (a <Conference>, a <Queue> bridge) ends by the Dial's own doing, not
// the call's: its timeLimit, or its `*` with hangupOnStar. Either way the Dial's action is requested.
import type { VerbContext } from "../../verb-context.js";

export const TIME_LIMIT = new Error("the Dial's timeLimit was reached");
export const STAR_PRESSED = new Error("the caller pressed * (hangupOnStar)");

/** hangupOnStar: the caller's `*` aborts `stay` with STAR_PRESSED (the channel listens until it ends). */
export function endStayOnStar(ctx: VerbContext, hangupOnStar: boolean, stay: AbortController): void {
  if (!hangupOnStar || !ctx.channel.star) return;
  ctx.channel.star(stay.signal).then(
    () => stay.abort(STAR_PRESSED),
    () => {},
  );
}

/** Whether the stay ended by the Dial's timeLimit or the caller's `*`. */
export function endedByDial(stay: AbortController): boolean {
  return stay.signal.reason === TIME_LIMIT || stay.signal.reason === STAR_PRESSED;
}
