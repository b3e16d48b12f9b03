// Runs an external program (sox, espeak-ng) without a shell, on a whole input: what the SIP gateway's
// media conversion and the api's MP3 recordings share.
import { fail } from "../errors/switchboard-error.js";
import { spawnTied } from "../process/tied-spawn.js";

/**
 * Runs a program with `input` on stdin (and `env` added to this process's environment); resolves
 * with its stdout, rejects (90011) if it fails or, given `timeoutMs`, is still running then (killed).
 */
export function run(
  cmd: string,
  args: readonly string[],
  input: Uint8Array | string,
  env?: Record<string, string>,
  timeoutMs?: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Tied to this process: a gateway or api that is killed leaves no converter running.
    const child = spawnTied(cmd, args, env ? { env: { ...process.env, ...env } } : {});
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => {
      if (err.length < 2000) err += c.toString();
    });
    child.on("error", (e) => reject(fail("mediaConversionFailed", `${cmd}: ${e.message}`, { cause: e })));
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill("SIGKILL");
            reject(fail("mediaConversionFailed", `${cmd} took over ${timeoutMs} ms`));
          }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else reject(fail("mediaConversionFailed", `${cmd} exited ${code}: ${err.split("\n")[0] ?? ""}`));
    });
    // A program that exits early closes its stdin; the EPIPE is reported by its exit code instead.
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}
