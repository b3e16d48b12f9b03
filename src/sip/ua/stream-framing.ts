// Framing on SIP's stream transport (TCP), checked before the `sip` package's parser reads it. Over
// TCP the Content-Length is what divides one message from the next (RFC 3261 §18.3: it MUST be
// present). The package's parser, given none, reads the body as the next message's headers; given a
// length too large, it prints "Flood attempt" to stdout — a line that is not JSON in the gateway's
// log — before it drops the connection. Here a connection whose framing cannot be trusted is closed
// with the reason in the gateway's own log, under limits fitted to what a gateway receives
// (SDP, DTMF and sipfrag bodies of a few kilobytes). A keep-alive ping between messages (a double
// CRLF) is answered with its pong.
import type { Socket } from "node:net";

/** The most a message's start line and headers may take. */
export const MAX_HEAD_BYTES = 32 * 1024;
/** The largest body taken. */
export const MAX_BODY_BYTES = 64 * 1024;
/**
 * The package's own limits, set above what the checks here let through: it counts what it holds
 * unread, a message's body and the messages queued behind it included, and gives up past 60,480
 * bytes by default, printing "Flood attempt". Under these checks it holds at most a message's head
 * and body and the rest of one read (64 KiB).
 */
export const PACKAGE_LIMITS = {
  maxBytesHeaders: 4 * (MAX_HEAD_BYTES + MAX_BODY_BYTES),
  maxContentLength: 2 * MAX_BODY_BYTES,
};

/** What `StreamFraming.push` found in a chunk. */
export interface FramingCheck {
  /** How much of the chunk is sound (all of it, or up to the message whose framing broke). */
  sound: number;
  /** What broke the framing, if something did. */
  broken?: string;
  /** How many keep-alive pings (a CRLF pair between messages) the chunk completed: each is answered. */
  pings?: number;
}

/** Follows one connection's bytes from message to message. */
export class StreamFraming {
  /** The current message's start line and headers so far (leading keep-alive CRLFs dropped). */
  #head = "";
  /** Body bytes still to come in the current message. */
  #body = 0;
  /** The whitespace seen since the last message, for keep-alive pings split across chunks. */
  #between = "";

  /** Takes the next chunk (a binary string: one character a byte). */
  push(chunk: string): FramingCheck {
    let at = 0;
    let pings = 0;
    const check = (sound: number, broken?: string): FramingCheck => ({
      sound,
      ...(broken !== undefined && { broken }),
      ...(pings > 0 && { pings }),
    });
    while (at < chunk.length) {
      if (this.#body > 0) {
        const taken = Math.min(this.#body, chunk.length - at);
        this.#body -= taken;
        at += taken;
        continue;
      }
      // Where this message began in the chunk (0 if it began in an earlier one).
      const began = this.#head === "" ? at : 0;
      if (this.#head === "") {
        // CRLFs between messages are keep-alives (RFC 5626 §3.5.1), not a message's start.
        const rest = chunk.slice(at);
        const lead = /^\s*/.exec(rest)?.[0] ?? "";
        pings += this.#keepAlive(lead);
        this.#head = rest.slice(lead.length);
        if (this.#head !== "") this.#between = "";
      } else this.#head += chunk.slice(at);
      const end = this.#head.indexOf("\r\n\r\n");
      if (end < 0 || end > MAX_HEAD_BYTES) {
        if (this.#head.length <= MAX_HEAD_BYTES) return check(chunk.length);
        return check(began, `headers over ${MAX_HEAD_BYTES} bytes`);
      }
      const length = contentLength(this.#head.slice(0, end));
      if (typeof length === "string") return check(began, length);
      // What of the chunk follows the head.
      const after = this.#head.length - (end + 4);
      at = chunk.length - after;
      this.#head = "";
      this.#body = length;
    }
    return check(chunk.length);
  }

  /** The pings that `whitespace` completes: each CRLF pair (a double CRLF, RFC 5626's ping) once. */
  #keepAlive(whitespace: string): number {
    const seen = this.#between + whitespace;
    let pings = 0;
    let from = 0;
    // One pass, however many pings a read holds: a stranger's flood of CRLFs costs what it weighs.
    for (let i = seen.indexOf("\r\n\r\n"); i >= 0; i = seen.indexOf("\r\n\r\n", from)) {
      pings++;
      from = i + 4;
    }
    // Only a ping's beginning need be kept: a flood of whitespace holds no memory.
    this.#between = seen.slice(from).slice(-3);
    return pings;
  }
}

// The start lines the package reads (sip.js parseRequest, parseResponse): any other makes it drop
// the head and read what follows as the next message, where this would have skipped a body.
const REQUEST_LINE = /^[\w\-.!%*_+`'~]+\s[^\s]+\sSIP\s*\/\s*\d+\.\d+/;
const STATUS_LINE = /^SIP\/\d+\.\d+\s+\d+/;
const HEADER_LINE = /^(\S*?)\s*:\s*([\s\S]*)$/;

/**
 * The one Content-Length of a message's head (start line and headers, without the blank line), read
 * as the package reads it — lines unfolded (§7.3.1), names unescaped and lower-cased, `l` its compact
 * form — or what makes the head one the package would not read as this does.
 */
function contentLength(head: string): number | string {
  const [start = "", ...lines] = head.split(/\r\n(?![ \t])/);
  if (!REQUEST_LINE.test(start) && !STATUS_LINE.test(start))
    return `a start line that is neither a request's nor a response's: "${start.slice(0, 40)}"`;
  const values: string[] = [];
  for (const line of lines) {
    const header = HEADER_LINE.exec(line);
    if (!header) return `a header line without ':': "${line.slice(0, 40)}"`;
    const name = unescape(header[1] ?? "").toLowerCase();
    if (name === "content-length" || name === "l") values.push((header[2] ?? "").replace(/\s+/g, " ").trim());
  }
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
 * sees it; on a break, passes on the messages before it, reports it, reads nothing more and closes the
 * connection once what is written on it has gone (the answers to those messages already sent).
 */
export function guardFraming(socket: Socket, onBreak: (why: string) => void): void {
  const on = socket.on.bind(socket);
  socket.on = ((event: string, listener: (...args: unknown[]) => void) => {
    if (event !== "data") return on(event, listener);
    const framing = new StreamFraming();
    return on("data", (chunk: string | Buffer) => {
      const text = typeof chunk === "string" ? chunk : chunk.toString("latin1");
      const { sound, broken, pings } = framing.push(text);
      // Each keep-alive ping is answered with a single CRLF, the pong its client waits for (RFC 5626 §3.5.1).
      if (pings) socket.write("\r\n".repeat(pings));
      if (broken === undefined) {
        listener(chunk);
        return;
      }
      // The messages before the broken one are read; then the connection goes.
      if (sound > 0) listener(typeof chunk === "string" ? chunk.slice(0, sound) : chunk.subarray(0, sound));
      onBreak(broken);
      socket.pause();
      socket.removeAllListeners("data");
      socket.end(() => socket.destroy());
    });
  }) as typeof socket.on;
}
