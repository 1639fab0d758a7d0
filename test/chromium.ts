/**
 * How the tests start Debian's Chromium: headless, as root, with a fresh profile, and without the
 * background connections a closed network refuses (updates, sync, QUIC, first-run pages).
 */
export function chromiumArgs(profile: string, ...rest: string[]): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    `--user-data-dir=${profile}`,
    ...rest,
  ];
}
