// The page's static files, served from the source tree (src/visualizer/public): they are plain
// HTML, CSS and browser JavaScript, so there is nothing to build, and the same path works when the
// api runs from dist/ after `npm run build` and when tests run the TypeScript directly.
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** The package root: the nearest folder above this module that holds package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the switchboard package root");
    dir = up;
  }
  return dir;
}

export interface Asset {
  type: string;
  body: Buffer;
}

/** Every file of the public folder, read once; only these names are ever served. */
export async function loadAssets(): Promise<Map<string, Asset>> {
  const dir = join(packageRoot(), "src", "visualizer", "public");
  const assets = new Map<string, Asset>();
  for (const name of await readdir(dir)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { type, body: await readFile(join(dir, name)) });
  }
  return assets;
}
