// The SIP stack: the npm `sip` package's transports (UDP and TCP on one port) and transactions,
// composed here rather than through its create(), whose request routing takes any URI on its own
// host for one of its flow tokens (so a phone on the gateway's IP never got its BYE). This is the
// only file that imports the package: swapping it touches this file alone.
import dgram from "node:dgram";
import net from "node:net";
import * as sip from "sip";
import { frameBody } from "./body-length.js";
import { ConnectionLimits } from "./connection-limits.js";
import { guardFraming, PACKAGE_LIMITS } from "./stream-framing.js";

export type { Hop, NameAddr, Remote, SipMessage, SipUri } from "sip";

export interface SipStackOptions {
  address: string;
  port: number;
  /** The host written in Via (behind NAT, the public address); default `address`. */
  advertise?: string;
  /** Listen on TCP as well as UDP (same port). */
  tcp: boolean;
  onError(err: unknown): void;
  /** A message refused for its framing (a TCP connection closed for it, a response dropped). */
  onBadFraming(why: string, peer: string): void;
  /** Whether a TCP peer is inside --allow (its connections are not counted: connection-limits.ts). */
  trusted(address: string): boolean;
  /** A TCP connection refused at once (too many from outside --allow); once per address until one closes. */
  onRefusedConnection(why: string, peer: string): void;
}

export class SipStack {
  readonly #transport: sip.Transport;
  readonly #transactions: sip.TransactionLayer;
  readonly #limits: ConnectionLimits;
  /** Addresses whose refused connection has been reported, until one of theirs closes. */
  readonly #reported = new Set<string>();

  constructor(
    private readonly opts: SipStackOptions,
    private readonly onRequest: (rq: sip.SipMessage, remote: sip.Remote) => void,
  ) {
    this.#limits = new ConnectionLimits(opts.trusted);
    const options: sip.StackOptions = {
      address: opts.address,
      port: opts.port,
      publicAddress: opts.advertise ?? opts.address,
      udp: true,
      tcp: opts.tcp,
      ...PACKAGE_LIMITS,
      logger: { error: opts.onError },
    };
    // The package sends on its UDP socket without an 'error' listener, so one failed send (no route
    // to a phone's Contact) would crash the process: give the socket it creates a listener.
    const createSocket = dgram.createSocket;
    dgram.createSocket = ((...args: Parameters<typeof createSocket>) =>
      quietSocket(createSocket(...args), opts.onError)) as typeof createSocket;
    try {
      this.#transport = this.#guardingStreams(() =>
        sip.makeTransport(options, (m, remote) => this.#receive(m, remote)),
      );
    } finally {
      dgram.createSocket = createSocket;
    }
    this.#transactions = sip.makeTransactionLayer(options, this.#transport.open.bind(this.#transport));
  }

  /** Sends a response through its request's server transaction, which re-sends it as §17.2 says. */
  respond(rs: sip.SipMessage): void {
    this.#transactions.getServer(rs)?.send?.(rs);
  }

