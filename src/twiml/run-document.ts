// "Fetch a document, keep the allowed verbs, run them": the one loop behind wait music (wait-loop.ts)
// and whispers (region/dial/whisper.ts). A verb that asks for another document (<Redirect>, a
// <Gather>'s action) is followed; <Leave>, <Hangup> and <Reject> end the run. The caller says how a
// verb runs: importing the registry here would close the cycle registry -> Dial -> wait-loop.
import { ErrorCodes } from "../errors/codes.js";
import { fail } from "../errors/switchboard-error.js";
import type { HttpMethod } from "../model/http.js";
import type { VerbContext } from "./verb-context.js";
import type { Verb, VerbName, VerbOutcome } from "./verb-data.js";

export interface DocumentRequest {
  readonly url: string;
  readonly method: HttpMethod;
  /** Parameters the verb that asked for it added (a Gather's Digits…). */
  readonly params: Readonly<Record<string, string>>;
}

export interface DocumentRules {
  /** The verbs that run; any other is warned about and skipped. */
  readonly allowed: ReadonlySet<string> | readonly string[];
  /** Runs one allowed verb (its definition's execute). */
  runVerb(ctx: VerbContext, verb: Verb, signal: AbortSignal): Promise<VerbOutcome>;
  /** Names the document in warnings ("whisper", "<Enqueue> waitUrl"). */
  readonly what: string;
  /** The code a skipped verb is warned with; 12200 unless said otherwise. */
  skippedCode?(verb: VerbName): number;
  /** Parameters every request carries besides the verb's (a queue's position, read anew each time). */
  params?(): Promise<Record<string, string>> | Record<string, string>;
  /** Documents one run may fetch, then 13xxx tooManyDocuments (a loop at time-scale 0 must end). */
  readonly maxDocuments?: number;
  /** "return": a document that cannot be fetched ends the run as `unavailable` instead of throwing. */
  readonly fetchFailed?: "throw" | "return";
  /** "music": a URL that answers with audio is music to play (and loop), not a call to hang up. */
  readonly audio?: "document" | "music";
  /**
   * Ends the run as `quiet` once `max` documents in a row have led to the next (a <Redirect>, a
   * <Gather>'s action) with their verbs moving the call's clock less than `ms`: a document that only
   * redirects to itself would otherwise be requested again and again, as fast as it answers.
   */
  readonly quiet?: { readonly ms: number; readonly max: number };
}

export type DocumentEnd =
  /**
   * The last document ran out of verbs; `last` is how it was requested, `readAt` the call's time once
   * it had arrived and `ran` how many of its verbs ran (so a caller can tell whether they took any time).
   */
  | { readonly kind: "done"; readonly last: DocumentRequest; readonly readAt: number; readonly ran: number }
  | { readonly kind: "leave" }
  /** <Hangup> or <Reject>. */
  | { readonly kind: "hangup" }
  | { readonly kind: "unavailable"; readonly error: unknown; readonly request: DocumentRequest }
  /** `rules.quiet`'s documents in a row played nothing; `next` is the one they led to, not requested. */
  | { readonly kind: "quiet"; readonly next: DocumentRequest };

/** Runs the document at `first` and those its verbs lead to; rejects with the signal's reason on abort. */
export async function runDocument(
  ctx: VerbContext,
  first: DocumentRequest,
  rules: DocumentRules,
  signal: AbortSignal,
): Promise<DocumentEnd> {
  const fetchTwiml = ctx.fetchTwiml;
  if (!fetchTwiml) throw fail("internalFailure", `${rules.what}: this call cannot request TwiML`);
  const allowed: ReadonlySet<string> = rules.allowed instanceof Set ? rules.allowed : new Set(rules.allowed);
  const max = rules.maxDocuments ?? Number.POSITIVE_INFINITY;
  let request = first;
  let quietInARow = 0;
  for (let document = 1; ; document++) {
    if (document > max)
      throw fail("tooManyDocuments", `the ${rules.what} requested more than ${max} documents`);
    let doc: Awaited<ReturnType<typeof fetchTwiml>>;
    try {
      const params = { ...(await rules.params?.()), ...request.params };
      doc = await fetchTwiml(request.url, request.method, params, signal);
    } catch (error) {
      signal.throwIfAborted();
      if (rules.fetchFailed === "return") return { kind: "unavailable", error, request };
      throw error;
    }
    const readAt = ctx.clock.now();
    let ran = 0;
    let next: DocumentRequest | undefined;
    // Twilio plays an audio waitUrl over and over; the Hangup an audio answer implies is for a call's URL.
    const verbs =
      doc.audio && rules.audio === "music" ? doc.verbs.filter((v) => v.name === "Play") : doc.verbs;
    for (const verb of verbs) {
      if (!allowed.has(verb.name)) {
        const code = rules.skippedCode?.(verb.name) ?? ErrorCodes.schemaValidation.code;
        ctx.warn(code, `<${verb.name}> is not allowed in a ${rules.what}; skipped`);
        continue;
      }
      if (verb.name === "Leave") return { kind: "leave" };
      const outcome = await rules.runVerb(ctx, verb, signal);
      ran++;
      if (outcome.kind === "hangup" || outcome.kind === "reject") return { kind: "hangup" };
      if (outcome.kind === "fetch") {
        next = { url: outcome.url, method: outcome.method, params: { ...outcome.params } };
        break;
      }
    }
    if (!next) return { kind: "done", last: request, readAt, ran };
    if (rules.quiet && ctx.clock.now() - readAt < rules.quiet.ms) {
      if (++quietInARow >= rules.quiet.max) return { kind: "quiet", next };
    } else quietInARow = 0;
    request = next;
  }
}
