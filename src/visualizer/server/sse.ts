// Server-sent events over a hijacked fastify reply: the page's live list and live call view.
import type { FastifyReply, FastifyRequest } from "fastify";

export interface EventStream {
  send(event: string, data: unknown): void;
  close(): void;
  /** Runs once, when either side closes the stream. */
  onClose(fn: () => void): void;
}

// Proxies drop quiet connections; a comment line every 15 s keeps the stream open.
const HEARTBEAT_MS = 15_000;

export function openEventStream(req: FastifyRequest, reply: FastifyReply): EventStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-transform",
    Connection: "keep-alive",
    "X-Accel-Buffering": "no",
  });
  res.write(": open\n\n");
  const closers: (() => void)[] = [];
  let closed = false;
  const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), HEARTBEAT_MS);
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const fn of closers.splice(0)) fn();
  };
  req.raw.on("close", finish);
  return {
    send(event, data) {
      if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close() {
      finish();
      res.end();
    },
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
  };
}
