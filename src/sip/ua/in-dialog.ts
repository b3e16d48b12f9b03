// The requests inside a session that both dialogs (the caller's and our outbound legs) answer alike:
// BYE, INFO, OPTIONS, NOTIFY (a REFER's progress, refer.ts), and 405 for what a call does not take;
// offers (re-INVITE, UPDATE) go to the dialog.
import { ALLOW, rejection, response, SUPPORTED } from "./responses.js";
import type { SipMessage, SipStack } from "./stack.js";

export interface InDialogSession {
  /** The session has ended (a BYE is still answered, once more, with 200). */
  readonly ended: boolean;
  /** Ends the session on the far end's BYE. */
  close(): void;
  /** Answers a re-INVITE or UPDATE (each dialog its own way). */
  offer(rq: SipMessage): void;
  /** A NOTIFY: true when it reports on a REFER of ours (answered 200), else it is refused 481. */
  notify(rq: SipMessage): boolean;
  readonly on: {
    bye?(): void;
    info?(contentType: string, body: string): void;
  };
}

/** Answers a request inside the session (not an ACK, nor one the dialog has refused already). */
export function answerInDialog(stack: SipStack, rq: SipMessage, session: InDialogSession): void {
  const method = rq.method ?? "";
  switch (method) {
    case "BYE":
      stack.respond(response(rq, 200));
      if (session.ended) return;
      session.close();
      session.on.bye?.();
      return;
    case "INFO":
      stack.respond(response(rq, 200));
      session.on.info?.(String(rq.headers["content-type"] ?? ""), rq.content ?? "");
      return;
    case "INVITE":
    case "UPDATE":
      session.offer(rq);
      return;
    case "NOTIFY":
      if (session.notify(rq)) stack.respond(response(rq, 200));
      else stack.respond(rejection(rq, 481, "No subscription of ours"));
      return;
    case "OPTIONS":
      stack.respond(response(rq, 200, { allow: ALLOW, supported: SUPPORTED.join(", ") }));
      return;
    default:
      stack.respond(rejection(rq, 405, `${method} is not taken in a call`, { allow: ALLOW }));
  }
}
