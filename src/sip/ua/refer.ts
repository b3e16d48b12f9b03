// A REFER sent in a dialog (RFC 3515: `<Refer>`) and the implicit subscription it makes: the peer
// accepts it (202), then reports the transfer's progress in NOTIFYs whose message/sipfrag body is the
// status line of the new call ("SIP/2.0 180 Ringing", then a final one). One REFER at a time a dialog.
import type { Dialog } from "./dialog.js";
import type { SipMessage, SipStack } from "./stack.js";

export interface ReferOutcome {
  /** The REFER's final response (202 accepted, 405, 403, 481, 408 when it was never answered…). */
  referCode: number;
  /** The last status the peer's NOTIFYs reported, once accepted; none when no NOTIFY came. */
  notifyCode?: number;
}

/** How long an accepted REFER waits for the NOTIFY with the transfer's final status. */
export const REFER_NOTIFY_WAIT_MS = 32_000;

/** The status code of a message/sipfrag body (`SIP/2.0 200 OK`), or undefined when it is not one. */
export function sipfragCode(body: string | undefined): number | undefined {
  const code = /^\s*SIP\/2\.0\s+([1-6]\d\d)\b/.exec(body ?? "")?.[1];
  return code === undefined ? undefined : Number(code);
}

/** The dialog a REFER goes in: how to send in it, our Contact, and when it is over. */
export interface ReferSession {
  stack: SipStack;
  dialog: Dialog;
  contact: string;
  closed: Promise<void>;
}

interface Waiting {
  last: number | undefined;
  /** The subscription is over (a final status, or `Subscription-State: terminated`). */
  finish(): void;
}

/** The REFERs of one dialog, and the NOTIFYs that belong to them. */
export class DialogRefers {
  #waiting: Waiting | undefined;
  /** The REFER under way: asked for again (a resumed call's `<Refer>`), it is joined, not sent twice. */
  #pending: { target: string; outcome: Promise<ReferOutcome> } | undefined;

  /** A NOTIFY of the dialog: true when it reports on our REFER (the dialog answers it 200), else 481. */
  notify(rq: SipMessage): boolean {
    const waiting = this.#waiting;
    const event = String(rq.headers.event ?? "")
      .split(";")[0]
      ?.trim()
      .toLowerCase();
    if (!waiting || event !== "refer") return false;
    const code = sipfragCode(rq.content);
    if (code !== undefined) waiting.last = code;
    const state = String(rq.headers["subscription-state"] ?? "").toLowerCase();
    if ((code !== undefined && code >= 200) || state.startsWith("terminated")) waiting.finish();
    return true;
  }

  /**
   * Sends REFER to the dialog's peer and waits, once it is accepted, for the final NOTIFY (or
   * REFER_NOTIFY_WAIT_MS, the dialog's end, or `signal`): then says what the peer reported last.
   * The same target while a REFER is under way joins it; another target then is 491 (one at a time).
   */
  refer(session: ReferSession, target: string, signal: AbortSignal): Promise<ReferOutcome> {
    const pending = this.#pending;
    if (pending) return pending.target === target ? pending.outcome : Promise.resolve({ referCode: 491 });
    const outcome = this.#send(session, target, signal).finally(() => {
      if (this.#pending?.outcome === outcome) this.#pending = undefined;
    });
    this.#pending = { target, outcome };
    return outcome;
  }

  async #send(
    { stack, dialog, contact, closed }: ReferSession,
    target: string,
    signal: AbortSignal,
  ): Promise<ReferOutcome> {
    let finish!: () => void;
    const over = new Promise<void>((resolve) => {
      finish = resolve;
    });
    // Listening before the REFER goes: its first NOTIFY may come before its 202 is handled.
    const waiting: Waiting = { last: undefined, finish };
    this.#waiting = waiting;
    try {
      const rs = await dialog.send(stack, "REFER", contact, {
        headers: { "refer-to": `<${target}>`, "referred-by": `<${dialog.local.uri}>` },
      });
      const referCode = rs.status ?? 500;
      if (referCode >= 300) return { referCode };
      let timer: NodeJS.Timeout | undefined;
      const aborted = new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        signal.addEventListener("abort", () => resolve(), { once: true });
        timer = setTimeout(resolve, REFER_NOTIFY_WAIT_MS);
      });
      await Promise.race([over, closed, aborted]);
      clearTimeout(timer);
      return { referCode, ...(waiting.last !== undefined && { notifyCode: waiting.last }) };
    } finally {
      if (this.#waiting === waiting) this.#waiting = undefined;
    }
  }
}
