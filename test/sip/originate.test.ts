// Outbound legs against sipp as the callee or trunk: the test stands in for the region (it sends the
// originate and the leg's commands over NATS and reads its events), the gateway is the real one.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import { parseRecordReply } from "../../src/protocol/sip-commands.js";
import { LegEventSchema } from "../../src/protocol/sip-legs.js";
import { startTestEngine } from "../helpers/engine.js";
import { toneHz, wavSamples } from "./audio.js";
import { freeUdpPort, SCENARIOS, startGateway, toneDir } from "./harness.js";
import { command, placeLeg, sippUas } from "./uas.js";

/**
 * uas-auth.xml (401, the answer checked by sipp's verifyauth), or as a proxy challenging with 407:
 * sipp's verifyauth reads only Authorization, so the test checks the Proxy-Authorization itself.
 */
async function challenging(status: 401 | 407): Promise<string> {
  const scenario = join(SCENARIOS, "uas-auth.xml");
  if (status === 401) return scenario;
  const text = (await readFile(scenario, "latin1"))
    .replace('<!DOCTYPE scenario SYSTEM "sipp.dtd">', "")
    .replace("401 Unauthorized", "407 Proxy Authentication Required")
    .replace("WWW-Authenticate:", "Proxy-Authenticate:")
    .replace(
      /<verifyauth [^>]*>/,
      '<ereg regexp="Digest .*" search_in="hdr" header="Proxy-Authorization:" check_it="true" assign_to="authvalid"/>',
    );
  const path = join(await mkdtemp(join(tmpdir(), "sb-uas-")), "uas-auth-407.xml");
  await writeFile(path, text);
  return path;
}

/** Checks a digest answer the way a trunk does (RFC 2617 §3.2.2, MD5, qop=auth), independently of src/. */
function digestValid(header: string, method: string, password: string): boolean {
  const p = (name: string) => new RegExp(`${name}="?([^",]+)"?`).exec(header)?.[1] ?? "";
  const md5 = (s: string) => createHash("md5").update(s).digest("hex");
  const ha1 = md5(`${p("username")}:${p("realm")}:${password}`);
  const ha2 = md5(`${method}:${p("uri")}`);
  return p("response") === md5(`${ha1}:${p("nonce")}:${p("nc")}:${p("cnonce")}:${p("qop")}:${ha2}`);
}

const RECORD = { timeoutMs: 0, maxLengthMs: 60_000, finishOnKey: "#", playBeep: false, trimSilence: true };

