// Mail in a real browser, with a real SMTP server (tests/servers/smtp.mjs): an admin invites a
// department, the invited person follows the mailed link and chooses a password; someone who
// forgot theirs asks for a link on the login page and resets it. Dutch and English, axe-clean.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { axe, call, launchBrowser, newPage, openMenu, PASSWORD, setUpAdmin, startSite, type Site } from './harness';

const SERVERS = fileURLToPath(new URL('../../../tests/servers', import.meta.url));
const ADMIN = { name: 'Femke Admin', email: 'femke.admin@plein.example' };

interface Mail {
  to: string[];
  raw: string;
}

/** The SMTP server and the mails it received, in order. */
class Smtp {
  readonly mails: Mail[] = [];
  private waiting: (() => void)[] = [];
  constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<Smtp> {
    if (!existsSync(`${SERVERS}/node_modules/smtp-server`)) {
      const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--silent'], { cwd: SERVERS, stdio: 'inherit' });
      if (install.status !== 0) throw new Error('npm ci in tests/servers failed');
    }
    const child = spawn('node', [`${SERVERS}/smtp.mjs`], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    let smtp: Smtp | null = null;
    return new Promise((resolve, reject) => {
      child.on('exit', () => reject(new Error('the SMTP server ended')));
      lines.on('line', (line) => {
        const value = JSON.parse(line) as { port?: number; to?: string[]; raw?: string };
        if (value.port !== undefined) {
          smtp = new Smtp(value.port, child);
          resolve(smtp);
        } else if (smtp) {
          smtp.mails.push({ to: value.to ?? [], raw: value.raw ?? '' });
          for (const wake of smtp.waiting.splice(0)) wake();
        }
      });
    });
  }

  /** The first mail to `address` received from `index` on, once it arrives. */
  async mailTo(address: string, index = 0): Promise<Mail> {
    for (;;) {
      const found = this.mails.slice(index).find((mail) => mail.to.includes(address));
      if (found) return found;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  stop() {
    this.child.kill();
  }
}

/** The link to `page` in a mail's text (quoted-printable undone). */
function linkIn(mail: Mail, page: string): string {
  const text = mail.raw.replace(/=\r\n/g, '').replace(/=3D/g, '=');
  const match = new RegExp(`https?://[^\\s"<]+/${page}\\?token=[A-Za-z0-9_-]+`).exec(text);
  if (!match) throw new Error(`no /${page} link in the mail`);
  return match[0];
}

describe('mail', () => {
  let smtp: Smtp;
  let site: Site;
  let browser: Browser;
  let admin: Page;

  beforeAll(async () => {
    smtp = await Smtp.start();
    site = await startSite(({ env }) => {
      env.PLEIN_SMTP__HOST = '127.0.0.1';
      env.PLEIN_SMTP__PORT = String(smtp.port);
      env.PLEIN_SMTP__TLS = 'none';
      env.PLEIN_SMTP__FROM = 'Plein <plein@plein.example>';
    });
    browser = await launchBrowser();
    admin = await setUpAdmin(browser, site, ADMIN);
    const csv =
      'employee_id,given_name,family_name,email,title,department,location,manager_employee_id,phone,skills,languages\n' +
      'E1,Noor,van Dam,noor@plein.example,,Sales,Utrecht,,,,\n';
    const imported = await admin.evaluate(async (body) => {
      const response = await fetch('/api/v1/admin/people/import', { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body });
      return response.status;
    }, csv);
    expect(imported).toBe(200);
  });

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
    smtp?.stop();
  });

  it('invites a department from the admin page and the invited person chooses a password', async () => {
    await openMenu(admin);
    await admin.getByRole('link', { name: 'Admin' }).click();
    const panel = admin.getByRole('region', { name: 'Invitations and mail' });
    await expect.poll(() => panel.getByRole('status').first().textContent()).toContain('Mail goes out through 127.0.0.1');
    await panel.getByLabel('Department').fill('Sales');
    await panel.getByRole('button', { name: 'Invite this department' }).click();
    await expect.poll(() => panel.getByText(/1 invited/).count()).toBe(1);
    await axe(admin, 'admin with invitations');

    const mail = await smtp.mailTo('noor@plein.example');
    const link = linkIn(mail, 'welcome');
    expect(link.startsWith(site.url)).toBe(true);
    const { context, page } = await newPage(browser, { width: 375 });
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Welcome to Plein' }).waitFor();
    await axe(page, 'welcome');
    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('The same password again').fill('not the same one at all');
    await page.getByRole('button', { name: 'Save password' }).click();
    await page.getByText('The two passwords are not the same.').waitFor();
    await page.getByLabel('The same password again').fill(PASSWORD);
    await page.getByRole('button', { name: 'Save password' }).click();
    await page.getByText('Your password is saved. Log in with it.').waitFor();
    await page.goto(`${site.url}/login`);
    await page.getByLabel('Email address').fill('noor@plein.example');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    // The link worked once.
    await page.goto(link);
    await page.getByLabel('New password').fill('another long password');
    await page.getByLabel('The same password again').fill('another long password');
    await page.getByRole('button', { name: 'Save password' }).click();
    await page.getByText(/This link does not work any more/).waitFor();
    await context.close();
  });

  it('resets a forgotten password in Dutch through the mailed link', async () => {
    const { context, page } = await newPage(browser, { locale: 'nl-NL' });
    const seen = smtp.mails.length;
    await page.goto(`${site.url}/login`);
    await page.getByRole('link', { name: 'Wachtwoord vergeten?' }).click();
    await page.getByRole('heading', { level: 1, name: 'Wachtwoord vergeten?' }).waitFor();
    await axe(page, 'forgot password');
    await page.getByLabel('E-mailadres').fill(ADMIN.email);
    await page.getByRole('button', { name: 'Mail mij een link' }).click();
    await page.getByText(/er een link onderweg/).waitFor();

    const mail = await smtp.mailTo(ADMIN.email, seen);
    await page.goto(linkIn(mail, 'reset'));
    await page.getByRole('heading', { level: 1, name: 'Kies een nieuw wachtwoord' }).waitFor();
    await axe(page, 'reset');
    await page.getByLabel('Nieuw wachtwoord', { exact: true }).fill('een nieuw wachtwoord voor femke');
    await page.getByLabel('Nogmaals hetzelfde wachtwoord').fill('een nieuw wachtwoord voor femke');
    await page.getByRole('button', { name: 'Wachtwoord opslaan' }).click();
    await page.getByText('Je wachtwoord is opgeslagen. Log ermee in.').waitFor();
    // The admin's open session ended with the reset.
    expect((await call(admin, 'GET', '/api/v1/me')).status).toBe(401);
    await context.close();
  });
});
