// Phone numbers and caller IDs as Twilio accepts them, and their KV key form.
// KV keys may not contain "+", so a number's key is its digits.

const E164 = /^\+[1-9]\d{1,14}$/;
// Withheld or alpha caller IDs arrive as short words (anonymous, unknown, RESTRICTED, …).
const ALPHA_CALLER = /^[A-Za-z][A-Za-z0-9 ._-]{0,31}$/;

export function isE164(value: string): boolean {
  return E164.test(value);
}

/** A caller ID Twilio would pass on: E.164, `client:<id>`, a SIP URI, or a withheld/alpha ID. */
export function isCallerId(value: string): boolean {
  if (value.startsWith("+") || /^\d/.test(value)) return isE164(value);
  if (value.startsWith("client:")) return value.length > 7 && value.length <= 263;
  if (value.startsWith("sip:")) return value.length > 4 && value.length < 255;
  return ALPHA_CALLER.test(value);
}

export function numberKey(e164: string): string {
  return e164.replace(/^\+/, "");
}

export function numberFromKey(key: string): string {
  return `+${key}`;
}

/** Twilio's `to_formatted`/`from_formatted`: (415) 867-5309 for NANP numbers, else as given. */
export function formatNumber(value: string): string {
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(value);
  return nanp ? `(${nanp[1]}) ${nanp[2]}-${nanp[3]}` : value;
}
