import os from 'node:os';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { WEB_DIST } from '../../src/server/web';

/** Debian's Chromium (`apt-get install -y chromium`); playwright-core never downloads a browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/**
 * The README's screenshots are refreshed by `UPDATE_SCREENSHOTS=1 npm test`; an ordinary run
 * writes its screenshots to the temp directory, so that testing leaves the work tree clean.
 */
export const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? path.resolve(__dirname, '../../docs/screenshots') : path.join(os.tmpdir(), 'foliograph-screenshots');

/**
 * `describe` when Chromium is installed; otherwise the suite is skipped and the run says why
 * (like the PostgreSQL suites in global-setup.ts).
 */
export function describeInBrowser(title: string, body: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(title, body);
    return;
  }
  process.stdout.write(
    `\n[foliograph] ${CHROMIUM} is missing: SKIPPING the browser tests (${title}).\n` +
      '[foliograph] Install Debian\'s Chromium (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH to run them.\n\n',
  );
  describe.skip(title, body);
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(path.join(WEB_DIST, 'index.html')) || !existsSync(path.join(WEB_DIST, 'graphiql.html'))) {
    throw new Error(`the web assets are not built (${WEB_DIST}): run \`npm run generate\` (npm install runs it)`);
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Without the background-networking flags Chromium keeps reaching for Google's hosts, which a
  // machine without internet refuses many times a second.
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** Polls `read` until `ok` holds for its value; fails with the last value seen after `timeoutMs`. */
export async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch {
      // Not there yet.
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)?.slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
