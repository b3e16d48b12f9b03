// The one "wait music" runner, shared by <Enqueue>'s waitUrl, <Conference>'s waitUrl and <Queue>'s
// url: runs the document (run-document.ts: the verbs Twilio allows there, by their own definitions,
// in the call's clock), and then loops, falls silent or returns, as its caller asks.
// It runs until the verb that started it aborts its signal (the caller was dequeued, the conference
// started, the caller hung up), unless the document says <Leave> or <Hangup>.
import { ErrorCodes } from "../errors/codes.js";
import { fail } from "../errors/switchboard-error.js";
import type { HttpMethod } from "../model/http.js";
import { type DocumentRequest, type DocumentRules, runDocument } from "./run-document.js";
import type { VerbContext } from "./verb-context.js";
import type { Verb, VerbOutcome } from "./verb-data.js";
import type { VerbDefinition } from "./verb-definition.js";
import { gather } from "./verbs/gather.js";
import { hangup } from "./verbs/hangup.js";
import { pause } from "./verbs/pause.js";
import { play } from "./verbs/play.js";
import { redirect } from "./verbs/redirect.js";
import { say } from "./verbs/say.js";

/**
 * Every verb a wait document may run (each caller allows some of them), by its own definition: taken
 * from the verb files, not the registry, which would import this file back through Enqueue and Dial.
 */
const RUNNABLE = [say, play, pause, hangup, redirect, gather] as const;
const runnable: ReadonlyMap<string, VerbDefinition<Verb>> = new Map(
  RUNNABLE.map((definition): [string, VerbDefinition<Verb>] => [definition.name, definition]),
);

/** The verbs a wait document may hold: those it runs, and <Leave>, which the runner acts on itself. */
export type WaitVerbName = (typeof RUNNABLE)[number]["name"] | "Leave";

/**
 * Wait music that moves the call's clock less than this plays nothing a caller would hear as music
 * (an empty document, a <Play> of an empty file): looping it would only request it again and again,
 * as fast as the app answers.
 */
export const AUDIBLE_MS = 100;
/** Documents in a row that play nothing and lead to the next (<Redirect>) before the music falls silent. */
export const MAX_QUIET_DOCUMENTS = 10;

/** Twilio's default hold music when a waitUrl is absent. */
export const DEFAULT_WAIT_URL = "http://twimlets.com/holdmusic?Bucket=com.twilio.music.classical";

export interface WaitMusic {
  /** Absolute; undefined for Twilio's default, "" for silence. */
  readonly url: string | undefined;
  readonly method: HttpMethod;
  /** The verbs allowed in the document; any other is warned about and skipped. */
  readonly allowed: readonly WaitVerbName[];
  /** When the document runs out: fetch it again, fall silent, or return. */
  readonly atEnd: "loop" | "silence" | "return";
  /** The parameters of each request (a queue's position changes between requests). */
  params(): Promise<Record<string, string>> | Record<string, string>;
  /** Names the document in warnings ("<Enqueue> waitUrl"). */
  readonly what: string;
}

export type WaitEnd = { readonly kind: "leave" } | { readonly kind: "hangup" } | { readonly kind: "done" };

/** Runs the wait music; rejects with the signal's reason when it aborts. */
export async function runWaitMusic(
  ctx: VerbContext,
  music: WaitMusic,
  signal: AbortSignal,
): Promise<WaitEnd> {
  signal.throwIfAborted();
  if (music.url === "") return music.atEnd === "return" ? { kind: "done" } : silence(signal);
  // Twilio's default is a static document: GET, as Twilio requests it.
  let request: DocumentRequest =
    music.url === undefined
      ? { url: DEFAULT_WAIT_URL, method: "GET", params: {} }
      : { url: music.url, method: music.method, params: {} };
  const rules: DocumentRules = {
    allowed: music.allowed,
    what: music.what,
    params: () => music.params(),
    fetchFailed: "return",
    audio: "music",
    quiet: { ms: AUDIBLE_MS, max: MAX_QUIET_DOCUMENTS },
    runVerb,
  };
  for (;;) {
    // Aborted while its last document ran (a verb that ends at once does not look): no more requests.
    signal.throwIfAborted();
    const end = await runDocument(ctx, request, rules, signal);
    if (end.kind === "leave" || end.kind === "hangup") return { kind: end.kind };
    if (end.kind === "unavailable") {
      // The caller keeps waiting: a broken wait document must not take them out of the queue.
      const e = end.error as { code?: number; message?: string };
      ctx.warn(
        e.code ?? ErrorCodes.httpRetrievalFailure.code,
        `${music.what} ${end.request.url}: ${e.message}; silence instead`,
      );
      return music.atEnd === "return" ? { kind: "done" } : silence(signal);
    }
    if (end.kind === "quiet") {
      ctx.warn(
        ErrorCodes.tooManyDocuments.code,
        `${music.what} led through ${MAX_QUIET_DOCUMENTS} documents in a row that played nothing ` +
          `(next: ${end.next.url}); silence instead`,
      );
      return music.atEnd === "return" ? { kind: "done" } : silence(signal);
    }
    if (music.atEnd === "return") return { kind: "done" };
    if (music.atEnd === "silence") return silence(signal);
    // A document that takes no time would loop without end: fall silent instead. Nothing ran (no verb
    // in it, or none allowed), or its verbs moved the call's clock by less than audio a caller hears
    // (time simulated, a <Play> of an empty file). Not the clock alone: while a call waits its clock
    // runs at the wall clock's pace (CallClock.pace), so even an empty document takes a moment.
    if (end.ran === 0 || ctx.clock.now() - end.readAt < AUDIBLE_MS) return silence(signal);
    // The music loops on the document it ended in (after any <Redirect>), asked for afresh.
    request = { ...end.last, params: {} };
  }
}

/** Runs one verb of a wait document with its own definition; every failure is a rejection. */
function runVerb(ctx: VerbContext, verb: Verb, signal: AbortSignal): Promise<VerbOutcome> {
  const definition = runnable.get(verb.name);
  if (definition === undefined)
    return Promise.reject(fail("internalFailure", `No wait-music definition for <${verb.name}>`));
  return definition.execute(ctx, verb, signal);
}

/** Waits, silent, until the signal aborts. */
export function silence(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}
