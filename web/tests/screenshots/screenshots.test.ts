// Refreshes docs/screenshots/ from a demo company of 2,000 people: `npm run screenshots` (reactions
// and the bell are emoji: install `fonts-noto-color-emoji` first or they show as boxes).

import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newPage, openMenu, startSite, type Site } from '../browser/harness';

const OUT = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));

describe('screenshots', () => {
  let site: Site;
  let browser: Browser;
  let login = { email: '', password: '' };

  beforeAll(async () => {
    site = await startSite(({ command }) => {
      const demo = command(['demo', '--people', '2000', '--seed', '7', '--no-serve']);
      if (demo.status !== 0) throw new Error(demo.stderr);
      const first = /^\s+(\S+@\S+)\s+(\S+)$/m.exec(demo.stdout);
      login = { email: first?.[1] ?? '', password: first?.[2] ?? '' };
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  async function signIn(page: Page) {
    await page.goto(`${site.url}/login`);
    await page.getByLabel(/Email address|E-mailadres/).fill(login.email);
    await page.getByLabel(/^(Password|Wachtwoord)$/).fill(login.password);
    await page.getByRole('button', { name: /Log in|Inloggen/ }).click();
    await page.locator('#people-search').waitFor();
  }

  it('takes the main screens', async () => {
    const { context, page } = await newPage(browser);
    await signIn(page);
    const box = page.getByRole('combobox', { name: 'Search colleagues' });
    await box.pressSequentially('jansn', { delay: 30 });
    await page.getByRole('listbox').waitFor();
    await page.screenshot({ path: `${OUT}typeahead.png` });

    await page.keyboard.press('Enter');
    await page.waitForURL(/\/search/);
    await page.getByRole('status').filter({ hasText: /colleague/ }).waitFor();
    await page.screenshot({ path: `${OUT}search.png` });

    await page.locator('.card-name').first().click();
    await page.getByRole('heading', { name: /Direct reports|Peers/ }).first().waitFor();
    await page.screenshot({ path: `${OUT}profile.png`, fullPage: true });

    // The social intranet: home, the group directory, a group, an announcement's statistics.
    await page.goto(`${site.url}/`);
    await page.locator('article.post').first().waitFor();
    await page.screenshot({ path: `${OUT}home.png` });
    await page.goto(`${site.url}/groups`);
    await page.locator('.group-grid li').first().waitFor();
    await page.screenshot({ path: `${OUT}groups.png` });
    await page.locator('.group-grid li a').first().click();
    await page.locator('article.post').first().waitFor();
    await page.screenshot({ path: `${OUT}group.png` });
    await page.goto(`${site.url}/announcements`);
    await page.getByRole('row', { name: /Nieuwe thuiswerkregeling/ }).getByRole('link', { name: 'Statistics' }).click();
    await page.getByRole('heading', { level: 1, name: 'Statistics' }).waitFor();
    await page.screenshot({ path: `${OUT}announcement-stats.png`, fullPage: true });

    // Chat: the demo's conversations, one of them unread.
    await page.goto(`${site.url}/chat`);
    await page.locator('.conversation-link').first().click();
    await page.locator('.message-list .message').first().waitFor();
    await page.screenshot({ path: `${OUT}chat.png` });

    await page.goto(`${site.url}/admin`);
    await page
      .getByLabel('CSV file')
      .setInputFiles({
        name: 'people.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(
          'employee_id;given_name;family_name;email;title;department;location;manager_employee_id;phone;skills;languages\n' +
            'X1;Noor;van den Broek;noor@example;Designer;Marketing;Zwolle;NOPE;;;\n',
        ),
      });
    await page.getByRole('button', { name: 'Check file (dry run)' }).click();
    await page.getByRole('table', { name: 'Rows with problems' }).waitFor();
    await page.screenshot({ path: `${OUT}admin-import.png` });
    const invitations = page.getByRole('region', { name: 'Invitations and mail' });
    await invitations.getByRole('status').first().waitFor();
    await invitations.screenshot({ path: `${OUT}admin-invitations.png` });
    await context.close();

    const forgot = await newPage(browser, { width: 375, locale: 'nl-NL' });
    await forgot.page.goto(`${site.url}/forgot`);
    await forgot.page.getByRole('heading', { level: 1, name: 'Wachtwoord vergeten?' }).waitFor();
    await forgot.page.screenshot({ path: `${OUT}forgot-375-nl.png` });
    await forgot.context.close();

    const phone = await newPage(browser, { width: 375, locale: 'nl-NL' });
    await signIn(phone.page);
    await openMenu(phone.page);
    await phone.page.getByRole('link', { name: 'Mijn profiel' }).click();
    await phone.page.getByRole('heading', { name: 'Directe medewerkers', exact: false }).waitFor();
    await phone.page.screenshot({ path: `${OUT}profile-375-nl.png`, fullPage: true });
    await phone.page.getByRole('navigation').getByRole('link', { name: 'Start' }).click();
    await phone.page.locator('article.post').first().waitFor();
    await phone.page.screenshot({ path: `${OUT}home-375-nl.png` });
    await phone.page.goto(`${site.url}/chat`);
    await phone.page.locator('.conversation-link').first().click();
    await phone.page.locator('.message-list .message').first().waitFor();
    await phone.page.screenshot({ path: `${OUT}chat-375-nl.png` });
    await phone.page.goto(`${site.url}/settings`);
    await phone.page.getByRole('region', { name: 'Waar je bent ingelogd' }).getByRole('listitem').first().waitFor();
    await phone.page.screenshot({ path: `${OUT}settings-375-nl.png`, fullPage: true });
    await phone.context.close();
    expect(login.email).toContain('@');
  });
});
