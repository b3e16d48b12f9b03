// The Recordings a SIP test's calls stored in us1's object store, read back as samples.
import { Objm } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { expect } from "vitest";
import { buckets } from "../../src/protocol/subjects.js";

/** The one Recording stored in us1, as 16-bit mono samples (the data chunk after a 44-byte header). */
export async function onlyRecording(nc: NatsConnection): Promise<Int16Array> {
  const store = await new Objm(nc).open(buckets.recordings("us1"));
  const listed = await store.list();
  expect(listed).toHaveLength(1);
  const wav = Buffer.from((await store.getBlob(listed[0]?.name ?? "")) ?? new Uint8Array());
  expect(wav.readUInt16LE(22)).toBe(1);
  return new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.length));
}
