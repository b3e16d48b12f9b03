// Who may see what under /viz/: the login routes (a form posts AccountSid + token, or operator +
// token, and gets a session cookie), logout, and the hook that gives every data route its viewer
// from the session cookie (or from Basic credentials, for scripts) and refuses the rest with 401.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { CallRow } from "../directory.js";
import type { Session, Sessions, Viewer, ViewerLogins } from "./sessions.js";

export const SESSION_COOKIE = "sb_viz_session";
const MAX_FIELD = 200;

const viewers = new WeakMap<FastifyRequest, { viewer: Viewer; session?: Session }>();

/** The viewer of a request that passed `requireViewer`. */
export function viewerOf(req: FastifyRequest): { viewer: Viewer; session?: Session } {
  const found = viewers.get(req);
  if (!found) throw new Error("viewerOf: the request has no viewer");
  return found;
}

/** Whether the viewer may see this call: the operator sees all, an account its own only. */
export function canSee(viewer: Viewer, row: Pick<CallRow, "accountSid">): boolean {
  return viewer.accountSid === null || row.accountSid === viewer.accountSid;
}

export function sessionOf(req: FastifyRequest, sessions: Sessions): Session | undefined {
  return sessions.get(cookie(req.headers.cookie, SESSION_COOKIE));
}

/** Refuses, with 401 JSON, every request of the scope that has neither a session nor good Basic credentials. */
export function requireViewer(app: FastifyInstance, sessions: Sessions, logins: ViewerLogins): void {
  app.addHook("onRequest", async (req, reply) => {
    const session = sessionOf(req, sessions);
    if (session) {
      viewers.set(req, { viewer: session.viewer, session });
      return;
    }
    const basic = logins.loginBasic(req.ip, req.headers.authorization);
    if (basic?.ok) {
      viewers.set(req, { viewer: basic.viewer });
      return;
    }
    if (basic && basic.retryAfter > 0) return tooMany(reply, basic.retryAfter);
    // No WWW-Authenticate: a browser must show the page's own login, not its Basic prompt.
    return reply.code(401).send({ error: "log in to see calls", login: "/viz/login" });
  });
}

/** POST /viz/api/login, POST /viz/api/logout and GET /viz/api/session. */
export function loginRoutes(app: FastifyInstance, sessions: Sessions, logins: ViewerLogins): void {
  app.post("/viz/api/login", async (req, reply) => {
    if (crossSite(req)) return reply.code(403).send({ error: "cross-site login refused" });
    const body = req.body as { user?: unknown; token?: unknown } | undefined;
    const { user, token } = body ?? {};
    if (typeof user !== "string" || typeof token !== "string" || !user || !token) {
      return reply
        .code(400)
        .send({ error: "send JSON {user, token}: an AccountSid (or operator) and its token" });
    }
    if (user.length > MAX_FIELD || token.length > MAX_FIELD) {
      return reply.code(400).send({ error: `user and token are at most ${MAX_FIELD} characters` });
    }
    const outcome = logins.login(req.ip, user.trim(), token.trim());
    if (!outcome.ok) {
      if (outcome.retryAfter > 0) return tooMany(reply, outcome.retryAfter);
      return reply.code(401).send({ error: "wrong AccountSid or token" });
    }
    // A login replaces the session this browser had.
    const previous = sessionOf(req, sessions);
    if (previous) sessions.end(previous.id);
    const session = sessions.open(outcome.viewer, outcome.current);
    reply.header("Set-Cookie", setCookie(req, session.id, Math.floor(sessions.ttlMs / 1000)));
    return describe(session);
  });
  app.post("/viz/api/logout", async (req, reply) => {
    if (crossSite(req)) return reply.code(403).send({ error: "cross-site logout refused" });
    const session = sessionOf(req, sessions);
    if (session) sessions.end(session.id);
    return reply
      .header("Set-Cookie", setCookie(req, "", 0))
      .code(204)
      .send();
  });
  app.get("/viz/api/session", async (req, reply) => {
    const session = sessionOf(req, sessions);
    return session
      ? describe(session)
      : reply.code(401).send({ error: "not logged in", login: "/viz/login" });
  });
}

function describe(session: Session) {
  return {
    user: session.viewer.user,
    operator: session.viewer.accountSid === null,
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}

function tooMany(reply: FastifyReply, seconds: number) {
  reply.header("Retry-After", String(seconds));
  return reply.code(429).send({ error: `too many failed logins; retry in ${seconds} s` });
}

/**
 * A form posted from another site: refused even though its cookie would be SameSite=Strict (that
 * guards the session, not a login into an attacker's account). Browsers send Sec-Fetch-Site, or
 * at least Origin, with every POST; clients that send neither are not browsers.
 */
function crossSite(req: FastifyRequest): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined) return site !== "same-origin" && site !== "none";
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    const host = new URL(origin).host;
    return host !== req.headers.host && host !== req.headers["x-forwarded-host"];
  } catch {
    return true;
  }
}

/** HttpOnly, SameSite=Strict, only under /viz; Secure when the page is served over https. */
function setCookie(req: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const forwarded = String(req.headers["x-forwarded-proto"] ?? "")
    .split(",")[0]
    ?.trim();
  const secure = req.protocol === "https" || forwarded === "https";
  return [
    `${SESSION_COOKIE}=${value}`,
    "Path=/viz",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(";") ?? []) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
