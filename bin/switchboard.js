#!/usr/bin/env node
// The CLI entry: runs the compiled TypeScript (npm ci / npm start build it into dist/).
import { existsSync } from "node:fs";

// File URLs, not paths: import() takes a path only where it reads as a URL (not on Windows).
const dist = (path) => new URL(`../dist/src/${path}`, import.meta.url);
const main = dist("cli/main.js");
if (!existsSync(main)) {
  process.stderr.write("switchboard is not built yet: run `npm run build` (npm ci does it for you)\n");
  process.exit(1);
}
// A service (up, edge, region) starts again in place with the V8 flags it needs; this returns otherwise.
(await import(dist("process/service-flags.js").href)).startWithServiceFlags();
await import(main.href);
