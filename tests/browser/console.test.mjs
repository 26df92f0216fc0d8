// The web console in a real browser (docs/console.md): sign-in, org home, CSRF, create, validation
// errors, live list updates, delete, sign-out and 404s, against `krate serve --demo`. Every test
// opens its own browser context (its own cookies) and leaves the server as the next test expects.
// Selectors follow docs/console.md "Markup the browser tests rely on"; expected numbers come from
// the JSON API, never from constants.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, submit, screenshot, uniqueName, krateHasCommand } from './krate.mjs';

const ORG = 'demo';
const TEST = { timeout: 60_000 };

const issueYaml = (name) => `apiVersion: krate.a5c.ai/v1alpha1
kind: Issue
metadata:
  name: ${name}
spec:
  organizationRef: ${ORG}
  title: Filed from the browser test
  body: Created through form#yaml-form.
`;

const repoYaml = (name, visibility) => `apiVersion: krate.a5c.ai/v1alpha1
kind: Repository
metadata:
  name: ${name}
spec:
  organizationRef: ${ORG}
  visibility: ${visibility}
  defaultBranch: main
`;

const repoObject = (name) => ({
  apiVersion: 'krate.a5c.ai/v1alpha1',
  kind: 'Repository',
  metadata: { name },
  spec: { organizationRef: ORG, visibility: 'private', defaultBranch: 'main' },
});

const pathOf = (page) => new URL(page.url()).pathname;

