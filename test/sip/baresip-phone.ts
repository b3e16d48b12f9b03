// baresip (Debian's, headless) as a softphone: it sends a WAV as its microphone (aufile), writes what
// it heard (sndfile's dump-…-dec.wav), and dials when told over its ctrl_tcp socket (netstring JSON).
// Its SIP account may carry a password, which it gives when challenged (libre's digest client).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeSipPort } from "./harness.js";

export interface BaresipPhone extends AsyncDisposable {
  /** Everything baresip printed so far. */
  output(): string;
  /** Resolves once baresip has printed something matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Dials `uri` from its account. */
  dial(uri: string): Promise<void>;
  /** The 16-bit samples it heard on its (only) call, once the call is over. */
  heard(): Promise<Int16Array>;
}

export async function startBaresip(opts: {
  /** The loopback address it listens and sends from (not the gateway's: the sip package's quirk). */
  address: string;
  /** Its account line, e.g. `<sip:alice@127.0.0.1:5060>;auth_pass=…`; regint and PCMU are added. */
  account: string;
  /** Whether it registers (every 60 s) with its account's host; else it never does. */
  register?: boolean;
  /** What it sends: a 16-bit mono 8 kHz WAV's bytes. */
  microphone: Uint8Array;
}): Promise<BaresipPhone> {
  const dir = await mkdtemp(join(tmpdir(), "sb-baresip-"));
  const sipPort = await freeSipPort(opts.address);
  const ctrlPort = await freeSipPort("127.0.0.1");
  await writeFile(join(dir, "microphone.wav"), opts.microphone);
  await writeFile(
    join(dir, "config"),
    [
      "poll_method poll",
      `sip_listen ${opts.address}:${sipPort}`,
      `net_interface ${opts.address}`,
      `audio_source aufile,${join(dir, "microphone.wav")}`,
      `audio_player aufile,${join(dir, "player.wav")}`,
      "module_path /usr/lib/baresip/modules",
      ...["g711", "aufile", "sndfile", "account", "menu", "ctrl_tcp"].map((m) => `module ${m}.so`),
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      `snd_path ${dir}`,
      "",
    ].join("\n"),
  );
  await writeFile(
    join(dir, "accounts"),
    `${opts.account};regint=${opts.register ? 60 : 0};audio_codecs=PCMU\n`,
  );

  const child: ChildProcess = spawn("baresip", ["-f", dir], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const waiters = new Set<() => void>();
  const take = (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters) w();
  };
  child.stdout?.on("data", take);
  child.stderr?.on("data", take);
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  // Not installed, or not runnable: said, rather than an unhandled 'error'.
  child.once("error", (err) => take(Buffer.from(`\ncannot run baresip: ${err.message}\n`)));

  const waitFor = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(out)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`baresip did not print ${pattern} within ${timeoutMs} ms:\n${out.slice(-3000)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitFor(/baresip is ready/);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    output: () => out,
    waitFor,
    dial: (uri) => command(ctrlPort, { command: "dial", params: uri, token: "dial" }),
    heard: async () => {
      const dump = (await readdir(dir)).find((f) => f.endsWith("-dec.wav"));
      if (!dump) throw new Error(`baresip wrote no dump-…-dec.wav:\n${out.slice(-3000)}`);
      const wav = await readFile(join(dir, dump));
      return new Int16Array(new Uint8Array(wav.subarray(44)).buffer);
    },
    [Symbol.asyncDispose]: stop,
  };
}

/** Sends one ctrl_tcp command (a netstring of JSON) and waits for its answer. */
function command(port: number, body: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const json = JSON.stringify(body);
    const socket = connect(port, "127.0.0.1", () => socket.write(`${Buffer.byteLength(json)}:${json},`));
    socket.setTimeout(5_000, () => socket.destroy(new Error("baresip's ctrl_tcp did not answer")));
    socket.once("data", () => {
      socket.end();
      resolve();
    });
    socket.once("error", reject);
  });
}
