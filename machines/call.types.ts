// The types of the call machine: its input, context, events, and what its effects take and give.
// Types only, so the machine and the code that provides its effects can share them.

import type { HttpMethod } from "../src/model/http.js";
import type { CallStatus } from "../src/model/records.js";
import type { Verb, VerbName } from "../src/twiml/verb-data.js";

/** Facts about the call that every webhook request carries. Never secrets: this is persisted. */
export interface CallFacts {
  callSid: string;
  accountSid: string | null;
  to: string;
  from: string;
  region: string;
  edge: string;
  /**
   * outbound-dial for a <Dial>'s child leg (src/region/child-leg.ts), which has a parent;
   * outbound-api for a call placed over REST (`POST Calls.json`), which rings its `to` first.
   */
  direction: "inbound" | "outbound-api" | "outbound-dial";
  parentCallSid?: string;
  apiVersion: string;
  phoneNumberSid: string | null;
  sipHeaders?: Record<string, string>;
  /** A SIP call's Call-ID and source address (Twilio's SipCallId, SipSourceIp). */
  sip?: { callId: string; sourceIp?: string };
  geo?: Record<string, string>;
}

export interface CallInput {
  facts: Omit<CallFacts, "accountSid" | "apiVersion" | "phoneNumberSid">;
  /** The offer's account, if it named one. */
  accountSid?: string;
  /** When the call arrived, in the call clock's ms. */
  arrivedAt: number;
}

/** What the region knows about the called number (its IncomingPhoneNumber config). */
export interface NumberSetup {
  accountSid: string;
  /** Null for an outbound call whose From is neither a number nor a caller ID this region knows. */
  phoneNumberSid: string | null;
  apiVersion: string;
  voiceUrl: string;
  voiceMethod: HttpMethod;
  fallbackUrl: string | null;
  fallbackMethod: HttpMethod;
  /**
   * The number's StatusCallback, requested when the call ends; an outbound call's names the events
   * it asked for (StatusCallbackEvent), and is requested at `completed` only if that is one of them.
   */
  statusCallback: { url: string; method: HttpMethod; events?: readonly string[] } | null;
}

/**
 * How announcing the call came out: an inbound call rings (its document answers it); an outbound
 * call rang its callee, who answered (at `at`, in the call clock's ms) or did not.
 */
export type AnnounceOutcome =
  | { kind: "ringing" }
  /**
   * `endedAt`: the callee hung up already, at that call-clock time (a resumed call learned of both
   * from the leg's gateway, issue #17): the call is over, no document is requested.
   */
  | { kind: "answered"; at: number; endedAt?: number }
  | { kind: "unanswered"; status: "busy" | "no-answer" | "failed" };

export interface FetchInput {
  facts: CallFacts;
  /** Which document of the call this is (1, 2, …): a request made again after a resume is the same one. */
  document: number;
  url: string;
  method: HttpMethod;
  callStatus: CallStatus;
  extraParams: Record<string, string>;
}

export interface FetchedDocument {
  /** The URL the document came from (after HTTP redirects): relative URLs resolve against it. */
  documentUrl: string;
  verbs: Verb[];
}

export interface VerbInput {
  callSid: string;
  verb: Verb;
}

/** Where a document is: its verbs, the index of the next one to run, and when the call was answered. */
export interface DocumentStep {
  verbs: readonly Verb[];
  index: number;
  answeredAt: number | null;
}

export interface CallError {
  code: number;
  message: string;
}

export interface EndInput {
  facts: CallFacts;
  status: CallStatus;
  arrivedAt: number;
  answeredAt: number | null;
  /** Who ended it: the app (Hangup, Reject, end of document, error) or the caller. */
  endedBy: "app" | "caller";
  rejectReason: "rejected" | "busy" | null;
  error: CallError | null;
  statusCallback: NumberSetup["statusCallback"];
  /** When the call ended, if before it reached `storing` (AnnounceOutcome's `endedAt`); else now. */
  endedAt?: number;
}

export interface CallContext {
  facts: CallFacts;
  arrivedAt: number;
  answeredAt: number | null;
  status: CallStatus;
  number: NumberSetup | null;
  /** The next document to request. */
  request: { url: string; method: HttpMethod; extraParams: Record<string, string> } | null;
  usedFallback: boolean;
  documentUrl: string | null;
  verbs: Verb[];
  index: number;
  /** The name of the verb running now (in `executing-twiml.verb`), null when none is. */
  verb: VerbName | null;
  endedBy: "app" | "caller";
  rejectReason: "rejected" | "busy" | null;
  error: CallError | null;
  /** Documents the call has run so far: requested, or given as a REST `Twiml` (each names its verbs' steps). */
  documents: number;
  /** An outbound call whose callee answered and hung up before the call learned of it (EndInput's `endedAt`). */
  endedAt?: number;
}

export type CallEvent =
  /** The caller hung up. */
  | { type: "channel.hangup" }
  /** The call has lasted Twilio's maximum call duration (4 h) since it arrived. */
  | { type: "call.limit" }
  /** The call's REST `TimeLimit` has passed since its answer: it ends as a <Hangup> ends it. */
  | { type: "call.timeLimit" }
  /** A verb answered the call as it ran (a first <Dial answerOnBridge> when it bridges). */
  | { type: "verb.answered"; at: number }
  /** REST `Url`/`Method`: fetch this document now, replacing what the call was doing. */
  | { type: "control.redirect"; url: string; method: HttpMethod }
  /** REST `Twiml`: run this document now. */
  | { type: "control.twiml"; verbs: Verb[] }
  /** REST `Status`: completed hangs the call up; canceled ends a call that is not answered yet. */
  | { type: "control.end"; status: "completed" | "canceled" };
