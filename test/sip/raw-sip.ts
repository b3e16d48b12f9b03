// A SIP peer made of raw messages, over UDP or TCP: for the gateway's answers to requests a phone
// would not send (malformed, unknown methods, SRTP, Require) and for reading its responses whole.
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { connect, type Socket as TcpSocket } from "node:net";

export interface SipText {
  /** `SIP/2.0 200 OK` or `BYE sip:… SIP/2.0`. */
  start: string;
  status: number | undefined;
  method: string | undefined;
  /** Header values by lower-case name, in order (a repeated header gives several). */
  headers: Map<string, string[]>;
  body: string;
  header(name: string): string | undefined;
  /** When a peer received it (performance.now()). */
  receivedAt?: number;
}

export function parseSip(text: string): SipText {
  const cut = text.indexOf("\r\n\r\n");
  const head = cut < 0 ? text : text.slice(0, cut);
  const body = cut < 0 ? "" : text.slice(cut + 4);
  const [start = "", ...lines] = head.split("\r\n");
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const i = line.indexOf(":");
    const name = line.slice(0, i).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(i + 1).trim()]);
  }
  const status = /^SIP\/2\.0 (\d{3})/.exec(start)?.[1];
  return {
    start,
    status: status === undefined ? undefined : Number(status),
    method: status === undefined ? start.split(" ")[0] : undefined,
    headers,
    body,
    header: (name) => headers.get(name.toLowerCase())?.join(", "),
  };
}

export interface RawPeer extends AsyncDisposable {
  address: string;
  port: number;
  transport: "UDP" | "TCP";
  send(text: string): void;
  /** The next message that matches, waiting at most `timeoutMs`. */
  next(match: (m: SipText) => boolean, timeoutMs?: number): Promise<SipText>;
  /** Everything received so far. */
  received: SipText[];
  /** Whether the gateway's OPTIONS (its pings to registered phones) are answered 200; off at first. */
  answersPings: boolean;
}

/** A peer bound to `address` (a free port) that talks to the gateway at 127.0.0.1:`gatewayPort`. */
export async function rawPeer(
  address: string,
  gatewayPort: number,
  transport: "UDP" | "TCP" = "UDP",
): Promise<RawPeer> {
  const received: SipText[] = [];
  const waiters = new Set<() => void>();
  const arrive = (text: string) => {
    const m = parseSip(text);
    m.receivedAt = performance.now();
    received.push(m);
    // A phone answers the gateway's BYE, so the gateway's transaction ends at once.
    if (m.method === "BYE") send(reply(m, "200 OK"));
    if (m.method === "OPTIONS" && peer.answersPings)
      send(reply(m, "200 OK").replace(/\r\nTo: ([^\r]*)/, "\r\nTo: $1;tag=pong"));
    for (const w of [...waiters]) w();
  };
  let send: (text: string) => void;
  let close: () => Promise<void>;
  let port: number;
  if (transport === "UDP") {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    socket.on("message", (data) => arrive(data.toString("latin1")));
    port = socket.address().port;
    send = (text) => socket.send(Buffer.from(text, "latin1"), gatewayPort, "127.0.0.1");
    close = () => new Promise((resolve) => socket.close(() => resolve()));
  } else {
    const socket: TcpSocket = connect({ host: "127.0.0.1", port: gatewayPort, localAddress: address });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    let buffer = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const cut = buffer.indexOf("\r\n\r\n");
        if (cut < 0) return;
        const length = Number(/\r\ncontent-length\s*:\s*(\d+)/i.exec(buffer.slice(0, cut))?.[1] ?? 0);
        if (buffer.length < cut + 4 + length) return;
        arrive(buffer.slice(0, cut + 4 + length));
        buffer = buffer.slice(cut + 4 + length);
      }
    });
    port = socket.localPort ?? 0;
    send = (text) => socket.write(text, "latin1");
    close = () => new Promise((resolve) => socket.end(() => resolve()));
  }
  const peer: RawPeer = {
    address,
    port,
    transport,
    received,
    answersPings: false,
    send: (text) => send(text),
    next: (match, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        let seen = 0;
        const check = () => {
          for (; seen < received.length; seen++) {
            const m = received[seen] as SipText;
            if (match(m)) {
              waiters.delete(check);
              clearTimeout(timer);
              received.splice(seen, 1);
              resolve(m);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no matching SIP message within ${timeoutMs} ms; got: ${received.map((m) => m.start).join(" | ")}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    [Symbol.asyncDispose]: () => close(),
  };
  return peer;
}

/** A response to `rq` (Via, From, To, Call-ID and CSeq copied). */
export function reply(rq: SipText, status: string): string {
  const copy = ["via", "from", "to", "call-id", "cseq"].flatMap((name) =>
    (rq.headers.get(name) ?? []).map(
      (v) => `${name === "call-id" ? "Call-ID" : name.replace(/^./, (c) => c.toUpperCase())}: ${v}`,
    ),
  );
  return [`SIP/2.0 ${status}`, ...copy, "Content-Length: 0", "", ""].join("\r\n");
}

/** A request from `peer`: the Request-URI, headers and body given; Via, Content-Length filled in. */
export function request(
  peer: Pick<RawPeer, "address" | "port" | "transport">,
  method: string,
  uri: string,
  opts: {
    callId?: string;
    cseq?: number;
    from?: string;
    to?: string;
    branch?: string;
    /** The Contact's URI (default: the peer's own address); `*` as it is (a REGISTER's "all"). */
    contact?: string;
    headers?: string[];
    body?: string;
  } = {},
): string {
  const body = opts.body ?? "";
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/${peer.transport} ${peer.address}:${peer.port};branch=${opts.branch ?? `z9hG4bK${randomBytes(6).toString("hex")}`};rport`,
    `From: ${opts.from ?? `<sip:15557654321@${peer.address}:${peer.port}>;tag=${randomBytes(4).toString("hex")}`}`,
    `To: ${opts.to ?? `<${uri}>`}`,
    `Call-ID: ${opts.callId ?? randomBytes(8).toString("hex")}`,
    `CSeq: ${opts.cseq ?? 1} ${method}`,
    opts.contact === "*"
      ? "Contact: *"
      : `Contact: <${opts.contact ?? `sip:raw@${peer.address}:${peer.port}${peer.transport === "TCP" ? ";transport=tcp" : ""}`}>`,
    "Max-Forwards: 70",
    ...(opts.headers ?? []),
    ...(body ? ["Content-Type: application/sdp"] : []),
    `Content-Length: ${Buffer.byteLength(body, "latin1")}`,
    "",
    body,
  ].join("\r\n");
}

/** An SDP offer for one audio stream (and more lines after the m= line). */
export function sdpOffer(
  address: string,
  port: number,
  opts: { proto?: string; extra?: string[]; more?: string[] } = {},
): string {
  return [
    "v=0",
    `o=raw 1 1 IN IP4 ${address}`,
    "s=-",
    `c=IN IP4 ${address}`,
    "t=0 0",
    `m=audio ${port} ${opts.proto ?? "RTP/AVP"} 0 8 101`,
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    ...(opts.extra ?? []),
    ...(opts.more ?? []),
    "",
  ].join("\r\n");
}
