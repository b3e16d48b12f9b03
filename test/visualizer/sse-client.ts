// A server-sent-events client for the visualizer's tests: reads a stream with fetch, keeps every
// event, and waits (bounded) for one that matches.
export interface SseEvent {
  event: string;
  data: unknown;
}

export interface SseClient {
  status: number;
  events: SseEvent[];
  /** Resolves with the first event (already received or to come) that matches; rejects after `ms`. */
  waitFor(match: (e: SseEvent) => boolean, ms?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream; rejects after `ms`. */
  ended(ms?: number): Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let done = false;
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  if (res.ok && res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end = buffer.indexOf("\n\n");
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
            end = buffer.indexOf("\n\n");
          }
          notify();
        }
      } catch {
        // Aborted by close().
      } finally {
        done = true;
        notify();
      }
    })();
  } else {
    done = true;
    await res.body?.cancel();
  }
  const until = (ready: () => boolean, what: string, ms: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!ready()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${url}: no ${what} within ${ms} ms; got ${JSON.stringify(events).slice(0, 500)}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return {
    status: res.status,
    events,
    async waitFor(match, ms = 15_000) {
      await until(() => events.some(match), "matching event", ms);
      return events.find(match) as SseEvent;
    },
    ended: (ms = 15_000) => until(() => done, "end", ms),
    close: () => abort.abort(),
  };
}
