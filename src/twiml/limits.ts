// What one TwiML document may cost to read: a body is at most 64 KiB (11750), and these bound the work
// and the warnings inside it, so a hostile document cannot hold a worker's event loop or fill the disk.

/** Elements in one document; past this the document fails with 12100. */
export const MAX_ELEMENTS = 2_000;
/** Attributes on one element (`<Gather>`, `<Dial>` and `<Conference>` take about 25); past this, 12100. */
export const MAX_ATTRIBUTES = 64;
/** Nesting depth (`<Response><Gather><Say><prosody>…` is 4); past this, 12100. */
export const MAX_DEPTH = 32;
/** Warnings kept from one document; the rest are counted in one last warning. */
export const MAX_WARNINGS = 20;
