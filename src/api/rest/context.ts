// What every REST route group is given: the api's context and the region buckets it reads.
import type { ApiContext } from "../context.js";
import type { RegionBuckets } from "./region-buckets.js";

export interface RestContext extends ApiContext {
  buckets: RegionBuckets;
}
