// Twilio's per-URL connection overrides (spec §4): a fragment such as `#ct=1000&rt=5000&rc=2&rp=ct,rt`
// on a webhook URL tunes timeouts and retries. The fragment is never signed or sent. A retry policy
// or an egress edge (`e=`) Twilio does not know fails the request before it is made (11240-11243).

export type RetryPolicyName = "4xx" | "5xx" | "ct" | "rt" | "all";

export interface ConnectionOverrides {
  /** TCP (and TLS) connect timeout per attempt. */
  connectTimeoutMs: number;
  /** Time to wait for the response headers, and between body packets. */
  readTimeoutMs: number;
  /** Whole request, including retries and redirects; voice caps it at 15 s whatever the URL says. */
  totalTimeoutMs: number;
  /** Retries after the first attempt. */
  retryCount: number;
  /** Which failures are retried: 4xx/5xx responses, connect failures (ct), read timeouts (rt), or all. */
  retryPolicy: Set<RetryPolicyName>;
  /** Why Twilio would refuse the fragment (its failure condition and what it named), if it would. */
  refused?: { condition: OverrideRefusal; message: string };
}

export type OverrideRefusal =
  | "invalidEdge"
  | "unsupportedEdge"
  | "interconnectNotAllowed"
  | "invalidRetryPolicy";

/** Twilio's edge locations a webhook may leave from (spec §7); switchboard sends from its own host. */
const EDGES: ReadonlySet<string> = new Set([
  "ashburn",
  "umatilla",
  "dublin",
  "frankfurt",
  "sao-paulo",
  "singapore",
  "tokyo",
  "sydney",
]);
/** Twilio's Interconnect edges: an account must be enabled for them (11242), and none here is. */
const INTERCONNECT_EDGES: ReadonlySet<string> = new Set([
  "ashburn-ix",
  "san-jose-ix",
  "sao-paulo-ix",
  "london-ix",
  "frankfurt-ix",
  "singapore-ix",
  "tokyo-ix",
  "sydney-ix",
]);

interface Range {
  min: number;
  max: number;
  def: number;
}

const RANGES = {
  ct: { min: 100, max: 10_000, def: 5_000 },
  rt: { min: 100, max: 15_000, def: 15_000 },
  tt: { min: 100, max: 15_000, def: 15_000 },
  rc: { min: 0, max: 5, def: 1 },
} as const satisfies Record<string, Range>;

const POLICIES: ReadonlySet<string> = new Set<RetryPolicyName>(["4xx", "5xx", "ct", "rt", "all"]);

/** The overrides a URL without a fragment gets. */
export function defaultConnectionOverrides(): ConnectionOverrides {
  return {
    connectTimeoutMs: RANGES.ct.def,
    readTimeoutMs: RANGES.rt.def,
    totalTimeoutMs: RANGES.tt.def,
    retryCount: RANGES.rc.def,
    retryPolicy: new Set(["ct"]),
  };
}

/** A whole number clamped into the range; the default when the value is missing or not a number. */
function numberIn(raw: string | null, range: Range): number {
  if (raw === null || !/^\s*-?\d+(\.\d+)?\s*$/.test(raw)) return range.def;
  return Math.min(range.max, Math.max(range.min, Math.round(Number(raw))));
}

/**
 * Parses the overrides from a URL's fragment (or from a bare fragment, with or without its `#`).
 * Unknown keys (`sni`, …) are ignored; out-of-range numbers are clamped. An `rp` naming a policy
 * Twilio does not have, or an `e` naming no edge a webhook can leave from, is `refused`. The policy
 * `all` is expanded to every other policy as well.
 */
export function parseConnectionOverrides(urlOrFragment: string): ConnectionOverrides {
  const hashAt = urlOrFragment.indexOf("#");
  const fragment =
    hashAt >= 0 ? urlOrFragment.slice(hashAt + 1) : urlOrFragment.includes("://") ? "" : urlOrFragment;
  const out = defaultConnectionOverrides();
  if (fragment === "") return out;
  const q = new URLSearchParams(fragment);
  out.connectTimeoutMs = numberIn(q.get("ct"), RANGES.ct);
  out.readTimeoutMs = numberIn(q.get("rt"), RANGES.rt);
  out.totalTimeoutMs = numberIn(q.get("tt"), RANGES.tt);
  out.retryCount = numberIn(q.get("rc"), RANGES.rc);
  const rp = q.get("rp");
  if (rp !== null) {
    const asked = rp.split(",").map((p) => p.trim().toLowerCase());
    const unknown = asked.find((p) => !POLICIES.has(p));
    if (unknown !== undefined) {
      out.refused = {
        condition: "invalidRetryPolicy",
        message: `retry policy "${unknown}" (rp=${rp}) is not one of 4xx, 5xx, ct, rt, all`,
      };
    } else {
      const names = asked as RetryPolicyName[];
      out.retryPolicy = names.includes("all") ? new Set(["4xx", "5xx", "ct", "rt", "all"]) : new Set(names);
    }
  }
  const e = q.get("e");
  if (e !== null && !out.refused) out.refused = edgeRefusal(e);
  return out;
}

/** Why Twilio refuses the egress edges `e` names (a webhook leaves from one of its edges), if it does. */
function edgeRefusal(e: string): ConnectionOverrides["refused"] {
  for (const edge of e.split(",").map((x) => x.trim().toLowerCase())) {
    if (EDGES.has(edge)) continue;
    if (INTERCONNECT_EDGES.has(edge)) {
      return {
        condition: "interconnectNotAllowed",
        message: `edge ${edge} is an Interconnect edge (e=${e})`,
      };
    }
    // Global Low Latency routes media, not webhooks.
    if (edge === "roaming")
      return { condition: "unsupportedEdge", message: `edge roaming cannot send webhooks (e=${e})` };
    return { condition: "invalidEdge", message: `"${edge}" is not an edge location (e=${e})` };
  }
  return undefined;
}

/** Removes the `#…` fragment from a URL. */
export function withoutFragment(url: string): string {
  const hashAt = url.indexOf("#");
  return hashAt >= 0 ? url.slice(0, hashAt) : url;
}
