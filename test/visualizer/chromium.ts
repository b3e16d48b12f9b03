// Debian's chromium, headless, as the visualizer's tests and screenshot script drive it, and the
// visualizer's login form filled in as a user would.
import type { Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Logs a page in through the visualizer's login form; resolves on the page the form goes on to. */
export async function logIn(page: Page, user: string, token: string): Promise<void> {
  await page.locator("form#login").waitFor();
  await page.locator("#user").fill(user);
  await page.locator("#token").fill(token);
  await page.locator('form#login button[type="submit"]').click();
  await page.waitForURL((url) => url.pathname !== "/viz/login");
}
