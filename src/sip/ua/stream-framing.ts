// Framing on SIP's stream transport (TCP), checked before the `sip` package's parser reads it. Over
// TCP the Content-Length is what divides one message from the next (RFC 3261 §18.3: it MUST be
// present). The package's parser, given none, reads the body as the next message's headers; given a
// length too large, it prints "Flood attempt" to stdout — a line that is not JSON in the gateway's
// log — before it drops the connection. Here a connection whose framing cannot be trusted is closed
// with the reason in the gateway's own log, under limits fitted to what a gateway receives
// (SDP, DTMF and sipfrag bodies of a few kilobytes).
import type { Socket } from "node:net";

/** The most a message's start line and headers may take. */
export const MAX_HEAD_BYTES = 32 * 1024;
/** The largest body taken. */
export const MAX_BODY_BYTES = 64 * 1024;

/** What `StreamFraming.push` found in a chunk. */
export interface FramingCheck {
  /** How much of the chunk is sound (all of it, or up to the message whose framing broke). */
  sound: number;
  /** What broke the framing, if something did. */
  broken?: string;
}

/** Follows one connection's bytes from message to message. */
export class StreamFraming {
  /** The current message's start line and headers so far (leading keep-alive CRLFs dropped). */
  #head = "";
  /** Body bytes still to come in the current message. */
  #body = 0;

  /** Takes the next chunk (a binary string: one character a byte). */
  push(chunk: string): FramingCheck {
    let at = 0;
    while (at < chunk.length) {
      if (this.#body > 0) {
        const taken = Math.min(this.#body, chunk.length - at);
        this.#body -= taken;
        at += taken;
        continue;
      }
      // Where this message began in the chunk (0 if it began in an earlier one).
      const began = this.#head === "" ? at : 0;
      // CRLFs between messages are keep-alives (RFC 5626 §3.5.1), not a message's start.
      this.#head = this.#head === "" ? chunk.slice(at).replace(/^\s+/, "") : this.#head + chunk.slice(at);
      const end = this.#head.indexOf("\r\n\r\n");
      if (end < 0 || end > MAX_HEAD_BYTES) {
        if (this.#head.length <= MAX_HEAD_BYTES) return { sound: chunk.length };
        return { sound: began, broken: `headers over ${MAX_HEAD_BYTES} bytes` };
      }
      const length = contentLength(this.#head.slice(0, end));
      if (typeof length === "string") return { sound: began, broken: length };
      // What of the chunk follows the head.
      const after = this.#head.length - (end + 4);
      at = chunk.length - after;
      this.#head = "";
      this.#body = length;
    }
    return { sound: chunk.length };
  }
}

/** The one Content-Length of a message's head, or what is wrong with it. */
function contentLength(head: string): number | string {
  const values = [...head.matchAll(/\r\n(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)/gi)].map((m) =>
    (m[1] ?? "").trim(),
  );
  if (values.length === 0) return "a message without Content-Length";
  if (new Set(values).size > 1) return `Content-Length given twice (${values.join(", ")})`;
  const value = values[0] as string;
  if (!/^\d{1,9}$/.test(value)) return `malformed Content-Length "${value.slice(0, 40)}"`;
  const length = Number(value);
  if (length > MAX_BODY_BYTES) return `a body of ${length} bytes (more than ${MAX_BODY_BYTES})`;
  return length;
}

/**
 * Checks every chunk `socket` delivers to the 'data' listener the package adds, before that listener
 * sees it; on a break, passes on the messages before it, reports it and closes the connection (its
 * framing lost, nothing after it can be read).
 */
export function guardFraming(socket: Socket, onBreak: (why: string) => void): void {
  const on = socket.on.bind(socket);
  socket.on = ((event: string, listener: (...args: unknown[]) => void) => {
    if (event !== "data") return on(event, listener);
    const framing = new StreamFraming();
    return on("data", (chunk: string | Buffer) => {
      const text = typeof chunk === "string" ? chunk : chunk.toString("latin1");
      const { sound, broken } = framing.push(text);
      if (broken === undefined) {
        listener(chunk);
        return;
      }
      // The messages before the broken one are read; then the connection goes.
      if (sound > 0) listener(typeof chunk === "string" ? chunk.slice(0, sound) : chunk.subarray(0, sound));
      onBreak(broken);
      socket.destroy();
    });
  }) as typeof socket.on;
}