  /**
   * Sends a request to `hop` in a new client transaction; an ACK to a 2xx goes out on its own
   * (§17.1.1.3). A hop that cannot be reached answers 503, as a transport error (§8.1.3.1).
   */
  request(rq: sip.SipMessage, hop: sip.Hop, onResponse: (rs: sip.SipMessage) => void = () => {}): void {
    let client: sip.Transaction | undefined;
    // A TCP hop may open a connection: its framing is checked as an accepted one's is.
    const cn = this.#guardingStreams(() =>
      this.#transport.open(hop, (err) => {
        this.opts.onError(err);
        client?.message?.(sip.makeResponse(rq, 503, "Service Unavailable"));
      }),
    );
    if (rq.method === "ACK") {
      rq.headers.via = [{ params: { branch: sip.generateBranch() } }];
      try {
        cn.send(rq);
      } finally {
        cn.release();
      }
      return;
    }
    // The transport fills in our Via's host, port and transport; the transaction its branch.
    if (rq.method !== "CANCEL") rq.headers.via = [{ params: {} }];
    client = this.#transactions.createClientTransaction(cn, rq, onResponse);
  }

  /** Where a request to `uri` goes (RFC 3263: an IP literal as it is, a name by DNS); undefined if nowhere. */
  resolve(uri: string): Promise<sip.Hop | undefined> {
    const parsed = sip.parseUri(uri);
    if (!parsed) return Promise.resolve(undefined);
    return new Promise((resolve) => sip.resolve(parsed, (hops) => resolve(hops[0])));
  }

  /**
   * Holds a TCP peer's connection open (the package closes one idle for two minutes when nothing
   * holds it) until released; `closed` is called once if the peer closes it or it fails first.
   * Undefined for UDP, or when the connection is gone already.
   */
  hold(remote: sip.Remote, closed: () => void): { release(): void } | undefined {
    if (remote.protocol.toUpperCase() !== "TCP") return undefined;
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      closed();
    };
    const cn = this.#transport.get(remote, once);
    if (!cn) return undefined;
    return {
      release: () => {
        done = true;
        cn.release();
      },
    };
  }

  destroy(): void {
    this.#transactions.destroy();
    this.#transport.destroy();
  }

  /**
   * Runs `f` (which may accept or open TCP connections through the package) with every stream it
   * makes checked for framing (stream-framing.ts). The package calls `net.createServer` and
   * `net.connect` as it builds its transport and opens a hop, synchronously, so they are swapped
   * for that call alone.
   */
  #guardingStreams<T>(f: () => T): T {
    const { createServer, connect } = net;
    const guard = (socket: net.Socket) => {
      guardFraming(socket, (why) =>
        this.opts.onBadFraming(why, `${socket.remoteAddress}:${socket.remotePort}`),
      );
      return socket;
    };
    net.createServer = ((listener: (socket: net.Socket) => void) =>
      createServer((socket) => {
        if (this.#accept(socket)) listener(guard(socket));
      })) as typeof net.createServer;
    net.connect = ((...args: Parameters<typeof connect>) => guard(connect(...args))) as typeof net.connect;
    try {
      return f();
    } finally {
      net.createServer = createServer;
      net.connect = connect;
    }
  }

  /** Whether an accepted connection is taken (connection-limits.ts); one that is not is closed at once. */
  #accept(socket: net.Socket): boolean {
    const address = socket.remoteAddress ?? "";
    const taken = this.#limits.admit(address);
    if ("refused" in taken) {
      if (!this.#reported.has(address)) {
        // Hosts refused by the total alone hold no connection whose close would forget them.
        if (this.#reported.size >= 10_000) this.#reported.clear();
        this.#reported.add(address);
        this.opts.onRefusedConnection(taken.refused, `${address}:${socket.remotePort}`);
      }
      socket.destroy();
      return false;
    }
    socket.once("close", () => {
      taken.release();
      this.#reported.delete(address);
    });
    return true;
  }

  #receive(m: sip.SipMessage, remote: sip.Remote): void {
    try {
      // A response whose body does not fit its Content-Length is discarded (§18.3); a request is
      // answered 400 by the dialogs (dialogs.ts), which can word the refusal.
      if (m.method === undefined) {
        const bad = frameBody(m);
        if (bad !== undefined) {
          this.opts.onBadFraming(bad, `${remote.address}:${remote.port}`);
          return;
        }
      }
      const t = m.method ? this.#transactions.getServer(m) : this.#transactions.getClient(m);
      if (t) {
        t.message?.(m, remote);
        return;
      }
      // A response no transaction waits for (a 2xx re-sent after its transaction ended) is dropped.
      if (m.method === undefined) return;
      if (m.method === "ACK") {
        this.onRequest(m, remote);
        return;
      }
      const cn = this.#transport.get(remote);
      if (!cn) return;
      const server = this.#transactions.createServerTransaction(m, cn);
      try {
        this.onRequest(m, remote);
      } catch (err) {
        server.send?.(sip.makeResponse(m, 500, "Server Internal Error"));
        throw err;
      }
    } catch (err) {
      this.opts.onError(err);
    }
  }
}

/**
 * A socket whose failures are reported, never thrown: an 'error' listener for asynchronous ones, and
 * a `send` that catches the synchronous one a transaction's retransmission timer meets when it fires
 * after the socket was closed (ERR_SOCKET_DGRAM_NOT_RUNNING: the package keeps such timers past
 * destroy(), and an uncaught throw there would end the process).
 */
function quietSocket(socket: dgram.Socket, onError: (err: unknown) => void): dgram.Socket {
  socket.on("error", onError);
  const send = socket.send.bind(socket) as (...args: unknown[]) => void;
  socket.send = ((...args: unknown[]) => {
    try {
      send(...args);
    } catch (err) {
      onError(err);
    }
  }) as typeof socket.send;
  return socket;
}

/** A response to `rq`, with the headers RFC 3261 §8.2.6.2 copies (Via, From, To, Call-ID, CSeq). */
export function makeResponse(rq: sip.SipMessage, status: number, reason: string): sip.SipMessage {
  return sip.makeResponse(rq, status, reason);
}

/** A SIP URI's parts; undefined when the text is not one. */
export function parseUri(uri: string): sip.SipUri | undefined {
  try {
    return sip.parseUri(uri);
  } catch {
    return undefined;
  }
}

export function stringifyUri(uri: sip.SipUri): string {
  return sip.stringifyUri(uri);
}

/** A new branch parameter (RFC 3261 §8.1.1.7). */
export function newBranch(): string {
  return sip.generateBranch();
}
