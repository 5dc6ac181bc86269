// A real browser for the playground tests: Debian's Chromium (installed by scripts/install-tools.sh),
// driven by playwright-core (which downloads no browser of its own) through executablePath.

import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Chromium's binary: CHROMIUM, else Debian's. */
export function chromiumPath(): string {
  const candidates = [process.env['CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('Chromium is not installed: bash scripts/install-tools.sh installs Debian\'s chromium (or set CHROMIUM to a Chromium binary)');
  return found;
}

export function launchChromium(): Promise<Browser> {
  // Chromium's sandbox refuses to run as root (CI runs as root).
  return chromium.launch({ executablePath: chromiumPath(), args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}
