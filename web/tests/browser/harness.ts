// Starts a real plein server on a fresh SQLite database and a real Chromium, for the browser
// tests. BROWSER_TEST_BINARY picks the binary (default: the debug build, built first if needed).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function pleinBinary(): string {
  if (process.env.BROWSER_TEST_BINARY) return resolve(process.env.BROWSER_TEST_BINARY);
  const build = spawnSync('cargo', ['build', '-p', 'plein-server', '--bin', 'plein'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new Error('cargo build of plein failed');
  return join(ROOT, 'target', 'debug', 'plein');
}

export interface Site {
  url: string;
  dataDir: string;
  /** The first-run link plein printed, if it printed one. */
  setupLink: string | null;
  env: NodeJS.ProcessEnv;
  binary: string;
  stop: () => Promise<void>;
  /** Runs a plein command against the same database. */
  command: (args: string[]) => { status: number | null; stdout: string; stderr: string };
}

/** A data directory of its own; `prepare` runs commands (demo, import) before the server starts. */
export async function startSite(prepare?: (site: Omit<Site, 'url' | 'setupLink' | 'stop'>) => void): Promise<Site> {
  const binary = pleinBinary();
  const dataDir = mkdtempSync(join(tmpdir(), 'plein-browser-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PLEIN_DATA_DIR: dataDir,
    PLEIN_DATABASE_URL: `sqlite://${join(dataDir, 'plein.db')}?mode=rwc`,
    // Port 0: the server takes a free port and logs the address it serves on.
    PLEIN_BIND: '127.0.0.1:0',
    PLEIN_LOG: 'warn,plein_server::app=info',
    NO_COLOR: '1',
  };
  const command = (args: string[]) => {
    const run = spawnSync(binary, args, { env, encoding: 'utf8' });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  };
  prepare?.({ dataDir, env, binary, command });
  const child: ChildProcess = spawn(binary, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const started = await new Promise<{ url: string; setupLink: string | null }>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`plein did not start:\n${output}`)), 120_000);
    const check = async () => {
      const text = output.replace(/\x1b\[[0-9;]*m/g, '');
      const serving = /serving address=(\S+)/.exec(text);
      if (serving) {
        const url = `http://${serving[1]}`;
        try {
          const ready = await fetch(`${url}/readyz`);
          // Log lines are written by a background writer and may trail the first answers: when
          // setup is still needed, wait for its link to show up in the output too.
          const setup = ready.ok ? ((await (await fetch(`${url}/api/v1/setup`)).json()) as { needed: boolean }) : null;
          const link = /(http:\/\/\S+\/setup\?token=[\w-]+)/.exec(text);
          if (setup && (!setup.needed || link)) {
            clearTimeout(timer);
            done({ url, setupLink: link?.[1] ?? null });
            return;
          }
        } catch {
          // not answering yet
        }
      }
      setTimeout(check, 50);
    };
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code: number | null) => fail(new Error(`plein exited with ${code}:\n${output}`)));
    void check();
  });
  return {
    url: started.url,
    dataDir,
    setupLink: started.setupLink,
    env,
    binary,
    command,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

export async function newPage(browser: Browser, options: { width?: number; locale?: string } = {}) {
  const context: BrowserContext = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: 900 },
    locale: options.locale ?? 'en-GB',
    // axe-core is injected as an inline script, which the server's CSP rightly refuses.
    bypassCSP: true,
  });
  const page: Page = await context.newPage();
  return { context, page };
}

export function writeCsv(dir: string, name: string, rows: string[][]): string {
  const path = join(dir, name);
  writeFileSync(path, rows.map((row) => row.map(csvField).join(',')).join('\n') + '\n');
  return path;
}

function csvField(value: string): string {
  return /[",\n;]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Opens the avatar menu (profile, admin, language, log out) unless it is open. */
export async function openMenu(page: Page): Promise<void> {
  const menu = page.locator('details.menu');
  if ((await menu.getAttribute('open')) === null) await menu.locator('summary').click();
}