describe("outbound legs", () => {
  it.each([401, 407] as const)(
    "answers a trunk's %i with digest, rings, is answered, hears the callee and its keys, and ends on its BYE",
    {
      timeout: 60_000,
    },
    async (status) => {
      await using engine = await startTestEngine({ worker: false });
      await using gw = await startGateway(engine);
      const cwd = await toneDir(2);
      const messageFile = join(cwd, "messages.log");
      const uas = await sippUas(await challenging(status), { cwd, messageFile });
      const { watch, reply } = await placeLeg(
        engine.nc,
        {
          uri: "sip:+15551239999@trunk.test",
          from: { user: "+15557654321", host: "switchboard.test" },
          nextHop: { host: uas.address, port: uas.port, transport: "udp" },
          auth: { username: "trunkuser", password: "s3cret" },
          headers: { "X-Trace": "abc" },
          timeoutMs: 10_000,
        },
        "gw1",
      );
      expect(reply).toEqual({ gateway: "gw1" });
      expect(await watch.next((e) => e.subject === "leg")).toEqual({ kind: "ringing", earlyMedia: false });
      // The leg's Call-ID (DialSipCallId) and its 200 OK's X- headers (the trunk echoes X-Trace).
      expect(await watch.next((e) => e.subject === "leg" && e.body.kind !== "ringing")).toEqual({
        kind: "answered",
        callId: expect.stringMatching(/^[0-9a-f]{24}$/),
        headers: { "X-Trace": "abc" },
      });
      expect(gw.calls.has(watch.legSid)).toBe(true);
      // The callee's 2 s tone, ended by its # (RFC 4733).
      const recorded = parseRecordReply(
        await command(engine.nc, "gw1", watch.legSid, { op: "record", id: "r1", options: RECORD }),
      );
      expect(recorded.digits).toBe("#");
      expect(Math.abs(recorded.durationMs - 2000)).toBeLessThanOrEqual(100);
      expect(Math.abs(toneHz(wavSamples(recorded.chunk)) - 440)).toBeLessThan(10);
      expect(await watch.next((e) => e.subject === "in" && e.body.kind === "digits")).toEqual({
        kind: "digits",
        digits: "#",
      });
      expect(await watch.next((e) => e.subject === "in" && e.body.kind === "hangup")).toEqual({
        kind: "hangup",
      });
      const result = await uas.result;
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(gw.calls.has(watch.legSid)).toBe(false);
      const answer = /^Proxy-Authorization: (.*)$/m.exec(await readFile(messageFile, "latin1"))?.[1] ?? "";
      if (status === 407) expect(digestValid(answer, "INVITE", "s3cret")).toBe(true);
      else expect(answer).toBe("");
    },
  );

  it("fails with the trunk's 403 when the credentials are wrong (sipp's verifyauth)", {
    timeout: 30_000,
  }, async () => {
    await using engine = await startTestEngine({ worker: false });
    await using gw = await startGateway(engine);
    const uas = await sippUas(await challenging(401), { cwd: await toneDir(1) });
    const { watch } = await placeLeg(engine.nc, {
      uri: "sip:+15551239999@trunk.test",
      from: { user: "+15557654321" },
      nextHop: { host: uas.address, port: uas.port, transport: "udp" },
      auth: { username: "trunkuser", password: "wrong" },
      timeoutMs: 10_000,
    });
    expect(await watch.next((e) => e.subject === "leg")).toMatchObject({ kind: "failed", sipCode: 403 });
    await uas.result;
    expect(gw.calls.has(watch.legSid)).toBe(false);
  });

  it("fails busy with the callee's 486", { timeout: 30_000 }, async () => {
    await using engine = await startTestEngine({ worker: false });
    await using gw = await startGateway(engine);
    const uas = await sippUas("uas-busy.xml");
    const { watch } = await placeLeg(
      engine.nc,
      { uri: `sip:bob@${uas.address}:${uas.port}`, from: { user: "alice" }, timeoutMs: 10_000 },
      "gw1",
    );
    expect(await watch.next((e) => e.subject === "leg" && e.body.kind === "failed")).toMatchObject({
      sipCode: 486,
    });
    const result = await uas.result;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(gw.calls.size).toBe(0);
  });

  // A hostile callee's headers do not travel whole: the leg event (and so the Dial's action) keeps the
  // first 32 X- headers that fit, each value at most 1024 characters.
  it("bounds the X- headers of a callee's failure it passes on", { timeout: 30_000 }, async () => {
    await using engine = await startTestEngine({ worker: false });
    await using _gw = await startGateway(engine);
    const many = Array.from({ length: 40 }, (_, i) => `X-H${String(i).padStart(2, "0")}: ${i}`);
    const text = (await readFile(join(SCENARIOS, "uas-busy.xml"), "latin1"))
      .replace('<!DOCTYPE scenario SYSTEM "sipp.dtd">', "")
      .replace(
        /(SIP\/2\.0 486 Busy Here[\s\S]*?\[last_CSeq:\]\n)/,
        `$1      X-Huge: ${"h".repeat(2000)}\n${many.map((h) => `      ${h}\n`).join("")}`,
      );
    const path = join(await mkdtemp(join(tmpdir(), "sb-uas-")), "uas-busy-headers.xml");
    await writeFile(path, text);
    const uas = await sippUas(path);
    const { watch } = await placeLeg(engine.nc, {
      uri: `sip:bob@${uas.address}:${uas.port}`,
      from: { user: "alice" },
      timeoutMs: 10_000,
    });
    const failed = await watch.next((e) => e.subject === "leg" && e.body.kind === "failed");
    expect(LegEventSchema.safeParse(failed).success).toBe(true);
    const headers = (failed as { headers?: Record<string, string> }).headers ?? {};
    expect(Object.keys(headers)).toEqual(many.slice(0, 32).map((h) => h.split(":")[0]));
    expect(headers["X-H31"]).toBe("31");
    const result = await uas.result;
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it("cancels a leg still ringing at its timeout (487), and one the region hangs up", {
    timeout: 30_000,
  }, async () => {
    await using engine = await startTestEngine({ worker: false });
    await using gw = await startGateway(engine);
    for (const how of ["timeout", "hangup"] as const) {
      const uas = await sippUas("uas-noanswer.xml");
      const started = Date.now();
      const { watch } = await placeLeg(engine.nc, {
        uri: `sip:bob@${uas.address}:${uas.port}`,
        from: { user: "alice" },
        timeoutMs: how === "timeout" ? 1_500 : 60_000,
      });
      await watch.next((e) => e.subject === "leg" && e.body.kind === "ringing");
      if (how === "hangup")
        expect(await command(engine.nc, "gw1", watch.legSid, { op: "hangup" })).toEqual({});
      expect(await watch.next((e) => e.subject === "leg" && e.body.kind === "failed")).toMatchObject({
        sipCode: 487,
      });
      if (how === "timeout") expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
      const result = await uas.result;
      expect(result.code, `${how}: ${result.stdout}${result.stderr}`).toBe(0);
    }
    expect(gw.calls.size).toBe(0);
  });

  it("fails 408 when nothing answers at all, 503 when the next hop cannot be reached, and refuses a malformed originate (90002)", {
    timeout: 30_000,
  }, async () => {
    await using engine = await startTestEngine({ worker: false });
    await using _gw = await startGateway(engine);
    const silent = await freeUdpPort("127.0.0.3");
    const { watch } = await placeLeg(engine.nc, {
      uri: `sip:bob@127.0.0.3:${silent}`,
      from: { user: "alice" },
      timeoutMs: 1_000,
    });
    expect(await watch.next((e) => e.subject === "leg")).toMatchObject({ kind: "failed", sipCode: 408 });
    // Unreachable: a trunk over TCP that refuses the connection, a host that does not resolve.
    const closed = await placeLeg(engine.nc, {
      uri: "sip:+15551239999@trunk.test",
      from: { user: "alice" },
      nextHop: { host: "127.0.0.3", port: silent, transport: "tcp" },
      timeoutMs: 10_000,
    });
    expect(await closed.watch.next((e) => e.subject === "leg")).toMatchObject({
      kind: "failed",
      sipCode: 503,
    });
    const nowhere = await placeLeg(engine.nc, {
      uri: "sip:bob@nowhere.invalid",
      from: { user: "alice" },
      timeoutMs: 10_000,
    });
    expect(await nowhere.watch.next((e) => e.subject === "leg")).toMatchObject({
      kind: "failed",
      sipCode: 503,
    });
    const bad = placeLeg(engine.nc, { uri: "x", from: { user: "" }, timeoutMs: 0 } as never, "gw1");
    await expect(bad).rejects.toSatisfy((e) => e instanceof SwitchboardError && e.code === 90002);
  });
});
