// `switchboard accounts list|get`: an admin recovers an account's token (up's default account after
// a restart prints only its sid), as a table, one record, or JSON.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { newSid } from "../../src/model/sid.js";
import { runCli } from "../helpers/cli.js";
import { startTestNatsServer } from "../helpers/nats-server.js";

describe("switchboard accounts list|get", () => {
  it("prints every account with its token, marks the default, and gets one by sid", async () => {
    await using nats = await startTestNatsServer();
    const natsFlag = ["--nats", nats.url];
    const main = { sid: newSid("AC"), token: randomBytes(16).toString("hex") };
    const other = { sid: newSid("AC"), token: randomBytes(16).toString("hex") };
    for (const [a, flags] of [
      [main, ["--default"]],
      [other, []],
    ] as const) {
      const added = await runCli([
        "accounts",
        "add",
        "--sid",
        a.sid,
        "--token",
        a.token,
        ...flags,
        ...natsFlag,
      ]);
      expect(added.code).toBe(0);
    }

    const list = await runCli(["accounts", "list", ...natsFlag]);
    expect(list).toMatchObject({ code: 0, stderr: "" });
    const lines = list.stdout.split("\n").filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines).toContain(`* ${main.sid}  token ${main.token}  switchboard ${main.sid.slice(0, 8)}`);
    expect(lines).toContain(`  ${other.sid}  token ${other.token}  switchboard ${other.sid.slice(0, 8)}`);

    const json = JSON.parse((await runCli(["accounts", "list", "--json", ...natsFlag])).stdout) as {
      sid: string;
      auth_token: string;
      default: boolean;
    }[];
    expect(json.find((a) => a.sid === main.sid)).toMatchObject({ auth_token: main.token, default: true });

    const one = await runCli(["accounts", "get", other.sid, ...natsFlag]);
    expect(one).toMatchObject({ code: 0, stderr: "" });
    expect(one.stdout).toMatch(new RegExp(`^token   ${other.token}$`, "m"));

    const missing = await runCli(["accounts", "get", newSid("AC"), ...natsFlag]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error 20404: no account AC/);

    const help = await runCli(["accounts", "get", "--help"]);
    expect(help.stdout).toMatch(/prints secrets/);
  });
});
