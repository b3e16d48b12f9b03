// Reports an error or warning against a call three ways at once: stored as a Notification (what
// the REST API and Twilio's debugger show), published for inspection, and logged. Storing never
// holds the call up: a failed write is logged, not thrown.
import type { Logger } from "../../log.js";
import type { JsonKv } from "../../store/json-kv.js";
import { addNotification, type NewNotification, type NotificationRecord } from "../../store/notifications.js";
import type { Inspector } from "../inspect/inspector.js";

export class Notifier {
  constructor(
    private readonly notifications: JsonKv<NotificationRecord>,
    private readonly inspector: Inspector,
    private readonly log: Logger,
  ) {}

  notify(n: NewNotification): void {
    this.inspector.publish(n.callSid, {
      type: "notification",
      level: n.level,
      code: n.code,
      message: n.message,
    });
    this.log[n.level === "error" ? "warn" : "info"]({ callSid: n.callSid, code: n.code }, n.message);
    addNotification(this.notifications, n).catch((err) =>
      this.log.error({ err, callSid: n.callSid, code: n.code }, "cannot store notification"),
    );
  }
}
