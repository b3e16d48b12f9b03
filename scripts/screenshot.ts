// Regenerates docs/visualizer.png, the README's picture of the call-flow visualizer: a whole
// switchboard on this machine (test/visualizer/stage.ts), two calls, and headless Chromium on the
// page of the one that is live, logged in as their account. Run: npm run screenshot
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH, logIn } from "../test/visualizer/chromium.js";
import { startVizStage } from "../test/visualizer/stage.js";

const OUT = fileURLToPath(new URL("../../docs/visualizer.png", import.meta.url));

async function main(): Promise<void> {
  await using stage = await startVizStage();
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    await stage.placeFinishing();
    const live = await stage.placeParked();
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
    await page.goto(`${stage.api.url}/viz/calls/${live}`);
    await logIn(page, stage.account.sid, stage.account.token);
    await page.locator('#where[data-label="executing-twiml.verb(Pause)"]').waitFor({ timeout: 15_000 });
    // The live step, with the verb it runs and the TwiML document that verb came from.
    await page.locator('#timeline li[data-kind="state"]').last().click();
    await page.evaluate("window.scrollTo(0, 0)");
    await page.screenshot({ path: OUT, fullPage: true });
    stage.hangUp(live);
    process.stdout.write(`wrote ${OUT}\n`);
  } finally {
    await browser.close();
  }
}

await main();