describe('web console', () => {
  let krate;
  let browser;
  let stop;

  before(async () => {
    ({ krate, browser, stop } = await setup());
  });

  after(async () => {
    if (stop) await stop();
  });

  // Runs fn with a fresh context and page, closed afterwards whatever happens.
  async function withPage(fn, options) {
    const { context, page } = await newPage(browser, options);
    try {
      return await fn(page, context);
    } finally {
      await context.close().catch(() => {});
    }
  }

  it('sign-in: a wrong password is refused on /login; the right one lands on /orgs as demo', TEST, () =>
    withPage(async (page, context) => {
      await page.goto(krate.url('/login'));
      const form = page.locator('form#login');
      await form.waitFor();
      for (const field of ['username', 'password', 'token'])
        assert.equal(await form.locator(`input[name=${field}]`).count(), 1, `input[name=${field}]`);
      assert.equal(await form.locator('input[type=hidden][name=csrf]').count(), 1, 'hidden csrf input');
      await screenshot(page, 'login');

      await signIn(page, krate, krate.demoUser, `${krate.demoPassword}-wrong`);
      assert.equal(pathOf(page), '/login');
      const flash = page.locator('.flash.error');
      await flash.waitFor();
      assert.match(await flash.innerText(), /Invalid username or password/);
      await screenshot(page, 'login-error');
      assert.equal(
        (await context.cookies()).find((c) => c.name === 'krate_session'),
        undefined,
        'no session cookie after a failed sign-in',
      );

      await signIn(page, krate);
      assert.equal(pathOf(page), '/orgs');
      assert.equal((await page.locator('#whoami').innerText()).trim(), 'demo');
      const cookie = (await context.cookies()).find((c) => c.name === 'krate_session');
      assert.ok(cookie, 'krate_session cookie set');
      assert.equal(cookie.httpOnly, true, 'krate_session is HttpOnly');
      assert.equal(cookie.sameSite, 'Lax', 'krate_session is SameSite=Lax');
      assert.ok(await page.locator(`a[href$="/orgs/${ORG}"], form#org-switch option[value="${ORG}"]`).count(),
        'the org picker offers the demo org');
      await screenshot(page, 'orgs');
    }));

  it('a sign-in page still signs in after another page has loaded /login', TEST, () =>
    withPage(async (page, context) => {
      // What a second tab does, and a browser's own /favicon.ico request when it is redirected to
      // /login: the form already on screen must keep working.
      await page.goto(krate.url('/login'));
      const other = await context.newPage();
      await other.goto(krate.url('/login?next=%2Forgs'));
      await other.close();
      const form = page.locator('form#login');
      await form.locator('input[name=username]').fill(krate.demoUser);
      await form.locator('input[name=password]').fill(krate.demoPassword);
      const response = await submit(page, form.locator('button[type=submit]'));
      assert.notEqual(response.status(), 403, `the first form was refused: ${page.url()}`);
      assert.equal(pathOf(page), '/orgs');
      assert.equal((await page.locator('#whoami').innerText()).trim(), 'demo');
    }));

  it('sign-in also takes an API token instead of a password', TEST, () =>
    withPage(async (page) => {
      const who = await krate.api('GET', '/api/whoami');
      assert.equal(who.status, 200);
      await page.goto(krate.url('/login'));
      const form = page.locator('form#login');
      await form.locator('input[name=token]').fill(krate.adminToken);
      await submit(page, form.locator('button[type=submit]'));
      assert.equal(pathOf(page), '/orgs');
      assert.equal((await page.locator('#whoami').innerText()).trim(), who.body.user);
    }));

  it('sign-in honours ?next= and lands on that page', TEST, () =>
    withPage(async (page) => {
      const next = `/orgs/${ORG}/resources`;
      await signIn(page, krate, krate.demoUser, krate.demoPassword, next);
      assert.equal(pathOf(page), next);
      assert.equal((await page.locator('#whoami').innerText()).trim(), 'demo');
    }));

  it('org home counts Repositories exactly as the API does, in light and dark themes', TEST, () =>
    withPage(async (page) => {
      await signIn(page, krate);
      const expected = (await krate.listAll(ORG, 'Repository')).length;
      assert.ok(expected > 0, 'the demo org has repositories');
      const res = await page.goto(krate.url(`/orgs/${ORG}`));
      assert.equal(res.status(), 200);
      const count = page.locator('table#kind-counts tr[data-kind=Repository] td.count');
      assert.equal((await count.innerText()).trim(), String(expected));
      for (const id of ['#recent-events', '#readiness', 'header.topbar', 'nav.sidebar', 'nav.breadcrumbs'])
        assert.equal(await page.locator(id).count(), 1, `${id} on the org home`);
      const bodyBg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const light = await bodyBg();
      await screenshot(page, 'org-home');

      await page.emulateMedia({ colorScheme: 'dark' });
      const dark = await bodyBg();
      assert.notEqual(dark, light, 'the dark theme (prefers-color-scheme: dark) changes the page background');
      await screenshot(page, 'org-home-dark');
    }));

  it('CSRF: posts without the token are refused with 403', TEST, () =>
    withPage(async (page) => {
      await signIn(page, krate);
      const name = uniqueName('csrf-repo');
      // page.request shares the page's cookies, so these carry a valid session but no csrf field.
      let r = await page.request.post(krate.url(`/orgs/${ORG}/new`), {
        form: { yaml: repoYaml(name, 'private') },
        maxRedirects: 0,
      });
      assert.equal(r.status(), 403, 'POST /orgs/demo/new without csrf');
      r = await page.request.post(krate.url(`/orgs/${ORG}/new`), {
        form: { yaml: repoYaml(name, 'private'), csrf: 'not-the-token' },
        maxRedirects: 0,
      });
      assert.equal(r.status(), 403, 'POST /orgs/demo/new with a wrong csrf');
      assert.equal((await krate.api('GET', `/api/orgs/${ORG}/resources/Repository/${name}`)).status, 404,
        'nothing was stored');

      r = await page.request.post(krate.url('/logout'), { form: {}, maxRedirects: 0 });
      assert.equal(r.status(), 403, 'POST /logout without csrf');
      // ... and the session is still there.
      await page.goto(krate.url('/orgs'));
      assert.equal(pathOf(page), '/orgs');
      assert.equal((await page.locator('#whoami').innerText()).trim(), 'demo');
    }));

  it('creates an Issue from YAML and shows its detail page', TEST, () =>
    withPage(async (page) => {
      await signIn(page, krate);
      const name = uniqueName('browser-issue');
      await page.goto(krate.url(`/orgs/${ORG}/new?kind=Issue`));
      const form = page.locator('form#yaml-form');
      assert.equal(await form.locator('input[type=hidden][name=csrf]').count(), 1, 'hidden csrf input');
      await form.locator('textarea[name=yaml]').fill(issueYaml(name));
      await submit(page, form.locator('button[type=submit]'));

      assert.equal(pathOf(page), `/orgs/${ORG}/resources/issues/${name}`);
      assert.match(await page.locator('pre#yaml').innerText(), new RegExp(`name: ${name}\\b`));
      for (const id of ['#metadata', '#spec', '#status', 'table#audit-history', 'a#edit', 'a#delete'])
        assert.equal(await page.locator(id).count(), 1, `${id} on the detail page`);
      await screenshot(page, 'detail-issue');

      const got = await krate.api('GET', `/api/orgs/${ORG}/resources/Issue/${name}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.metadata.name, name);
      assert.equal(got.body.spec.title, 'Filed from the browser test');
    }));

  it('a validation error shows the form again with the field error and stores nothing', TEST, () =>
    withPage(async (page) => {
      await signIn(page, krate);
      const name = uniqueName('secret-repo');
      await page.goto(krate.url(`/orgs/${ORG}/new?kind=Repository`));
      const form = page.locator('form#yaml-form');
      await form.locator('textarea[name=yaml]').fill(repoYaml(name, 'secret'));
      await submit(page, form.locator('button[type=submit]'));

      await page.locator('form#yaml-form').waitFor();
      const fieldError = page.locator('ul.field-errors li[data-field="spec.visibility"]');
      assert.equal(await fieldError.count(), 1, 'ul.field-errors li[data-field="spec.visibility"]');
      assert.ok((await fieldError.innerText()).trim().length > 0, 'the field error says something');
      const flash = page.locator('.flash.error');
      assert.ok((await flash.innerText()).trim().length > 0, '.flash.error has the message');
      assert.match(await page.locator('form#yaml-form textarea[name=yaml]').inputValue(), new RegExp(name),
        'the submitted YAML is kept in the form');
      await screenshot(page, 'new-validation-error');

      assert.equal((await krate.api('GET', `/api/orgs/${ORG}/resources/Repository/${name}`)).status, 404);
    }));

  it('the list updates live: rows appear and disappear without a reload', TEST, () =>
    withPage(async (page) => {
      await signIn(page, krate);
      const res = await page.goto(krate.url(`/orgs/${ORG}/resources/repositories`));
      assert.equal(res.status(), 200);
      const table = page.locator('table#resource-list');
      assert.ok(await table.getAttribute('data-watch'), 'table#resource-list has data-watch');
      assert.match((await table.getAttribute('data-rv')) || '', /^\d+$/, 'table#resource-list has data-rv');
      for (const repo of await krate.listAll(ORG, 'Repository'))
        assert.equal(await page.locator(`tr[data-name="${repo.metadata.name}"]`).count(), 1,
          `row for ${repo.metadata.name}`);
      await screenshot(page, 'list-repositories');

      let navigations = 0;
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) navigations++;
      });
      await page.evaluate(() => {
        window.__krateMarker = 'still-here';
      });

      const name = uniqueName('live-repo');
      const created = await krate.api('POST', `/api/orgs/${ORG}/resources`, repoObject(name));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const row = page.locator(`tr[data-name="${name}"]`);
      await row.waitFor({ state: 'attached', timeout: 2_000 });
      assert.equal((await row.locator('td.name a').innerText()).trim(), name);
      assert.match(await row.locator('td.name a').getAttribute('href'),
        new RegExp(`/orgs/${ORG}/resources/repositories/${name}$`));
      assert.equal(await row.locator('td.phase').count(), 1, 'td.phase');
      assert.equal(await row.locator('td.age').count(), 1, 'td.age');
      await screenshot(page, 'list-repositories-live');

      const deleted = await krate.api('DELETE', `/api/orgs/${ORG}/resources/Repository/${name}`);
      assert.ok(deleted.status === 200 || deleted.status === 204, `DELETE answered ${deleted.status}`);
      await row.waitFor({ state: 'detached', timeout: 2_000 });

      assert.equal(await page.evaluate(() => window.__krateMarker), 'still-here', 'the page was not reloaded');
      assert.equal(navigations, 0, 'no navigation happened');
    }));

  it('deletes a resource through the console', TEST, () =>
    withPage(async (page) => {
      const name = uniqueName('doomed-repo');
      const created = await krate.api('POST', `/api/orgs/${ORG}/resources`, repoObject(name));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await signIn(page, krate);
      await page.goto(krate.url(`/orgs/${ORG}/resources/repositories/${name}`));
      await submit(page, page.locator('a#delete'));
      const form = page.locator('form#delete-form');
      assert.equal(await form.locator('input[type=hidden][name=csrf]').count(), 1, 'hidden csrf input');
      await screenshot(page, 'delete-confirm');
      await submit(page, form.locator('button[type=submit]'));

      assert.equal(pathOf(page), `/orgs/${ORG}/resources/repositories`);
      await page.locator('table#resource-list').waitFor();
      assert.equal(await page.locator(`tr[data-name="${name}"]`).count(), 0, 'the row is gone');
      assert.equal((await krate.api('GET', `/api/orgs/${ORG}/resources/Repository/${name}`)).status, 404);
    }));

  it('sign out ends the session', TEST, () =>
    withPage(async (page, context) => {
      await signIn(page, krate);
      const before = await context.cookies();
      assert.ok(before.find((c) => c.name === 'krate_session'), 'signed in');
      await submit(page, page.locator('form#logout button[type=submit]'));
      assert.equal(pathOf(page), '/login');

      await page.goto(krate.url('/orgs'));
      assert.equal(pathOf(page), '/login');
      assert.equal(new URL(page.url()).searchParams.get('next'), '/orgs', 'redirect carries ?next=/orgs');

      // The old cookie is dead on the server too, not just dropped by the browser.
      await context.clearCookies();
      await context.addCookies(before);
      await page.goto(krate.url('/orgs'));
      assert.equal(pathOf(page), '/login', 'the signed-out session cookie no longer works');
    }));

  it('unknown pages answer 404 "Page not found"', TEST, () =>
    withPage(async (page) => {
      await signIn(page, krate);
      for (const p of [`/orgs/${ORG}/no-such-page`, '/definitely/not/here']) {
        const res = await page.goto(krate.url(p));
        assert.equal(res.status(), 404, `${p} status`);
        assert.equal((await page.locator('h1').first().innerText()).trim(), 'Page not found', `${p} h1`);
      }
      await screenshot(page, 'not-found');
    }));

  it('a viewer cannot create resources', TEST, async (t) => {
    if (!krateHasCommand('user create')) {
      t.skip('this krate has no `krate user create`');
      return;
    }
    const user = uniqueName('viewer');
    const made = await krate.api('POST', '/api/users', { name: user, role: 'viewer', org: ORG });
    assert.equal(made.status, 201, `POST /api/users: ${made.status} ${JSON.stringify(made.body)}`);
    assert.ok(made.body.password, 'the new user\'s password is returned once');
    await withPage(async (page) => {
      await signIn(page, krate, user, made.body.password);
      assert.equal((await page.locator('#whoami').innerText()).trim(), user);
      const name = uniqueName('viewer-issue');
      const res = await page.goto(krate.url(`/orgs/${ORG}/new?kind=Issue`));
      if (res.status() === 200 && (await page.locator('form#yaml-form').count())) {
        const form = page.locator('form#yaml-form');
        await form.locator('textarea[name=yaml]').fill(issueYaml(name));
        const posted = await submit(page, form.locator('button[type=submit]'));
        const h1 = (await page.locator('h1').first().innerText()).trim();
        const flash = (await page.locator('.flash.error').allInnerTexts()).join(' ').trim();
        // Refused: the 403 page, or the form again with the reason in .flash.error.
        assert.ok((posted.status() === 403 && h1 === 'Forbidden') || flash,
          `a viewer's create was not refused: status ${posted.status()}, ${page.url()}, h1 "${h1}"`);
      } else {
        assert.equal(res.status(), 403, 'the create form is refused to a viewer');
        assert.equal((await page.locator('h1').first().innerText()).trim(), 'Forbidden');
      }
      assert.equal((await krate.api('GET', `/api/orgs/${ORG}/resources/Issue/${name}`)).status, 404);
    });
  });
});
