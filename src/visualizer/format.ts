// The call view as text lines, for `switchboard trace`: the same timeline the page shows.
import type { CallView, TimelineEntry } from "./timeline.js";

const KIND_WIDTH = 8;

export function formatHeader(view: CallView & { edge?: string | null }): string {
  const where = view.edge ? `${view.region} via ${view.edge}` : view.region;
  const status = view.live ? `${view.status} (live)` : view.status;
  const duration = view.duration === null ? "" : `, duration ${view.duration} s`;
  const error = view.errorCode ? `, error ${view.errorCode}` : "";
  return `call ${view.callSid} in ${where}: ${view.from ?? "?"} -> ${view.to ?? "?"}, ${status}${duration}${error}`;
}

/** One line per entry: seconds since the call began, kind, what happened, how long it took. */
export function formatEntry(view: CallView, entry: TimelineEntry): string {
  const t = ((entry.at - (view.startedAt ?? entry.at)) / 1000).toFixed(3).padStart(8);
  const kind = entry.kind.padEnd(KIND_WIDTH);
  const took = entry.durationMs === null ? "" : `  (${formatMs(entry.durationMs)})`;
  return `${t}  ${kind} ${entry.text}${took}`;
}

export function formatTimeline(view: CallView & { edge?: string | null }): string[] {
  const lines = [formatHeader(view), ...view.entries.map((e) => formatEntry(view, e))];
  if (!view.channelCaptured) {
    lines.push(
      "(no channel commands were recorded for this call: it ran before they were inspection events)",
    );
  }
  return lines;
}

export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
