// The settings page in a real browser: one person on two devices sees both sessions, logs the
// other out from here, and changes the password (which ends the other sessions too). axe-clean,
// in English and Dutch at 375 px.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { axe, call, launchBrowser, newPage, openMenu, PASSWORD, setUpAdmin, signIn, startSite, type Site } from './harness';

const ADMIN = { name: 'Femke Admin', email: 'femke.admin@plein.example' };

describe('settings', () => {
  let site: Site;
  let browser: Browser;
  let admin: Page;

  beforeAll(async () => {
    site = await startSite();
    browser = await launchBrowser();
    admin = await setUpAdmin(browser, site, ADMIN);
    const created = await call(admin, 'POST', '/api/v1/admin/people', {
      email: 'joost@plein.example',
      name: 'Joost Jansen',
      role: 'employee',
      password: PASSWORD,
    });
    expect(created.status).toBe(201);
  });

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  it('lists sessions, logs out another device and changes the password', async () => {
    const laptop = await newPage(browser);
    const phone = await newPage(browser, { width: 375, locale: 'nl-NL' });
    await signIn(laptop.page, site, 'joost@plein.example');
    await phone.page.goto(`${site.url}/login`);
    await phone.page.getByLabel('E-mailadres').fill('joost@plein.example');
    await phone.page.getByLabel('Wachtwoord').fill(PASSWORD);
    await phone.page.getByRole('button', { name: 'Inloggen' }).click();
    await phone.page.getByRole('heading', { level: 1, name: 'Start' }).waitFor();

    await openMenu(laptop.page);
    await laptop.page.getByRole('link', { name: 'Settings' }).click();
    const sessions = laptop.page.getByRole('region', { name: 'Where you are logged in' });
    await expect.poll(() => sessions.getByRole('listitem').count()).toBe(2);
    await expect.poll(() => sessions.getByText('(this device)').count()).toBe(1);
    await axe(laptop.page, 'settings');

    await sessions.getByRole('button', { name: 'Log out there' }).click();
    await expect.poll(() => sessions.getByRole('listitem').count()).toBe(1);
    expect((await call(phone.page, 'GET', '/api/v1/me')).status).toBe(401);

    // The phone logs in again, and a password change logs it out once more.
    await phone.page.goto(`${site.url}/login`);
    await phone.page.getByLabel('E-mailadres').fill('joost@plein.example');
    await phone.page.getByLabel('Wachtwoord').fill(PASSWORD);
    await phone.page.getByRole('button', { name: 'Inloggen' }).click();
    await phone.page.getByRole('heading', { level: 1, name: 'Start' }).waitFor();
    await phone.page.goto(`${site.url}/settings`);
    await phone.page.getByRole('heading', { level: 1, name: 'Instellingen' }).waitFor();
    await axe(phone.page, 'settings 375 nl');

    const password = laptop.page.getByRole('region', { name: 'Change password' });
    await password.getByLabel('Current password').fill('not my password at all');
    await password.getByLabel('New password', { exact: true }).fill('a brand new password');
    await password.getByLabel('The same password again').fill('a brand new password');
    await password.getByRole('button', { name: 'Change password' }).click();
    await password.getByText('Your current password is not right.').waitFor();
    await password.getByLabel('Current password').fill(PASSWORD);
    await password.getByRole('button', { name: 'Change password' }).click();
    await password.getByText('Your password is changed. You are logged out everywhere else.').waitFor();
    expect((await call(phone.page, 'GET', '/api/v1/me')).status).toBe(401);
    expect((await call(laptop.page, 'GET', '/api/v1/me')).status).toBe(200);
    await laptop.context.close();
    await phone.context.close();
  });
});
