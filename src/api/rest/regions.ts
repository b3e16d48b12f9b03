// Which regions exist: a region is real once its call stream (SB_CALLS_<R>) does, which every
// region worker provisions at start. The api refuses to put numbers or routes in any other.
import { streams } from "../../protocol/subjects.js";
import { isMissingStream, type RegionBuckets } from "./region-buckets.js";

const known = new WeakMap<RegionBuckets, Set<string>>();

export async function regionExists(b: RegionBuckets, region: string): Promise<boolean> {
  let seen = known.get(b);
  if (!seen) {
    seen = new Set();
    known.set(b, seen);
  }
  if (seen.has(region)) return true;
  try {
    await (await b.jsm()).streams.info(streams.calls(region));
  } catch (err) {
    if (isMissingStream(err)) return false;
    throw err;
  }
  // Regions are not removed while the api runs, so a region seen once stays known.
  seen.add(region);
  return true;
}
