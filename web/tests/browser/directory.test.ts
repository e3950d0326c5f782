// The directory in a real browser: first-run setup, login, finding colleagues by a misspelt
// surname and without its particle, the profile and org chart, switching language, and an
// accessibility check of every screen, at desktop width and at 375 px.

import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { axe, launchBrowser, newPage, openMenu, startSite, writeCsv, type Site } from './harness';

// A 300 × 200 PNG (a plain colour), made here so the test needs no fixture file.
const PHOTO = makePng(300, 200);

function makePng(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = (crcTable[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, 0x5a)]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function csvBuffer(rows: string[][]): Buffer {
  return Buffer.from(rows.map((row) => row.map((field) => (/[",;\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field)).join(',')).join('\n') + '\n');
}

const ADMIN = { name: 'Femke Admin', email: 'femke.admin@plein.example', password: 'correct horse battery' };
const HEADER = [
  'employee_id',
  'given_name',
  'family_name',
  'email',
  'title',
  'department',
  'location',
  'manager_employee_id',
  'phone',
  'skills',
  'languages',
];
const PEOPLE = [
  ['E1', 'Marieke', 'de Vries', 'marieke.devries@plein.example', 'Director', 'Network', 'Den Haag', '', '+31 70 123 4567', 'Strategy', 'Dutch;English'],
  ['E2', 'Sanne', 'van Rijnsoever', 'sanne.vanrijnsoever@plein.example', 'Network Engineer', 'Network', 'Amsterdam', 'E1', '+31 20 765 4321', 'Cisco;Rust', 'Dutch'],
  ['E3', 'Pieter', 'Dijkstra', 'pieter.dijkstra@plein.example', 'Network Engineer', 'Network', 'Groningen', 'E1', '', 'Cisco', 'Dutch'],
  ['E4', 'Ayşe', 'Öztürk', 'ayse.ozturk@plein.example', 'Data Analyst', 'Finance', 'Rotterdam', 'E2', '', 'Python;Excel', 'Turkish;Dutch'],
  ['E5', 'Joris', 'in \u2019t Veld', 'joris.intveld@plein.example', 'Engineer', 'IT', 'Utrecht', 'E2', '', 'Kubernetes', 'Dutch'],
];

/** GETs a JSON API path with the page's session. */
async function api(page: Page, path: string) {
  return page.evaluate(async (url) => (await fetch(url)).json(), path);
}

async function typeaheadTyping(page: Page, text: string) {
  const box = page.getByRole('combobox', { name: /search colleagues|collega’s zoeken/i });
  await box.fill('');
  await box.pressSequentially(text, { delay: 20 });
}

async function typeahead(page: Page, text: string) {
  const box = page.getByRole('combobox', { name: /search colleagues|collega’s zoeken/i });
  await box.fill('');
  await box.pressSequentially(text, { delay: 20 });
  await page.getByRole('listbox').waitFor();
}

describe('directory in the browser', () => {
  let site: Site;
  let browser: Browser;

  beforeAll(async () => {
    site = await startSite();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  it('walks through setup, login, search, profile, org chart and language', async () => {
    expect(site.setupLink).not.toBeNull();
    const { context, page } = await newPage(browser);

    // First run: the printed link opens the setup page.
    await page.goto(site.setupLink ?? '');
    await page.getByRole('heading', { name: 'Welcome to Plein' }).waitFor();
    await axe(page, 'setup');
    await page.getByLabel('Your name').fill(ADMIN.name);
    await page.getByLabel('Email address').fill(ADMIN.email);
    await page.getByLabel(/^Password/).fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create admin account' }).click();
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();

    // HR data arrives through the import; the running server picks it up from the outbox.
    const csv = writeCsv(site.dataDir, 'people.csv', [HEADER, ...PEOPLE]);
    const imported = site.command(['import', 'people', csv]);
    expect(imported.status, imported.stderr).toBe(0);

    // Log out and back in.
    await openMenu(page);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You are logged out.').waitFor();
    await axe(page, 'login');
    await page.getByLabel('Email address').fill(ADMIN.email);
    await page.getByLabel('Password').fill('wrong password!');
    await page.getByRole('button', { name: 'Log in' }).click();
    // The client's own words for the server's `invalid_credentials`.
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('The email address or password is wrong.');
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    await axe(page, 'home');

    // A misspelt surname, found as you type, the matched start highlighted.
    await expect
      .poll(async () => {
        await typeahead(page, 'dijkstar');
        return page.getByRole('listbox').getByRole('option').allTextContents();
      })
      .toEqual([expect.stringContaining('Pieter Dijkstra')]);
    // The surname without its particle, and with IJ typed as Y.
    await typeahead(page, 'rynsoever');
    expect(await page.getByRole('listbox').getByRole('option').first().textContent()).toContain('Sanne van Rijnsoever');
    expect(await page.locator('[role=option] mark').first().textContent()).toBe('Rijnsoever');
    await axe(page, 'typeahead');

    // Keyboard: arrow down and Enter open the profile.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Sanne van Rijnsoever' }).waitFor();
    expect(await page.getByRole('link', { name: 'sanne.vanrijnsoever@plein.example' }).getAttribute('href')).toBe(
      'mailto:sanne.vanrijnsoever@plein.example',
    );
    expect(await page.getByRole('link', { name: '+31 20 765 4321' }).getAttribute('href')).toBe('tel:+31207654321');
    await page.getByRole('heading', { name: /Direct reports \(2\)/ }).waitFor();
    await axe(page, 'profile');

    // Up the chain through the breadcrumb, down again through the reports.
    await page.getByRole('navigation', { name: 'Reports to' }).getByRole('link', { name: 'Marieke de Vries' }).click();
    await page.getByRole('heading', { level: 1, name: 'Marieke de Vries' }).waitFor();
    await page.getByRole('link', { name: 'Pieter Dijkstra' }).click();
    await page.getByRole('heading', { level: 1, name: 'Pieter Dijkstra' }).waitFor();
    await page.getByRole('heading', { name: /Peers \(1\)/ }).waitFor();

    // Full results with facets; the query lives in the URL, and Back works.
    await typeahead(page, 'network');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/search\?q=network/);
    await page.getByText('3 colleagues').waitFor();
    await page.getByRole('button', { name: /Amsterdam/ }).click();
    await page.waitForURL(/location=Amsterdam/);
    await page.getByText('1 colleague', { exact: true }).waitFor();
    await axe(page, 'search results');
    await page.goBack();
    await page.getByText('3 colleagues').waitFor();

    // Editing my own profile, with a photo and its preview.
    await openMenu(page);
    await page.getByRole('link', { name: 'My profile' }).click();
    await page.getByRole('heading', { level: 1, name: ADMIN.name }).waitFor();
    await page.getByRole('link', { name: 'Edit my profile' }).click();
    await page.getByRole('heading', { name: 'Edit my profile' }).waitFor();
    await page.getByLabel('Phone').fill('+31 6 1234 5678');
    await page.getByLabel('Skills (comma separated)').fill('Kubernetes, Privacy, kubernetes');
    await page.getByLabel('About me (Markdown)').fill('I run **Plein** <script>alert(1)</script>');
    await page.getByLabel('Photo', { exact: true }).setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: PHOTO });
    await page.getByRole('img', { name: 'Preview of your new photo' }).waitFor();
    await axe(page, 'edit profile');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { level: 1, name: ADMIN.name }).waitFor();
    const photo = page.getByRole('img', { name: `Photo of ${ADMIN.name}` });
    expect(await photo.getAttribute('src')).toMatch(/\/api\/v1\/people\/[0-9a-f-]+\/photo\?v=.+&size=256$/);
    // decode() settles once the image has loaded (and rejects if it cannot), so this waits without guessing a time.
    expect(await photo.evaluate(async (image: HTMLImageElement) => { await image.decode(); return image.naturalWidth; })).toBe(256);
    expect(await page.locator('.tags').first().allTextContents()).toEqual(['KubernetesPrivacy']);
    expect(await page.locator('.markdown strong').textContent()).toBe('Plein');
    expect(await page.locator('.markdown script').count()).toBe(0);

    // Admin: a CSV with a bad row is refused line by line; a good one is checked, then applied.
    await openMenu(page);
    await page.getByRole('link', { name: 'Admin', exact: true }).click();
    await page.getByRole('heading', { name: 'Import people from CSV' }).waitFor();
    const bad = [HEADER, ['E6', 'Noor', 'van den Broek', 'not-an-address', 'Designer', 'Marketing', 'Zwolle', 'E1', '', '', '']];
    await page.getByLabel('CSV file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: csvBuffer(bad) });
    await page.getByRole('button', { name: 'Check file (dry run)' }).click();
    const problems = page.getByRole('table', { name: 'Rows with problems' });
    await problems.waitFor();
    expect(await problems.locator('tbody tr td').first().textContent()).toBe('2');
    const good = [HEADER, ...PEOPLE, ['E6', 'Noor', 'van den Broek', 'noor.vandenbroek@plein.example', 'Designer', 'Marketing', 'Zwolle', 'E1', '', 'Figma', 'Dutch']];
    await page.getByLabel('CSV file').setInputFiles({ name: 'good.csv', mimeType: 'text/csv', buffer: csvBuffer(good) });
    await page.getByRole('button', { name: 'Check file (dry run)' }).click();
    await page.getByText('The import would do this:').waitFor();
    await page.getByText('6 rows: 1 new, 0 updated, 5 unchanged, 0 deactivated.').waitFor();
    await axe(page, 'admin');
    await page.getByRole('button', { name: 'Apply import' }).click();
    await page.getByText('Imported.').waitFor();
    await expect
      .poll(async () => {
        await typeahead(page, 'broek');
        return page.getByRole('listbox').getByRole('option').allTextContents();
      })
      .toEqual([expect.stringContaining('Noor van den Broek')]);
    await page.keyboard.press('Escape');

    // Back to the results page for the language switch.
    await page.goto(`${site.url}/search?q=network`);
    await page.getByText('3 colleagues').waitFor();

    // Dutch, remembered across a reload.
    const savedNl = page.waitForResponse((response) => response.url().endsWith('/api/v1/me/language') && response.ok());
    await openMenu(page);
    await page.getByLabel('Language').selectOption('nl');
    await savedNl;
    await page.getByRole('button', { name: 'Uitloggen' }).waitFor();
    await page.reload();
    await page.getByText('3 collega’s').waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('nl');
    await axe(page, 'search results (nl)');
    await context.close();

    // The choice belongs to the person: a fresh browser speaking English starts in Dutch once
    // they log in.
    const laptop = await newPage(browser, { locale: 'en-US' });
    await laptop.page.goto(`${site.url}/login`);
    await laptop.page.getByRole('heading', { name: 'Log in to Plein' }).waitFor();
    await laptop.page.getByLabel('Email address').fill(ADMIN.email);
    await laptop.page.getByLabel('Password').fill(ADMIN.password);
    await laptop.page.getByRole('button', { name: 'Log in' }).click();
    await openMenu(laptop.page);
    await laptop.page.getByRole('button', { name: 'Uitloggen' }).waitFor();
    expect(await laptop.page.evaluate(() => document.documentElement.lang)).toBe('nl');
    await laptop.context.close();
  });

  it('lets an admin change roles, deactivate people and manage API tokens', async () => {
    const { context, page } = await newPage(browser);
    await page.goto(`${site.url}/login`);
    await page.getByLabel(/Email address|E-mailadres/).fill(ADMIN.email);
    await page.getByLabel(/^(Password|Wachtwoord)$/).fill(ADMIN.password);
    await page.getByRole('button', { name: /Log in|Inloggen/ }).click();
    await page.locator('#people-search').waitFor();
    // The first test left this person's screens in Dutch; English for the checks below.
    // The choice is saved for the person before the next page load asks for it.
    const saved = page.waitForResponse((response) => response.url().endsWith('/api/v1/me/language') && response.ok());
    await openMenu(page);
    await page.getByLabel(/Language|Taal/).selectOption('en');
    await saved;
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.goto(`${site.url}/admin`);

    // Pieter becomes HR; the change is what the server now says.
    const role = page.getByLabel('Role of Pieter Dijkstra');
    await role.selectOption('hr');
    await expect.poll(async () => (await api(page, '/api/v1/admin/people?limit=100')).items.find((person: { email: string }) => person.email === 'pieter.dijkstra@plein.example')?.role).toBe('hr');

    // Deactivating Joris takes him out of search at once; reactivating brings him back.
    await page.getByRole('button', { name: 'Deactivate Joris in ’t Veld' }).click();
    await page.getByRole('button', { name: 'Reactivate Joris in ’t Veld' }).waitFor();
    await expect.poll(async () => (await api(page, '/api/v1/people/search?q=joris')).total).toBe(0);
    await page.getByRole('button', { name: 'Reactivate Joris in ’t Veld' }).click();
    await page.getByRole('button', { name: 'Deactivate Joris in ’t Veld' }).waitFor();
    await expect.poll(async () => (await api(page, '/api/v1/people/search?q=joris')).total).toBe(1);

    // The list is searched by the same engine and filtered; the count says how many match.
    const find = page.getByRole('search', { name: 'Find people' });
    await find.getByLabel('Search').fill('dijkstr');
    await page.getByText('1 person', { exact: true }).waitFor();
    expect(await page.locator('table.table tbody tr').count()).toBe(1);
    expect(await page.locator('table.table tbody tr a').textContent()).toBe('Pieter Dijkstra');
    await find.getByLabel('Search').fill('');
    await find.getByLabel('Role').selectOption('hr');
    const hr = (await api(page, '/api/v1/admin/people?role=hr')).total as number;
    expect(hr).toBeGreaterThan(0);
    await page.getByText(hr === 1 ? '1 person' : `${hr} people`, { exact: true }).waitFor();
    await find.getByLabel('Role').selectOption('');
    await find.getByLabel('Search').fill('joris');
    await page.getByText('1 person', { exact: true }).waitFor();

    // The same actions on the person's own profile page.
    await page.getByRole('link', { name: 'Joris in ’t Veld' }).click();
    await page.getByRole('heading', { name: 'Administration' }).waitFor();
    await page.getByLabel('Role of Joris in ’t Veld').selectOption('hr');
    await expect.poll(async () => (await api(page, '/api/v1/admin/people?q=joris')).items[0]?.role).toBe('hr');
    await page.getByRole('button', { name: 'Deactivate Joris in ’t Veld' }).click();
    await page.getByRole('button', { name: 'Reactivate Joris in ’t Veld' }).waitFor();
    await expect.poll(async () => (await api(page, '/api/v1/people/search?q=joris')).total).toBe(0);
    await page.getByRole('button', { name: 'Reactivate Joris in ’t Veld' }).click();
    await page.getByRole('button', { name: 'Deactivate Joris in ’t Veld' }).waitFor();
    await axe(page, 'profile with admin actions');
    await page.goto(`${site.url}/admin`);
    await page.getByRole('heading', { name: 'Import people from CSV' }).waitFor();

    // A token's secret is shown once; revoking it turns it away.
    await page.getByLabel('Name', { exact: true }).fill('Entra ID');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = (await page.locator('code.secret').textContent()) ?? '';
    expect(secret.length).toBeGreaterThan(20);
    const scim = await fetch(`${site.url}/scim/v2/Users?count=1`, { headers: { Authorization: `Bearer ${secret}` } });
    expect(scim.status).toBe(200);
    await axe(page, 'admin with a new token');
    await page.getByRole('button', { name: 'Revoke Entra ID' }).click();
    await page.getByRole('cell', { name: 'Revoked' }).waitFor();
    const revoked = await fetch(`${site.url}/scim/v2/Users?count=1`, { headers: { Authorization: `Bearer ${secret}` } });
    expect(revoked.status).toBe(401);

    // A session ended elsewhere sends the next action back to the login page, with a message.
    await page.context().clearCookies();
    await typeaheadTyping(page, 'sanne');
    await page.getByText('Your session has ended. Please log in again.').waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');
    await context.close();
  });

  it('works at 375 px wide', async () => {
    const { context, page } = await newPage(browser, { width: 375 });
    await page.goto(`${site.url}/login`);
    await page.getByLabel('Email address').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    await typeahead(page, 'ozturk');
    expect(await page.getByRole('listbox').getByRole('option').first().textContent()).toContain('Ayşe Öztürk');
    await page.getByRole('listbox').getByRole('option').first().click();
    await page.getByRole('heading', { level: 1, name: 'Ayşe Öztürk' }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await axe(page, 'profile at 375 px');
    await context.close();
  });
});
