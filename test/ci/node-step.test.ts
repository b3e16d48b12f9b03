// .ci/run's Node step (.ci/node.sh), run by bash as CI runs it: on a machine whose node is older than
// 22 it puts the Node from its prefix (Node 24) first on the PATH (installing it there only when it is not
// there yet: this test gives it one, so it needs no network); on a newer node it changes nothing.
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

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

describe(".ci/node.sh", () => {
  it("runs npm's steps on Node 22 or newer", async () => {
    const prefix = await mkdtemp(join(tmpdir(), "sb-ci-node-"));
    try {
      // What `npm install --prefix P node@24` leaves: P/node_modules/node/bin/node.
      const bin = join(prefix, "node_modules", "node", "bin");
      await mkdir(bin, { recursive: true });
      const stub = join(bin, "node");
      await writeFile(stub, '#!/bin/sh\ncase "$1" in -v) echo v24.99.0 ;; -p) echo 24 ;; esac\n');
      await chmod(stub, 0o755);
      // The machine's node first on the PATH, as on a fresh CI machine.
      const path = `${dirname(process.execPath)}:${process.env.PATH ?? ""}`;
      const ran = await bash("set -euo pipefail; . .ci/node.sh; command -v node", {
        PATH: path,
        SWITCHBOARD_CI_NODE_PREFIX: prefix,
      });
      expect(ran.stderr).toBe("");
      expect(ran.code).toBe(0);
      const [said, chosen] = ran.stdout.trim().split("\n");
      if (Number(process.versions.node.split(".")[0]) < 22) {
        expect(said).toBe("node v24.99.0");
        expect(chosen).toBe(stub);
      } else {
        expect(said).toBe(`node ${process.version}`);
        expect(chosen).toBe(process.execPath);
      }
    } finally {
      await rm(prefix, { recursive: true, force: true });
    }
  });
});
