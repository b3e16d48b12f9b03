#!/usr/bin/env node
// The CLI entry: runs the compiled TypeScript (npm ci / npm start build it into dist/).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
if (!existsSync(main)) {
  process.stderr.write("switchboard is not built yet: run `npm run build` (npm ci does it for you)\n");
  process.exit(1);
}
await import(main);
