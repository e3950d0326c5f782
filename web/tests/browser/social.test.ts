// Groups, posts and announcements in a real browser: a casual group with a post that mentions
// a colleague and carries a picture, that colleague's comment and reaction, and the author's
// notification; HR publishing to one department, a person in it acknowledging, a person outside
// never seeing it, and HR's statistics. Every screen is checked with axe, and at 375 px.

import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { axe, call, launchBrowser, newPage, setUpAdmin, openMenu, PASSWORD, signIn, startSite, type Site } from './harness';

const ADMIN = { name: 'Femke Admin', email: 'femke.admin@plein.example' };

function png(width: number, height: number): Buffer {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = (table[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
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
  header[8] = 8;
  header[9] = 2;
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, 0x3c)]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(Array.from({ length: height }, () => row)))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('groups, posts and announcements in the browser', () => {
  let site: Site;
  let browser: Browser;
  let admin: Page;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    site = await startSite();
    browser = await launchBrowser();
    admin = await setUpAdmin(browser, site, ADMIN);
    const people = [
      ['sanne', 'Sanne de Vries', 'employee', 'Network'],
      ['pieter', 'Pieter Dijkstra', 'employee', 'Network'],
      ['hanna', 'Hanna Jansen', 'hr', 'HR'],
      ['ayse', 'Ayşe Öztürk', 'employee', 'Finance'],
    ];
    for (const [key, name, role, department] of people) {
      const created = await call(admin, 'POST', '/api/v1/admin/people', {
        email: `${key}@plein.example`,
        name,
        role,
        password: PASSWORD,
      });
      expect(created.status).toBe(201);
      const id = (created.json as { id: string }).id;
      ids[key ?? ''] = id;
      expect((await call(admin, 'PATCH', `/api/v1/admin/people/${id}`, { department })).status).toBe(200);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  it('posts in a new casual group with a mention and a picture; a colleague comments and reacts; the author is told', async () => {
    const sanne = await newPage(browser);
    await signIn(sanne.page, site, 'sanne@plein.example');
    await axe(sanne.page, 'home (empty)');
    await sanne.page.getByRole('navigation').getByRole('link', { name: 'Groups' }).click();
    await sanne.page.getByRole('heading', { level: 1, name: 'Groups' }).waitFor();
    await sanne.page.getByText('Start a group').click();
    await sanne.page.getByLabel('Name', { exact: true }).fill('Hardlopen');
    await sanne.page.getByLabel('Description (Markdown)').fill('Elke **zaterdag** tien kilometer.');
    await sanne.page.getByLabel('Kind', { exact: true }).selectOption('casual');
    await sanne.page.getByLabel('Who can see it').selectOption('public');
    await axe(sanne.page, 'groups');
    await sanne.page.getByRole('button', { name: 'Create group' }).click();
    await sanne.page.getByRole('heading', { level: 1, name: 'Hardlopen' }).waitFor();
    const groupUrl = sanne.page.url();

    // A mention completed from people search, and a picture.
    const box = sanne.page.getByLabel('New post');
    await box.pressSequentially('Wie loopt er mee, @piet', { delay: 20 });
    await sanne.page.getByRole('option', { name: /Pieter Dijkstra/ }).waitFor();
    await sanne.page.keyboard.press('Enter');
    await box.pressSequentially('?');
    expect(await box.inputValue()).toBe(`Wie loopt er mee, <@${ids.pieter}> ?`);
    await sanne.page.locator('input[type=file]').setInputFiles({ name: 'route.png', mimeType: 'image/png', buffer: png(640, 320) });
    await sanne.page.locator('.file-chip', { hasText: 'route.png' }).waitFor();
    await sanne.page.getByRole('button', { name: 'Preview' }).click();
    await sanne.page.locator('.preview a', { hasText: '@Pieter Dijkstra' }).waitFor();
    await axe(sanne.page, 'group page with composer preview');
    await sanne.page.getByRole('button', { name: 'Post', exact: true }).click();
    const post = sanne.page.locator('article.post').first();
    await post.getByRole('link', { name: '@Pieter Dijkstra' }).waitFor();
    const image = post.locator('.attachment-images img');
    expect(await image.evaluate(async (element: HTMLImageElement) => { await element.decode(); return element.naturalWidth; })).toBe(640);

    // Pieter joins, comments and reacts.
    const pieter = await newPage(browser);
    await signIn(pieter.page, site, 'pieter@plein.example');
    await pieter.page.goto(groupUrl);
    await pieter.page.getByRole('button', { name: 'Join' }).click();
    await pieter.page.getByRole('button', { name: 'Leave' }).waitFor();
    const seen = pieter.page.locator('article.post').first();
    await seen.getByRole('button', { name: /^Like/ }).click();
    await seen.getByRole('button', { name: 'Like 1' }).waitFor();
    expect(await seen.getByRole('button', { name: 'Like 1' }).getAttribute('aria-pressed')).toBe('true');
    await seen.getByRole('button', { name: 'Comments (0)' }).click();
    await seen.getByLabel('Write a comment…').fill('Ik ben erbij!');
    await seen.getByRole('button', { name: 'Send' }).click();
    await seen.getByText('Ik ben erbij!').waitFor();
    await axe(pieter.page, 'post with comments');
    // Mentioned, Pieter was told too.
    await pieter.page.goto(`${site.url}/notifications`);
    await pieter.page.getByRole('link', { name: 'Sanne de Vries mentioned you' }).waitFor();

    // Sanne's bell counts; the notifications say who did what.
    await expect
      .poll(
        async () => {
          await sanne.page.goto(`${site.url}/`, { waitUntil: 'networkidle' });
          return sanne.page.locator('.bell').getAttribute('aria-label');
        },
        { timeout: 15_000 },
      )
      .toMatch(/Notifications, [1-9]\d* unread/);
    await sanne.page.locator('.bell').click();
    await sanne.page.getByRole('link', { name: 'Pieter Dijkstra commented on your post' }).waitFor();
    await sanne.page.getByRole('link', { name: 'Pieter Dijkstra reacted to your post' }).waitFor();
    await axe(sanne.page, 'notifications');
    // Home shows the group's post.
    await sanne.page.getByRole('navigation').getByRole('link', { name: 'Home' }).click();
    await sanne.page.locator('article.post', { hasText: 'Wie loopt er mee' }).waitFor();
    await sanne.context.close();
    await pieter.context.close();
  });

  it('HR publishes to one department; a person in it acknowledges; a person outside never sees it', async () => {
    const hr = await newPage(browser);
    await signIn(hr.page, site, 'hanna@plein.example');
    await hr.page.getByRole('link', { name: 'New announcement' }).click();
    await hr.page.getByRole('heading', { level: 1, name: 'New announcement' }).waitFor();
    await hr.page.getByLabel('Title').fill('Nieuwe thuiswerkregeling');
    await hr.page.getByLabel('Text (Markdown)').fill('Vanaf januari **twee dagen** thuis.');
    await hr.page.getByRole('status').filter({ hasText: 'Reaches 5 people' }).waitFor();
    await hr.page.getByRole('group', { name: 'Departments (none: everyone)' }).getByLabel(/^Network/).check();
    await hr.page.getByRole('status').filter({ hasText: 'Reaches 2 people' }).waitFor();
    await axe(hr.page, 'announcement composer');
    await hr.page.getByRole('button', { name: 'Publish' }).click();
    await hr.page.getByRole('heading', { name: 'Nieuwe thuiswerkregeling' }).waitFor();
    const announcementUrl = hr.page.url();
    const id = announcementUrl.split('/').pop() ?? '';

    const sanne = await newPage(browser);
    await signIn(sanne.page, site, 'sanne@plein.example');
    const card = sanne.page.locator('article.announcement', { hasText: 'Nieuwe thuiswerkregeling' });
    await card.waitFor();
    await axe(sanne.page, 'home with an announcement');
    await card.getByRole('button', { name: 'Read and understood' }).click();
    await card.getByText('You have read and understood this.').waitFor();
    await sanne.context.close();

    const ayse = await newPage(browser);
    await signIn(ayse.page, site, 'ayse@plein.example');
    await ayse.page.getByText(/Nothing here yet/).waitFor();
    expect(await ayse.page.locator('article.announcement').count()).toBe(0);
    expect((await call(ayse.page, 'GET', `/api/v1/announcements/${id}`)).status).toBe(404);
    await ayse.page.goto(`${site.url}/notifications`);
    await ayse.page.getByText('Nothing new.').waitFor();
    await ayse.context.close();

    await hr.page.getByRole('link', { name: 'Statistics' }).click();
    await hr.page.getByRole('heading', { level: 1, name: 'Statistics' }).waitFor();
    const network = hr.page.getByRole('row', { name: /^Network/ }).first();
    expect((await network.allInnerTexts()).join(' ')).toMatch(/Network\s+2\s+1\s+1\s+50%/);
    await hr.page.getByRole('link', { name: 'Pieter Dijkstra' }).waitFor();
    await axe(hr.page, 'statistics');
    await hr.context.close();
  });

  it('owners run their group from its About tab; a post loses a file; announcements take comments and are listed', async () => {
    const sanne = await newPage(browser);
    await signIn(sanne.page, site, 'sanne@plein.example');
    await sanne.page.getByRole('navigation').getByRole('link', { name: 'Groups' }).click();
    await sanne.page.getByRole('link', { name: 'Hardlopen' }).click();
    await sanne.page.getByRole('heading', { level: 1, name: 'Hardlopen' }).waitFor();
    const groupUrl = sanne.page.url();

    // The picture leaves the post; the text stays.
    const found = sanne.page.locator('article.post', { hasText: 'Wie loopt er mee' });
    await found.locator('.attachment-images img').waitFor();
    // While it is edited its text is in a field, so the post is held by its id from here on.
    const post = sanne.page.locator(`article[aria-labelledby="${await found.getAttribute('aria-labelledby')}"]`);
    await post.getByRole('button', { name: 'Edit' }).click();
    await post.getByRole('button', { name: 'Remove route.png' }).click();
    await post.getByRole('button', { name: 'Save' }).click();
    await post.getByText(/· edited/).waitFor();
    expect(await post.locator('.attachment-images img').count()).toBe(0);

    // Settings, cover and an invitation.
    await sanne.page.getByRole('tab', { name: 'About' }).click();
    await sanne.page.getByLabel('Who may post').selectOption('admins');
    await sanne.page.getByRole('button', { name: 'Save' }).click();
    await sanne.page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await sanne.page.locator('input[type=file]').setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: png(1200, 400) });
    await sanne.page.getByRole('button', { name: 'Remove the cover picture' }).waitFor();
    expect(await sanne.page.locator('img.cover').evaluate(async (element: HTMLImageElement) => { await element.decode(); return element.naturalWidth; })).toBe(1200);
    await sanne.page.getByLabel('Find a colleague').fill('Ayse');
    await sanne.page.getByRole('button', { name: 'Invite Ayşe Öztürk' }).click();
    await sanne.page.getByRole('button', { name: 'Withdraw the invitation to Ayşe Öztürk' }).waitFor();
    await axe(sanne.page, 'group about tab');

    // Pieter becomes an admin of the group.
    await sanne.page.getByRole('tab', { name: 'Members' }).click();
    await sanne.page.getByLabel('Role of Pieter Dijkstra').selectOption('admin');
    await axe(sanne.page, 'members for an owner');
    await expect
      .poll(async () => {
        const members = (await call(sanne.page, 'GET', `/api/v1/groups/${groupUrl.split('/').pop()}/members`)).json as { items: { person: { id: string }; role: string }[] };
        return members.items.find((member) => member.person.id === ids.pieter)?.role;
      })
      .toBe('admin');

    // Ayşe accepts; only owners and admins post now, so she has no composer.
    const ayse = await newPage(browser);
    await signIn(ayse.page, site, 'ayse@plein.example');
    await ayse.page.goto(groupUrl);
    await ayse.page.getByRole('button', { name: 'Accept invitation' }).click();
    await ayse.page.getByRole('button', { name: 'Leave' }).waitFor();
    await ayse.page.locator('article.post').first().waitFor();
    expect(await ayse.page.getByLabel('New post').count()).toBe(0);
    await ayse.context.close();

    // The announcement archive, and a comment under an announcement.
    await openMenu(sanne.page);
    await sanne.page.getByRole('link', { name: 'Announcements' }).click();
    await sanne.page.getByRole('heading', { level: 1, name: 'Announcements' }).waitFor();
    await axe(sanne.page, 'announcement archive');
    await sanne.page.getByRole('link', { name: 'Nieuwe thuiswerkregeling' }).click();
    await sanne.page.getByLabel('Write a comment…').fill('Geldt dit ook voor parttimers?');
    await sanne.page.getByRole('button', { name: 'Send' }).click();
    await sanne.page.locator('.comment', { hasText: 'Geldt dit ook voor parttimers?' }).waitFor();
    await axe(sanne.page, 'announcement with comments');
    await sanne.context.close();

    const hr = await newPage(browser);
    await signIn(hr.page, site, 'hanna@plein.example');
    await hr.page.goto(`${site.url}/announcements`);
    const row = hr.page.getByRole('row', { name: /Nieuwe thuiswerkregeling/ });
    await row.waitFor();
    expect((await row.allInnerTexts()).join(' ')).toMatch(/Published/);
    await row.getByRole('link', { name: 'Statistics' }).waitFor();
    await hr.page.getByRole('link', { name: 'Nieuwe thuiswerkregeling' }).click();
    await hr.page.locator('.comment', { hasText: 'Geldt dit ook voor parttimers?' }).getByRole('button', { name: 'Delete' }).waitFor();
    await hr.context.close();
  });

  it('fits a phone: home and a group at 375 px', async () => {
    const phone = await newPage(browser, { width: 375 });
    await signIn(phone.page, site, 'pieter@plein.example');
    await phone.page.locator('article').first().waitFor();
    const overflow = () => phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(await overflow()).toBe(0);
    await axe(phone.page, 'home at 375 px');
    await phone.page.getByRole('navigation').getByRole('link', { name: 'Groups' }).click();
    await phone.page.getByRole('link', { name: 'Hardlopen' }).click();
    await phone.page.getByRole('heading', { level: 1, name: 'Hardlopen' }).waitFor();
    expect(await overflow()).toBe(0);
    await axe(phone.page, 'group at 375 px');
    await phone.context.close();
  });
});
