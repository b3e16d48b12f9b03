// `switchboard trunks add|list|remove` and `--trunk` on numbers and accounts, run as the real CLI
// against a real nats-server: what is stored, what is printed (never a password), the exit codes
// (0 done, 1 refused, 2 a wrong option) and a removal refused while a number or account names it.
import { randomBytes } from "node:crypto";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount } from "../../src/admin/accounts.js";
import { numbersBucket } from "../../src/admin/numbers.js";
import { numberKey } from "../../src/model/phone.js";
import { newSid } from "../../src/model/sid.js";
import { type AdminStores, openAdminStores } from "../../src/store/global.js";
import { provisionRegionStreams } from "../../src/store/region.js";
import { outboundTrunkFor, readTrunk } from "../../src/store/trunks.js";
import { runCli } from "../helpers/cli.js";
import { startTestNatsServer } from "../helpers/nats-server.js";
import { setUp, type Teardown } from "../helpers/teardown.js";

const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
const ACCOUNT = newSid("AC");
const NUMBER = "+15551260001";

let env: Awaited<ReturnType<typeof start>>;
let t: Teardown | undefined;
let global: AdminStores;

async function start() {
  return setUp(async (td) => {
    t = td;
    const nats = td.use(await startTestNatsServer());
    const nc = td.add(await connect({ servers: nats.url }), (c) => c.close());
    return { nats, nc, [Symbol.asyncDispose]: () => td.stop() };
  });
}

beforeAll(async () => {
  env = await start();
  global = await openAdminStores(env.nc);
  await provisionRegionStreams(env.nc, "us1");
  await addAccount(global, { sid: ACCOUNT, token: randomBytes(16).toString("hex"), makeDefault: true });
}, 30_000);

afterAll(async () => {
  await t?.stop();
});

const sb = (...args: string[]) => runCli([...args, "--nats", env.nats.url]);

