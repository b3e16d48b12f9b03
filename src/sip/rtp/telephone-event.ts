// RFC 4733 telephone-events: DTMF keys as RTP payloads. One key is one event (one RTP timestamp),
// sent as several packets of growing duration and ended by (usually three) packets with the E bit.

export const DTMF_KEYS = "0123456789*#ABCD";

export interface TelephoneEvent {
  /** 0-15: the keys of DTMF_KEYS in order. */
  readonly event: number;
  readonly end: boolean;
  /** 0-63 (-dBm0). */
  readonly volume: number;
  /** In timestamp units (1/8000 s). */
  readonly duration: number;
}

export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | undefined {
  if (payload.length < 4) return undefined;
  const b1 = payload[1] as number;
  return {
    event: payload[0] as number,
    end: (b1 & 0x80) !== 0,
    volume: b1 & 0x3f,
    duration: ((payload[2] as number) << 8) | (payload[3] as number),
  };
}

export function buildTelephoneEvent(e: TelephoneEvent): Uint8Array {
  return Uint8Array.of(
    e.event & 0xff,
    (e.end ? 0x80 : 0) | (e.volume & 0x3f),
    (e.duration >> 8) & 0xff,
    e.duration & 0xff,
  );
}

export function keyOf(event: number): string | undefined {
  return DTMF_KEYS[event];
}

export function eventOf(key: string): number | undefined {
  const i = DTMF_KEYS.indexOf(key.toUpperCase());
  return i < 0 ? undefined : i;
}

/**
 * Turns a stream of telephone-event packets into keys: each key is reported once, on its first
 * packet, however many times its packets (and their end retransmissions) arrive. An event is
 * named by its source, timestamp and code (RFC 4733 §2.5.1.2). A sender that replays a recorded
 * press (sipp's play_pcap_audio sends a pcap's packets as they are, timestamps included) repeats
 * that name: packets of an event that has ended, arriving after a pause, are a new press.
 */
export class DtmfReceiver {
  readonly #seen = new Map<string, { ended: boolean; lastAt: number }>();

  /** The key this packet starts, or undefined for a packet of a key already reported. */
  receive(ssrc: number, timestamp: number, payload: Uint8Array, now = performance.now()): string | undefined {
    const e = parseTelephoneEvent(payload);
    if (!e) return undefined;
    const key = keyOf(e.event);
    if (key === undefined) return undefined;
    const id = `${ssrc}:${timestamp}:${e.event}`;
    const known = this.#seen.get(id);
    if (known && !(known.ended && now - known.lastAt > REPLAYED_AFTER_MS)) {
      known.ended ||= e.end;
      known.lastAt = now;
      return undefined;
    }
    this.#seen.delete(id);
    this.#seen.set(id, { ended: e.end, lastAt: now });
    // Only recent events can be repeated; keep a short memory.
    if (this.#seen.size > 32) this.#seen.delete(this.#seen.keys().next().value as string);
    return key;
  }
}

/** An ended event's retransmissions come within a few packet times (RFC 4733 §2.5.1.4); later is a new press. */
const REPLAYED_AFTER_MS = 250;
