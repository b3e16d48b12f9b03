// The RTP fixed header (RFC 3550 §5.1): what a G.711 or telephone-event packet needs, no more.
// CSRCs and a header extension are skipped on receipt; padding is removed.

export interface RtpPacket {
  readonly payloadType: number;
  readonly marker: boolean;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly payload: Uint8Array;
}

const HEADER = 12;

/** Reads an RTP packet; undefined for anything that is not RTP version 2 (or is RTCP). */
export function parseRtp(data: Uint8Array): RtpPacket | undefined {
  if (data.length < HEADER || data[0] === undefined || data[0] >> 6 !== 2) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const b0 = data[0];
  const b1 = data[1] as number;
  const payloadType = b1 & 0x7f;
  // RTCP shares the port range in some stacks (rtcp-mux): its packet types 200-204 land on 72-76.
  if (payloadType >= 72 && payloadType <= 76) return undefined;
  let offset = HEADER + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    if (data.length < offset + 4) return undefined;
    offset += 4 + view.getUint16(offset + 2) * 4;
  }
  let end = data.length;
  if (b0 & 0x20) end -= data[data.length - 1] as number;
  if (offset > end) return undefined;
  return {
    payloadType,
    marker: (b1 & 0x80) !== 0,
    sequence: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    payload: data.subarray(offset, end),
  };
}

export function buildRtp(p: RtpPacket): Uint8Array {
  const out = new Uint8Array(HEADER + p.payload.length);
  const view = new DataView(out.buffer);
  out[0] = 0x80;
  out[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  view.setUint16(2, p.sequence & 0xffff);
  view.setUint32(4, p.timestamp >>> 0);
  view.setUint32(8, p.ssrc >>> 0);
  out.set(p.payload, HEADER);
  return out;
}
