// A WebSocket server for tests, on node:http's upgrade (no `ws` package here): enough of RFC 6455 for a
// Media Streams app — text frames both ways, close, ping — and it records every message it receives.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export interface WsConnection {
  readonly path: string;
  /** Every text message received, parsed as JSON, in order. */
  readonly messages: unknown[];
  /** Resolves with the first received message (already here or still to come) that matches. */
  waitFor(
    match: (m: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  send(message: unknown): void;
  /** Calls `handle` with every message from now on, as an app's `on('message')` does. */
  onMessage(handle: (m: Record<string, unknown>) => void): void;
  /** Sends a close frame and ends the connection (the server closes the stream). */
  close(code?: number): void;
  /** Resolves when the connection is gone, whoever closed it. */
  readonly closed: Promise<void>;
}

export interface WsServer extends AsyncDisposable {
  /** ws://<host>:<port> (host 127.0.0.1 unless given) */
  readonly url: string;
  readonly connections: WsConnection[];
  /** Resolves with the n-th connection (0-based), already made or still to come. */
  connection(n: number, timeoutMs?: number): Promise<WsConnection>;
  close(): Promise<void>;
}

/** Starts a server; upgrades to a path outside `paths` (when given) are answered 404. */
export async function startWsServer(
  opts: { paths?: string[]; host?: string; onConnection?: (c: WsConnection) => void } = {},
): Promise<WsServer> {
  const host = opts.host ?? "127.0.0.1";
  const connections: WsConnection[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => res.writeHead(426).end());
  server.on("upgrade", (req: IncomingMessage, socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const key = req.headers["sec-websocket-key"];
    if ((opts.paths && !opts.paths.includes(path)) || typeof key !== "string") {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const accept = createHash("sha1")
      .update(key + GUID)
      .digest("base64");
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    const conn = connection(socket, path);
    connections.push(conn);
    opts.onConnection?.(conn);
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return {
    url: `ws://${host}:${port}`,
    connections,
    connection: (n, timeoutMs = 10_000) =>
      waitUntil(waiters, () => connections[n], timeoutMs, `no connection #${n} within ${timeoutMs} ms`),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function connection(socket: Socket, path: string): WsConnection {
  const messages: unknown[] = [];
  const waiters = new Set<() => void>();
  const handlers: ((m: Record<string, unknown>) => void)[] = [];
  let buffer = Buffer.alloc(0);
  let done!: () => void;
  const closed = new Promise<void>((resolve) => {
    done = resolve;
  });
  socket.on("close", () => done());
  socket.on("error", () => done());
  const frame = (opcode: number, payload: Buffer) => {
    let head: Buffer;
    if (payload.length < 126) head = Buffer.from([0x80 | opcode, payload.length]);
    else if (payload.length < 65536) {
      head = Buffer.alloc(4);
      head.writeUInt8(0x80 | opcode, 0);
      head.writeUInt8(126, 1);
      head.writeUInt16BE(payload.length, 2);
    } else {
      head = Buffer.alloc(10);
      head.writeUInt8(0x80 | opcode, 0);
      head.writeUInt8(127, 1);
      head.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    if (!socket.destroyed) socket.write(Buffer.concat([head, payload]));
  };
  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = (buffer[0] as number) & 0x0f;
      let length = (buffer[1] as number) & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      // Client frames are always masked.
      if (buffer.length < offset + 4 + length) return;
      const mask = buffer.subarray(offset, offset + 4);
      const payload = Buffer.from(buffer.subarray(offset + 4, offset + 4 + length));
      for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
      buffer = buffer.subarray(offset + 4 + length);
      if (opcode === 0x1) {
        const message = JSON.parse(payload.toString("utf8"));
        messages.push(message);
        for (const handle of handlers) handle(message);
        for (const w of waiters) w();
      } else if (opcode === 0x8) {
        frame(0x8, payload.subarray(0, 2));
        socket.end();
      } else if (opcode === 0x9) {
        frame(0xa, payload);
      }
    }
  });
  return {
    path,
    messages,
    waitFor: (match, timeoutMs = 10_000) =>
      waitUntil(
        waiters,
        () =>
          messages.find((m) => match(m as Record<string, unknown>)) as Record<string, unknown> | undefined,
        timeoutMs,
        `no matching WebSocket message within ${timeoutMs} ms (got ${messages.length})`,
      ),
    send: (message) => frame(0x1, Buffer.from(JSON.stringify(message))),
    onMessage: (handle) => {
      handlers.push(handle);
    },
    close: (code = 1000) => {
      const payload = Buffer.alloc(2);
      payload.writeUInt16BE(code);
      frame(0x8, payload);
      socket.end();
    },
    closed,
  };
}

function waitUntil<T>(
  waiters: Set<() => void>,
  find: () => T | undefined,
  timeoutMs: number,
  why: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = find();
      if (found === undefined) return;
      clearTimeout(timer);
      waiters.delete(check);
      resolve(found);
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(why));
    }, timeoutMs);
    waiters.add(check);
    check();
  });
}
