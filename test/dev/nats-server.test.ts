import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { INSTALL_HINT, NatsServerNotInstalledError } from "../../src/dev/nats-server.js";
import { type NatsServer, startTestNatsServer } from "../helpers/nats-server.js";

const started: NatsServer[] = [];
async function start(...args: Parameters<typeof startTestNatsServer>): Promise<NatsServer> {
  const server = await startTestNatsServer(...args);
  started.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

/** Resolves with the first line the server sends, or rejects with the socket error (bounded by 3 s). */
function firstLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let buf = "";
    socket.setTimeout(3_000, () => {
      socket.destroy();
      reject(new Error("timed out waiting for the first line"));
    });
    socket.on("data", (chunk) => {
      buf += chunk.toString("utf8");
      const end = buf.indexOf("\r\n");
      if (end >= 0) {
        socket.destroy();
        resolve(buf.slice(0, end));
      }
    });
    socket.once("error", (err) => {
      socket.destroy();
      reject(err);
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe("ESRCH");
    return false;
  }
}

describe("startNatsServer", () => {
  it("starts on a free port and speaks the NATS protocol", async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
    expect(server.port).not.toBe(4222);
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(isAlive(server.pid)).toBe(true);
    expect(await firstLine(server.port)).toMatch(/^INFO \{/);
    expect(server.output()).toContain("Server is ready");
  });

  it("gives two servers running at once different ports", async () => {
    const [a, b] = await Promise.all([start(), start()]);
    expect(a?.port).not.toBe(b?.port);
    expect(await firstLine(a?.port ?? 0)).toMatch(/^INFO \{/);
    expect(await firstLine(b?.port ?? 0)).toMatch(/^INFO \{/);
  });

  it("passes serverName and extraConfig to the server", async () => {
    const server = await start({ serverName: "sb-test-1", extraConfig: "max_payload: 12345" });
    const info = JSON.parse((await firstLine(server.port)).slice("INFO ".length)) as Record<string, unknown>;
    expect(info.server_name).toBe("sb-test-1");
    expect(info.max_payload).toBe(12345);
    expect(info.jetstream).toBe(true);
  });

  it("can run without JetStream", async () => {
    const server = await start({ jetstream: false });
    expect(server.storeDir).toBeUndefined();
    const info = JSON.parse((await firstLine(server.port)).slice("INFO ".length)) as Record<string, unknown>;
    expect(info.jetstream).toBeUndefined();
  });

  it("stop() closes the port, ends the process and removes its temp dir; it is idempotent", async () => {
    const server = await start();
    const storeDir = server.storeDir as string;
    expect(existsSync(storeDir)).toBe(true);
    await server.stop();
    await expect(firstLine(server.port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect(isAlive(server.pid)).toBe(false);
    expect(existsSync(storeDir)).toBe(false);
    expect(existsSync(dirname(storeDir))).toBe(false);
    await expect(server.stop()).resolves.toBeUndefined();
  });

  it("keeps a store dir the caller gave it", async () => {
    const storeDir = await mkdtemp(join(tmpdir(), "sb-store-"));
    try {
      const server = await start({ storeDir });
      expect(server.storeDir).toBe(storeDir);
      await server.stop();
      expect(existsSync(join(storeDir, "jetstream"))).toBe(true);
    } finally {
      await rm(storeDir, { recursive: true, force: true });
    }
  });

  it("kill() ends the process but leaves the store dir until stop()", async () => {
    const server = await start();
    const storeDir = server.storeDir as string;
    await server.kill();
    expect(isAlive(server.pid)).toBe(false);
    expect(existsSync(storeDir)).toBe(true);
    await server.stop();
    expect(existsSync(storeDir)).toBe(false);
  });

  it("rejects with the server's own output when the config is broken", async () => {
    const err = await startTestNatsServer({ extraConfig: "this is not valid {{{" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const [first, ...rest] = (err as Error).message.split("\n");
    expect(first).toMatch(/exited before it was ready/);
    expect(rest.join("\n")).toMatch(/nats-server: .*Parse error/);
  });

  it("rejects with NatsServerNotInstalledError when the binary is missing", async () => {
    const err = await startTestNatsServer({ bin: "/nonexistent/nats-server" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsServerNotInstalledError);
    expect((err as Error).name).toBe("NatsServerNotInstalledError");
    expect((err as Error).message).toBe(`nats-server not found: ${INSTALL_HINT}`);
    expect(INSTALL_HINT).not.toContain("\n");
  });

  it("times out, kills the process and reports its output when the server never becomes ready", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-fake-nats-"));
    try {
      const bin = join(dir, "nats-server");
      const pidFile = join(dir, "pid");
      await writeFile(bin, `#!/bin/sh\necho $$ > ${pidFile}\necho "fake server stuck" >&2\nexec sleep 60\n`);
      await chmod(bin, 0o755);
      const err = await startTestNatsServer({ bin, startTimeoutMs: 500 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/^nats-server did not become ready within 500 ms\n/);
      expect((err as Error).message).toContain("fake server stuck");
      expect(isAlive(Number(await readFile(pidFile, "utf8")))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("is disposed by `await using`", async () => {
    let pid = 0;
    let storeDir = "";
    {
      await using server = await startTestNatsServer();
      pid = server.pid;
      storeDir = server.storeDir as string;
      expect(isAlive(pid)).toBe(true);
    }
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(storeDir)).toBe(false);
  });
});
