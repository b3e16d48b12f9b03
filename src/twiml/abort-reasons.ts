// Why a verb's signal aborts when the caller is still there (the call moved to another worker, or a
// REST update gave it new TwiML), as opposed to a hang-up: a verb tells them apart by these classes.

/**
 * The reason a verb's signal aborts with when its call moves to another worker (which runs the verb
 * again): unlike a hang-up, the caller is still there, so the verb leaves no conference or queue.
 */
export class CallHandedOver extends Error {
  override name = "CallHandedOver";
}

export const isHandOver = (reason: unknown): boolean => reason instanceof CallHandedOver;

/**
 * The reason a verb's signal aborts with when a REST update gives the call new TwiML: the caller is
 * still there but leaves the verb (an Enqueue's action hears QueueResult=redirected).
 */
export class CallRedirected extends Error {
  override name = "CallRedirected";
}
