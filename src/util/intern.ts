// One copy of strings that many live calls repeat (the called number, the edge, the region, state
// names): each call decoded from the stream would otherwise hold its own copy. At 100,000 parked
// calls in one worker (issue #9) every repeated field costs megabytes. Bounded, so strings that do not
// repeat (a caller's number) cannot grow it without limit: past the bound they are not interned.
const MAX = 10_000;
const strings = new Map<string, string>();

export function intern(s: string): string {
  const known = strings.get(s);
  if (known !== undefined) return known;
  if (strings.size < MAX) strings.set(s, s);
  return s;
}
