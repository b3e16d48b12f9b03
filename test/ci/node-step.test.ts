// .ci/run's Node step (.ci/node.sh), run by bash as CI runs it. On a machine whose node is older
// than 22 it puts Node 24 from its prefix first on the PATH, installing it there with npm only when it
// is not there yet; on a node of 22 or newer it changes nothing. The old machine is a stub `node`
// first on the PATH, and npm a stub that records what it was asked: no network, whatever node runs
// the suite.
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function bash(script: string, env: Record<string, string>) {
  const child = spawn("bash", ["-c", script], { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("exit", (code) => resolve({ code, stdout, stderr })),
  );
}

/** Writes an executable shell script at `path`. */
async function executable(path: string, body: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `#!/bin/sh\n${body}`);
  await chmod(path, 0o755);
  return path;
}

/** A `node` in `dir` that answers .ci/node.sh's two questions (`-v`, `-p <major>`) as Node `major` would. */
function fakeNode(dir: string, major: number): Promise<string> {
  return executable(join(dir, "node"), `case "$1" in -v) echo v${major}.99.0 ;; -p) echo ${major} ;; esac\n`);
}

const STEP = "set -euo pipefail; . .ci/node.sh; command -v node";

describe(".ci/node.sh", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "sb-ci-node-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs the step on a machine whose node is 20, with an `npm` that runs `npmBody`. */
  async function onOldMachine(prefix: string, npmBody: string) {
    const old = await fakeNode(join(dir, "old"), 20);
    const npm = await executable(join(dir, "npm-bin", "npm"), npmBody);
    return bash(STEP, {
      PATH: `${dirname(old)}:${dirname(npm)}:${process.env.PATH ?? ""}`,
      SWITCHBOARD_CI_NODE_PREFIX: prefix,
    });
  }

  it("on a node older than 22, installs Node 24 into its prefix with npm and runs on it", async () => {
    const prefix = join(dir, "prefix");
    // npm, as `npm install --prefix P … node@24` would: P/node_modules/node/bin/node.
    const published = await fakeNode(join(dir, "registry"), 24);
    const installed = join(prefix, "node_modules", "node", "bin");
    const calls = join(dir, "npm-calls");
    const ran = await onOldMachine(
      prefix,
      `echo "$*" >> '${calls}'\nmkdir -p '${installed}'\ncp '${published}' '${installed}/node'\n`,
    );
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    const lines = ran.stdout.trim().split("\n");
    expect(lines[0]).toBe(`node v20.99.0 is older than 22: installing node@24 into ${prefix}`);
    expect(lines.slice(1)).toEqual(["node v24.99.0", join(installed, "node")]);
    expect((await readFile(calls, "utf8")).trim()).toBe(
      `install --prefix ${prefix} --no-audit --no-fund --no-save node@24`,
    );
  });

  it("on a node older than 22, uses the Node already in its prefix without installing again", async () => {
    const prefix = join(dir, "prefix");
    const installed = await fakeNode(join(prefix, "node_modules", "node", "bin"), 24);
    // An npm that fails loudly: with a node in the prefix already, the step must not call it.
    const ran = await onOldMachine(prefix, "echo npm was called >&2\nexit 1\n");
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.stdout.trim().split("\n")).toEqual(["node v24.99.0", installed]);
  });

  it("on Node 22 or newer, changes nothing", async () => {
    const prefix = join(dir, "prefix");
    await fakeNode(join(prefix, "node_modules", "node", "bin"), 24);
    const current = await fakeNode(join(dir, "current"), 22);
    const ran = await bash(STEP, {
      PATH: `${dirname(current)}:${process.env.PATH ?? ""}`,
      SWITCHBOARD_CI_NODE_PREFIX: prefix,
    });
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.stdout.trim().split("\n")).toEqual(["node v22.99.0", current]);
  });
});
