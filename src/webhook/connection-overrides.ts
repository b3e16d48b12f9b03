// Twilio's per-URL connection overrides (spec §4): a fragment such as `#ct=1000&rt=5000&rc=2&rp=ct,rt`
// on a webhook URL tunes timeouts and retries. The fragment is never signed or sent.

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
}

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
 * Unknown keys (`sni`, `e`, …) are ignored; out-of-range numbers are clamped; an `rp` with no known
 * policy keeps the default. The policy `all` is expanded to every other policy as well.
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
    const names = rp
      .split(",")
      .map((p) => p.trim().toLowerCase())
      .filter((p): p is RetryPolicyName => POLICIES.has(p));
    if (names.length > 0) {
      out.retryPolicy = names.includes("all") ? new Set(["4xx", "5xx", "ct", "rt", "all"]) : new Set(names);
    }
  }
  return out;
}

/** Removes the `#…` fragment from a URL. */
export function withoutFragment(url: string): string {
  const hashAt = url.indexOf("#");
  return hashAt >= 0 ? url.slice(0, hashAt) : url;
}
