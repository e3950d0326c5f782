// Live in a real browser, two people in two browser contexts: a direct message arrives without a
// refresh and shows "seen", typing shows, a post in a shared group appears live, and after the
// server restarts mid-conversation nothing is lost. Chat screens are checked with axe, in Dutch
// and English, and at 375 px.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { axe, call, launchBrowser, newPage, setUpAdmin, PASSWORD, signIn, startSite, type Site } from './harness';

const ADMIN = { name: 'Femke Admin', email: 'femke.admin@plein.example' };

describe('live chat and feed in the browser', () => {
  let site: Site;
  let browser: Browser;
  let sanne: Page;
  let pieter: Page;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    site = await startSite();
    browser = await launchBrowser();
    const admin = await setUpAdmin(browser, site, ADMIN);
    for (const [key, name] of [
      ['sanne', 'Sanne de Vries'],
      ['pieter', 'Pieter Dijkstra'],
    ] as const) {
      const created = await call(admin, 'POST', '/api/v1/admin/people', { email: `${key}@plein.example`, name, role: 'employee', password: PASSWORD });
      expect(created.status).toBe(201);
      ids[key] = (created.json as { id: string }).id;
    }
    await admin.context().close();
    sanne = (await newPage(browser)).page;
    pieter = (await newPage(browser)).page;
    await signIn(sanne, site, 'sanne@plein.example');
    await signIn(pieter, site, 'pieter@plein.example');
  });

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  it('delivers a direct message without a refresh, shows typing and "seen"', async () => {
    await pieter.getByRole('navigation').getByRole('link', { name: 'Chat' }).click();
    await pieter.getByRole('heading', { level: 1, name: 'Chat' }).waitFor();
    await pieter.getByText('No conversations yet.').waitFor();

    // "Send message" on Pieter's profile opens our direct conversation.
    await sanne.goto(`${site.url}/people/${ids.pieter}`);
    await sanne.getByRole('button', { name: 'Send message' }).click();
    await sanne.getByRole('heading', { level: 2, name: /Pieter Dijkstra/ }).waitFor();
    const composer = sanne.getByRole('combobox', { name: 'Message' });
    await composer.fill('Hoi Pieter, loop je zaterdag mee?');
    await composer.press('Enter');
    await sanne.locator('.message-list .message', { hasText: 'loop je zaterdag mee' }).waitFor();
    await axe(sanne, 'chat: conversation');

    // It shows up in Pieter's list with an unread badge, without a reload.
    const entry = pieter.getByRole('link', { name: /Sanne de Vries/ });
    await entry.waitFor();
    await entry.getByText('1 unread').waitFor();
    await pieter.getByRole('navigation').getByRole('link', { name: /^Chat 1\s+1 unread$/ }).waitFor();
    await axe(pieter, 'chat: list');
    await entry.click();
    await pieter.locator('.message-list .message', { hasText: 'loop je zaterdag mee' }).waitFor();

    // Pieter has read it: Sanne sees "Seen", live.
    await sanne.locator('.seen', { hasText: 'Seen' }).waitFor();

    // Pieter types: Sanne sees it.
    await pieter.getByRole('combobox', { name: 'Message' }).pressSequentially('Ja', { delay: 30 });
    await sanne.getByText('Pieter Dijkstra is typing…').waitFor();
    await pieter.getByRole('combobox', { name: 'Message' }).press('Enter');
    await sanne.locator('.message-list .message .prose', { hasText: /^\s*Ja\s*$/ }).waitFor();
    expect(await sanne.getByText('Pieter Dijkstra is typing…').count()).toBe(0);
  });

  it('shows a post in a shared group live, as a bar of new posts', async () => {
    const group = await call(sanne, 'POST', '/api/v1/groups', { name: 'Hardlopen', description: 'Zaterdag', kind: 'casual', visibility: 'public' });
    expect(group.status).toBe(201);
    const groupId = (group.json as { id: string }).id;
    expect((await call(pieter, 'POST', `/api/v1/groups/${groupId}/join`)).status).toBe(200);
    await pieter.goto(`${site.url}/`);
    await pieter.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    // Live once the socket says hello: the banner-free page and the badge agree.
    await pieter.waitForFunction(() => document.querySelector('.live-banner') === null);
    const posted = await call(sanne, 'POST', `/api/v1/groups/${groupId}/posts`, { body: 'Nieuwe route langs de **Amstel**' });
    expect(posted.status).toBe(201);
    const bar = pieter.getByRole('button', { name: '1 new posts — show them' });
    await bar.waitFor();
    await bar.click();
    await pieter.locator('article.post', { hasText: 'Nieuwe route langs de Amstel' }).waitFor();
    expect(await bar.count()).toBe(0);

    // A reaction from Sanne shows on Pieter's card without a reload.
    const postId = (posted.json as { id: string }).id;
    expect((await call(sanne, 'PUT', `/api/v1/posts/${postId}/reactions/celebrate`)).status).toBe(200);
    await pieter.locator('article.post', { hasText: 'Nieuwe route' }).getByRole('button', { name: 'Celebrate 1' }).waitFor();
  });

  it('loses nothing when the server restarts mid-conversation', async () => {
    await pieter.goto(`${site.url}/chat`);
    await pieter.getByRole('link', { name: /Sanne de Vries/ }).click();
    await pieter.locator('.message-list .message', { hasText: 'loop je zaterdag mee' }).waitFor();
    const conversation = new URL(pieter.url()).pathname.split('/').pop() ?? '';

    await site.restart();
    // Sent while Pieter's tab is still reconnecting: the socket resumes from its last `seq`.
    const sent: string[] = [];
    for (const body of ['Na de herstart: één', 'Na de herstart: twee', 'Na de herstart: drie']) {
      const answer = await call(sanne, 'POST', `/api/v1/conversations/${conversation}/messages`, { body, client_id: crypto.randomUUID() });
      expect(answer.status).toBe(201);
      sent.push(body);
    }
    for (const body of sent) await pieter.locator('.message-list .message', { hasText: body }).waitFor();
    // Each once, in order.
    const texts = await pieter.locator('.message-list .message .prose').allTextContents();
    const after = texts.map((text) => text.trim()).filter((text) => text.startsWith('Na de herstart'));
    expect(after).toEqual(sent);
    await pieter.waitForFunction(() => document.querySelector('.live-banner') === null);
  });

  it('works in Dutch and at 375 px', async () => {
    const { context, page } = await newPage(browser, { width: 375, locale: 'nl-NL' });
    await page.goto(`${site.url}/login`);
    expect((await call(page, 'POST', '/api/v1/auth/login', { email: 'pieter@plein.example', password: PASSWORD })).status).toBe(200);
    await page.goto(`${site.url}/chat`);
    await page.getByRole('heading', { level: 1, name: 'Chat' }).waitFor();
    await page.getByRole('link', { name: /Sanne de Vries/ }).click();
    // On a phone the conversation takes the screen; the list is one tap back.
    await page.getByRole('link', { name: '← Gesprekken' }).waitFor();
    expect(await page.locator('.chat-list').isVisible()).toBe(false);
    await page.getByRole('combobox', { name: 'Bericht' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await axe(page, 'chat at 375 px in Dutch');
    await context.close();
  });
});
