// Starts a real plein server on a fresh SQLite database and a real Chromium, for the browser
// tests. BROWSER_TEST_BINARY picks the binary (default: the debug build, built first if needed).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
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
  /** Stops the server and starts it again on the same address and data. */
  restart: () => Promise<void>;
  /** Runs a plein command against the same database. */
  command: (args: string[]) => { status: number | null; stdout: string; stderr: string };
}

/** A data directory of its own; `prepare` runs commands (demo, import) before the server starts. */
export async function startSite(prepare?: (site: Omit<Site, 'url' | 'setupLink' | 'stop' | 'restart'>) => void): Promise<Site> {
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
  let server = await launch(binary, env);
  return {
    url: server.url,
    dataDir,
    setupLink: server.setupLink,
    env,
    binary,
    command,
    restart: async () => {
      await server.stop();
      // The same address, so open pages reconnect to it.
      server = await launch(binary, { ...env, PLEIN_BIND: new URL(server.url).host });
    },
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Starts `plein serve` and waits until it answers (and has printed its setup link, if any). */
async function launch(binary: string, env: NodeJS.ProcessEnv): Promise<{ url: string; setupLink: string | null; stop: () => Promise<void> }> {
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
    ...started,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await exited;
      }
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

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
/** The password of everyone the browser tests create. */
export const PASSWORD = 'correct horse battery';

/** Runs axe on the page: no serious or critical violation. */
export async function axe(page: Page, screen: string) {
  await page.addScriptTag({ content: AXE_SOURCE });
  const result = (await page.evaluate(async () => {
    const run = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<unknown> } }).axe;
    return run.run(document, { resultTypes: ['violations'] });
  })) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
  const serious = result.violations.filter((violation) => ['serious', 'critical'].includes(violation.impact));
  expect(
    serious.map((violation) => `${screen}: ${violation.id} (${violation.impact}) ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`),
  ).toEqual([]);
}

/** Calls the API with the page's session. */
export async function call(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const response = await fetch(path, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, json: text ? JSON.parse(text) : null };
    },
    { method, path, body },
  );
}

/** Signs in on the login page and waits for Home. */
export async function signIn(page: Page, site: Site, email: string) {
  await page.goto(`${site.url}/login`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
}

/** Creates the first admin through the setup link; returns the admin's signed-in page. */
export async function setUpAdmin(browser: Browser, site: Site, admin: { name: string; email: string }): Promise<Page> {
  const page = (await newPage(browser)).page;
  await page.goto(site.setupLink ?? '');
  await page.getByLabel('Your name').fill(admin.name);
  await page.getByLabel('Email address').fill(admin.email);
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
  return page;
}
