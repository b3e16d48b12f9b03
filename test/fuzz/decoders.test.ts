// Every subject's payload decoder reads what anyone on the bus sent: arbitrary bytes, JSON and
// msgpack of arbitrary values must decode and validate to a value or a SwitchboardError, nothing else.
import fc from "fast-check";
import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import { parseCallControl } from "../../src/protocol/call-control.js";
import { parseCallJob } from "../../src/protocol/call-job.js";
import { ChannelInSchema } from "../../src/protocol/channel-events.js";
import { decode, type Encoding } from "../../src/protocol/codec.js";
import { parseOffer } from "../../src/protocol/offer.js";
import { assertClearError, refusedClearly, runs } from "./expect-refusal.js";

const RUNS = runs(200);
const DECODE_CODES = [90001];

/** Call-host reads `.in` with ChannelInSchema; a schema refusal is reported as 90002 there. */
function parseChannelIn(value: unknown) {
  const result = ChannelInSchema.safeParse(value);
  if (!result.success) throw Object.assign(new Error("refused"), { refusedBySchema: true });
  return result.data;
}

const VALIDATORS: [string, (v: unknown) => unknown, readonly number[]][] = [
  ["parseOffer", parseOffer, [90002, 21211, 21212]],
  ["parseCallJob", parseCallJob, [90002]],
  ["parseCallControl", parseCallControl, [90002, 32018]],
];

/** Values shaped like the real payloads, so validation gets past its first check now and then. */
const nearlyValid = fc.record(
  {
    to: fc.oneof(fc.constant("+15551230001"), fc.string(), fc.integer()),
    from: fc.oneof(fc.constantFrom("+15557654321", "anonymous", "client:alice", "sip:a@b"), fc.string()),
    callSid: fc.oneof(fc.constant("CA0123456789abcdef0123456789abcdef"), fc.string()),
    accountSid: fc.string(),
    sipHeaders: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())),
    geo: fc.dictionary(fc.constantFrom("FromCity", "ToZip", "Nope", "__proto__", "constructor"), fc.string()),
    caller: fc.record(
      { digits: fc.array(fc.string()), hangupAfter: fc.double(), timeScale: fc.double() },
      { requiredKeys: [] },
    ),
    edge: fc.string(),
    region: fc.string(),
    offeredAt: fc.oneof(fc.double(), fc.bigInt()),
    url: fc.oneof(
      fc.webUrl(),
      fc.string(),
      fc.constantFrom("javascript:alert(1)", "http://", "file:///etc/passwd"),
    ),
    method: fc.constantFrom("GET", "POST", "PUT", ""),
    twiml: fc.oneof(fc.string(), fc.string({ minLength: 3990, maxLength: 4010 })),
    status: fc.constantFrom("completed", "canceled", "busy", ""),
    kind: fc.constantFrom("hangup", "digits", "speech", "other"),
    digits: fc.string(),
    text: fc.string(),
  },
  { requiredKeys: [] },
);

const anyValue = fc.oneof(
  fc.anything({
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withNullPrototype: true,
  }),
  nearlyValid,
);

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

function checkValidators(value: unknown): void {
  for (const [name, validate, codes] of VALIDATORS) {
    try {
      validate(value);
    } catch (err) {
      try {
        assertClearError(err, codes);
      } catch (wrapped) {
        throw new Error(`${name}: ${(wrapped as Error).message}`, { cause: err });
      }
    }
  }
  try {
    parseChannelIn(value);
  } catch (err) {
    expect((err as { refusedBySchema?: boolean }).refusedBySchema, String(err)).toBe(true);
  }
}

function decodeAndValidate(data: Uint8Array, encoding: Encoding): void {
  const value = refusedClearly(() => decode(data, encoding), DECODE_CODES);
  if (value !== undefined) checkValidators(value);
}

describe("bus payload decoders on bad input", () => {
  it("refuse arbitrary bytes with 90001 or validate what they decode to", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 256 }),
        fc.constantFrom<Encoding>("msgpack", "json"),
        (bytes, enc) => decodeAndValidate(bytes, enc),
      ),
      RUNS,
    );
  });

  it("validate arbitrary JSON values to a value or a clear error", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), nearlyValid), (value) =>
        decodeAndValidate(
          new TextEncoder().encode(
            JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? Number(v) : v)) ?? "null",
          ),
          "json",
        ),
      ),
      RUNS,
    );
  });

  it("validate arbitrary msgpack values to a value or a clear error", () => {
    fc.assert(
      fc.property(anyValue, (value) => {
        let bytes: Uint8Array;
        try {
          bytes = packr.pack(value);
        } catch {
          return; // msgpackr cannot encode it: nobody can send it either
        }
        decodeAndValidate(bytes, "msgpack");
      }),
      RUNS,
    );
  });

  it("validate arbitrary in-memory values without throwing anything but a SwitchboardError", () => {
    fc.assert(fc.property(anyValue, checkValidators), RUNS);
  });
});
