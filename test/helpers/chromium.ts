/**
 * Debian's Chromium driven by playwright-core (no browser is ever downloaded), started with the flags
 * this closed network needs (no background connections, no QUIC, no component updates).
 */
import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** A test's skip reason when Chromium is missing (false when it is there). */
export const noChromium: string | false = existsSync(CHROMIUM)
  ? false
  : "skipped: /usr/bin/chromium not found (apt-get install chromium)";

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
