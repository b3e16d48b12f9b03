// The region of a region-scoped request, from the Host as Twilio does it:
// api.<edge>.<region>.twilio.com (and api.<region>.twilio.com); anything else is us1.
import { NAME_PATTERN } from "../protocol/subjects.js";

export function regionFromHost(host: string | undefined): string {
  // Host names are case-insensitive (a proxy may send API.DUBLIN.IE1.TWILIO.COM).
  const labels = (host ?? "").toLowerCase().split(":")[0]?.split(".") ?? [];
  if (labels[0] !== "api") return "us1";
  const candidate = labels.length >= 5 ? labels[2] : labels.length === 4 ? labels[1] : undefined;
  return candidate && NAME_PATTERN.test(candidate) && /\d$/.test(candidate) ? candidate : "us1";
}
