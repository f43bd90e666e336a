import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's headless Chromium (scripts/setup-chromium.sh), or $CHROMIUM. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Run headless Chromium with its own throw-away profile; resolves with what it printed (e.g. --dump-dom). */
export function chromium(args: string[]): Promise<string> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with "bash scripts/setup-chromium.sh" (Debian package chromium), or set CHROMIUM`);
  return (async () => {
    const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
    try {
      const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`];
      return await new Promise<string>((resolve, reject) => {
        execFile(CHROMIUM, [...flags, ...args], { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, errText) => {
          if (err) reject(new Error(`chromium failed: ${err.message}\n${errText.slice(-2000)}`));
          else resolve(stdout);
        });
      });
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
  })();
}