describe("switchboard trunks add|list|remove", () => {
  it("adds a trunk, lists it without its password, and removes it", async () => {
    const added = await sb(
      "trunks",
      "add",
      "carrier-1",
      "--host",
      "sip.carrier.example:5080",
      "--transport",
      "tcp",
      "--username",
      "alice",
      "--password",
      PASSWORD,
      "--from-domain",
      "Example.COM",
      "--inbound-cidr",
      "192.0.2.0/24,198.51.100.7",
      "--inbound-cidr",
      "2001:db8::/32",
    );
    expect(added).toMatchObject({ code: 0, stderr: "" });
    expect(added.stdout).toBe(
      "trunk carrier-1 saved: tcp sip.carrier.example:5080, user alice (password set), from example.com, inbound 192.0.2.0/24 198.51.100.7/32 2001:db8::/32\n",
    );
    expect(await readTrunk(global, "carrier-1")).toMatchObject({
      host: "sip.carrier.example",
      port: 5080,
      transport: "tcp",
      username: "alice",
      password: PASSWORD,
      from_domain: "example.com",
      inbound_cidrs: ["192.0.2.0/24", "198.51.100.7/32", "2001:db8::/32"],
    });

    // The password may come from the environment instead of the process list.
    const fromEnv = await runCli(
      ["trunks", "add", "plain", "--host", "203.0.113.5", "--username", "bob", "--nats", env.nats.url],
      { SWITCHBOARD_TRUNK_PASSWORD: `${PASSWORD}-env` },
    );
    expect(fromEnv).toMatchObject({ code: 0, stderr: "" });
    expect((await readTrunk(global, "plain"))?.password).toBe(`${PASSWORD}-env`);

    const list = await sb("trunks", "list");
    expect(list).toMatchObject({ code: 0, stderr: "" });
    expect(list.stdout.split("\n").filter(Boolean)).toEqual([
      "carrier-1  tcp sip.carrier.example:5080, user alice (password set), from example.com, inbound 192.0.2.0/24 198.51.100.7/32 2001:db8::/32",
      "plain  udp 203.0.113.5:5060, user bob (password set), no inbound networks",
    ]);
    const json = await sb("trunks", "list", "--json");
    expect(json.code).toBe(0);
    const views = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(views.map((v) => [v.name, v.has_password, "password" in v])).toEqual([
      ["carrier-1", true, false],
      ["plain", true, false],
    ]);
    for (const out of [added, fromEnv, list, json]) {
      expect(out.stdout + out.stderr).not.toContain(PASSWORD);
    }

    const removed = await sb("trunks", "remove", "plain");
    expect(removed).toMatchObject({ code: 0, stdout: "trunk plain removed\n", stderr: "" });
    expect(await readTrunk(global, "plain")).toBeUndefined();
    const again = await sb("trunks", "remove", "plain");
    expect(again.code).toBe(1);
    expect(again.stderr).toBe("error 20404: no trunk plain\n");
  });

  it("refuses a name that is taken (exit 1), unless --replace", async () => {
    expect((await sb("trunks", "add", "dup", "--host", "a.example.com")).code).toBe(0);
    const taken = await sb("trunks", "add", "dup", "--host", "b.example.com");
    expect(taken.code).toBe(1);
    expect(taken.stderr).toBe(
      "error 20422: a trunk named dup exists already (remove it first, or add --replace)\n",
    );
    expect((await readTrunk(global, "dup"))?.host).toBe("a.example.com");
    expect((await sb("trunks", "add", "dup", "--host", "b.example.com", "--replace")).code).toBe(0);
    expect((await readTrunk(global, "dup"))?.host).toBe("b.example.com");
  });

  it.each([
    [["Bad_Name", "--host", "x.example.com"], /not a trunk name: "Bad_Name"/],
    [["t", "--host", "sip..example.com"], /not a host name or IP address: "sip\.\.example\.com"/],
    [["t", "--host", "x.example.com:70000"], /not a port \(1-65535\): "70000"/],
    [["t", "--host", "2001:db8::1"], /an IPv6 host goes in brackets/],
    [["t", "--host", "x.example.com", "--transport", "tls"], /Allowed choices are udp, tcp/],
    [
      ["t", "--host", "x.example.com", "--inbound-cidr", "10.0.0.5/24"],
      /host bits set: the network is 10\.0\.0\.0\/24/,
    ],
    [["t", "--host", "x.example.com", "--inbound-cidr", "10.0.0.0/40"], /not a CIDR \(prefix 0-32\)/],
    [["t", "--host", "x.example.com", "--from-domain", "not a domain"], /not a domain/],
    [["t", "--host", "x.example.com", "--username", "u"], /--username and --password go together/],
    [["t"], /required option '--host <host\[:port\]>' not specified/],
  ])("refuses %j as a usage error (exit 2) naming what is wrong", async (args, message) => {
    const res = await sb("trunks", "add", ...args);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe("");
    expect(res.stderr).toMatch(message);
    expect(res.stderr).toMatch(/run "switchboard trunks add --help" for usage/);
    expect(await readTrunk(global, "t")).toBeUndefined();
  });

  it("never echoes a refused password", async () => {
    const res = await sb(
      "trunks",
      "add",
      "t",
      "--host",
      "x.example.com",
      "--username",
      "u",
      "--password",
      `has space ${PASSWORD}`,
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toBe("error 20422: the password must be 1-256 characters, without spaces\n");
    expect(res.stderr).not.toContain(PASSWORD);
  });
});

describe("numbers and accounts name their outbound trunk", () => {
  it("stores --trunk on both, the number's winning, and refuses removing a trunk still named", async () => {
    for (const name of ["acct-trunk", "num-trunk"]) {
      expect((await sb("trunks", "add", name, "--host", `${name}.example.com`)).code).toBe(0);
    }
    const unknown = await sb("accounts", "update", ACCOUNT, "--trunk", "nope");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error 20404: no trunk nope/);

    const second = newSid("AC");
    const added = await sb(
      "accounts",
      "add",
      "--sid",
      second,
      "--token",
      randomBytes(16).toString("hex"),
      "--trunk",
      "acct-trunk",
    );
    expect(added).toMatchObject({ code: 0, stdout: `account ${second} saved, outbound trunk acct-trunk\n` });
    expect((await global.accounts.get(second))?.outbound_trunk).toBe("acct-trunk");
    expect((await sb("accounts", "update", second, "--no-trunk")).code).toBe(0);

    const acct = await sb("accounts", "update", ACCOUNT, "--trunk", "acct-trunk");
    expect(acct).toMatchObject({
      code: 0,
      stdout: `account ${ACCOUNT} updated (media auth off), outbound trunk acct-trunk\n`,
    });
    const num = await sb(
      "numbers",
      "add",
      NUMBER,
      "--region",
      "us1",
      "--voice-url",
      "https://app.example.com/voice",
      "--trunk",
      "num-trunk",
    );
    expect(num.code, num.stderr).toBe(0);
    expect(num.stdout).toMatch(/saved in us1, routed to us1, outbound trunk num-trunk$/m);

    const numbers = await numbersBucket(env.nc, "us1");
    const stored = async () => ({
      number: await numbers.get(numberKey(NUMBER)),
      account: await global.accounts.get(ACCOUNT),
    });
    let now = await stored();
    expect(now.account?.outbound_trunk).toBe("acct-trunk");
    expect(now.number?.outbound_trunk).toBe("num-trunk");
    expect(outboundTrunkFor(now.number, now.account)).toBe("num-trunk");

    // Still named by both: refused, naming who, and the trunk stays.
    for (const [name, who] of [
      ["acct-trunk", `account ${ACCOUNT}`],
      ["num-trunk", `number ${NUMBER} (us1)`],
    ] as const) {
      const refused = await sb("trunks", "remove", name);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe(
        `error 20422: trunk ${name} is still named by ${who}: point them at another trunk (--trunk) or none (--no-trunk) first\n`,
      );
      expect(await readTrunk(global, name)).toBeDefined();
    }

    // Re-adding the number without --trunk keeps its trunk; --no-trunk drops it, so the account's applies.
    expect(
      (await sb("numbers", "add", NUMBER, "--region", "us1", "--voice-url", "https://app.example.com/v2"))
        .code,
    ).toBe(0);
    expect((await stored()).number?.outbound_trunk).toBe("num-trunk");
    const dropped = await sb("numbers", "update", NUMBER, "--no-trunk");
    expect(dropped).toMatchObject({ code: 0, stderr: "" });
    now = await stored();
    expect(now.number).toMatchObject({ outbound_trunk: null, voice_url: "https://app.example.com/v2" });
    expect(outboundTrunkFor(now.number, now.account)).toBe("acct-trunk");
    expect(await sb("trunks", "remove", "num-trunk")).toMatchObject({ code: 0 });

    expect((await sb("accounts", "update", ACCOUNT, "--no-trunk")).code).toBe(0);
    now = await stored();
    expect(now.account).toMatchObject({ outbound_trunk: null, status: "active" });
    expect(outboundTrunkFor(now.number, now.account)).toBeUndefined();
    expect(await sb("trunks", "remove", "acct-trunk")).toMatchObject({ code: 0 });
  });

  it("refuses a number update for a number that has no config, and a malformed --trunk as usage", async () => {
    const missing = await sb("numbers", "update", "+15551269999", "--region", "us1", "--trunk", "x");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error 20404: number \+15551269999 has no config in us1/);
    const bad = await sb("numbers", "update", NUMBER, "--trunk", "Not A Name");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a trunk name/);
  });
});
