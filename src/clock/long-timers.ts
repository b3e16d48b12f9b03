// Long waits in real time (a Pause of an hour, a call's 4 h limit) are most of what 100,000 parked
// calls wait on (issue #9), and a Node Timeout costs about 150 bytes of heap. A long wait instead
// waits in a one-minute slot (one Node timer per slot, shared by every wait in it) and gets a
// Timeout of its own only in its last minutes, so it still fires when due, on the monotonic clock.

const SLOT_MS = 60_000;
/** Shorter waits get a Timeout at once: a slot must start after now and before the wait is due. */
const LONG_MS = 2 * SLOT_MS;

class LongTimer {
  /** Its own Timeout, once its slot has come. */
  timeout: NodeJS.Timeout | undefined;

  constructor(
    readonly fn: () => void,
    /** When it is due, in performance.now() ms (whole ms: a small integer for 12 days of uptime). */
    readonly due: number,
  ) {}
}

interface Slot {
  readonly timers: Set<LongTimer>;
  readonly timeout: NodeJS.Timeout;
}

/** Slot k starts at k × SLOT_MS, when its waits get their own Timeout (each is due a minute or two later). */
const slots = new Map<number, Slot>();

/** As setTimeout(fn, ms); the handle is for clearLongTimeout only. */
export function setLongTimeout(fn: () => void, ms: number): unknown {
  if (!(ms >= LONG_MS)) return setTimeout(fn, ms);
  const timer = new LongTimer(fn, Math.ceil(performance.now() + ms));
  const k = slotOf(timer);
  let slot = slots.get(k);
  if (!slot) {
    slot = { timers: new Set(), timeout: setTimeout(() => open(k), k * SLOT_MS - performance.now()) };
    slots.set(k, slot);
  }
  slot.timers.add(timer);
  return timer;
}

/** As clearTimeout, for a handle from setLongTimeout. */
export function clearLongTimeout(handle: unknown): void {
  if (!(handle instanceof LongTimer)) {
    clearTimeout(handle as NodeJS.Timeout);
    return;
  }
  if (handle.timeout !== undefined) {
    clearTimeout(handle.timeout);
    return;
  }
  const k = slotOf(handle);
  const slot = slots.get(k);
  if (!slot?.timers.delete(handle) || slot.timers.size > 0) return;
  // An empty slot must not keep the process alive, as a cleared Timeout would not.
  clearTimeout(slot.timeout);
  slots.delete(k);
}

function slotOf(timer: LongTimer): number {
  return Math.floor((timer.due - SLOT_MS) / SLOT_MS);
}

function open(k: number): void {
  const slot = slots.get(k);
  slots.delete(k);
  if (!slot) return;
  const now = performance.now();
  for (const timer of slot.timers) timer.timeout = setTimeout(timer.fn, timer.due - now);
}
