// Pull requests and issues in a real browser (docs/console.md): a repository with branches pushed
// with git, a pull request opened from the form, its diff, a second user's approving review, a check
// reported through the API, the merge from the merge box, a conflicting pull request with its paths,
// and an issue's life. Runs against `krate serve --demo`; the tests run in order and build on each
// other, each in its own browser context (its own cookies).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, signIn, submit, screenshot, uniqueName, pathOf, expectStatus, repoWorkTree, withPage,
} from './krate.mjs';

const ORG = 'demo';
const TEST = { timeout: 60_000 };
const REVIEWER = 'rita';
const REVIEWER_PASSWORD = 'rita-reviews-everything';

describe('pull requests and issues in the console', () => {
  let krate;
  let browser;
  let stop;
  let tree;
  let repo;
  let base;
  let pullNumber;

  before(async () => {
    ({ krate, browser, stop } = await setup());
    repo = uniqueName('prs');
    base = `/orgs/${ORG}/repos/${repo}`;
    tree = await repoWorkTree(krate, ORG, repo, 'pulls');
    // main with a.txt; feature changes its second line and adds a note; clash changes the same line.
    tree.write('a.txt', 'one\ntwo\nthree\n');
    tree.git('add', '.');
    tree.git('commit', '-qm', 'Start');
    tree.git('push', '-q', 'origin', 'main');
    tree.git('checkout', '-qb', 'feature');
    tree.write('a.txt', 'one\nfeature line\nthree\n');
    tree.write('NOTES.md', '# Notes\n\nWritten on a branch.\n');
    tree.git('add', '.');
    tree.git('commit', '-qm', 'Add the feature line');
    tree.git('push', '-q', 'origin', 'feature');
    tree.git('checkout', '-q', 'main');
    tree.git('checkout', '-qb', 'clash');
    tree.write('a.txt', 'one\nclashing line\nthree\n');
    tree.git('commit', '-qam', 'Clash with the feature');
    tree.git('push', '-q', 'origin', 'clash');
    // Merging into main takes one approval and the ci/test check.
    await expectStatus(krate.api('POST', `/api/orgs/${ORG}/resources`, {
      kind: 'BranchProtection',
      metadata: { name: `${repo}-main` },
      spec: { refs: ['main'], repository: repo, requiredApprovals: 1, requiredChecks: ['ci/test'] },
    }), 201, 'branch protection');
    await expectStatus(krate.api('POST', '/api/users',
      { name: REVIEWER, role: 'developer', org: ORG, password: REVIEWER_PASSWORD }), 201, 'the second user');
  });

  after(async () => {
    try {
      if (stop) await stop();
    } finally {
      if (tree) tree.remove();
    }
  });

  it('opens a pull request from the form and shows its diff in Files changed', TEST, () =>
    withPage(browser, async (page) => {
      await signIn(page, krate);
      await page.goto(krate.url(base));
      await submit(page, page.locator('nav.tabs a[data-tab=pulls]'));
      assert.equal(pathOf(page), `${base}/pulls`);
      assert.match(await page.locator('.empty-state').innerText(), /No open pull requests/);
      await submit(page, page.locator('a#new-pull'));

      const form = page.locator('form#pull-form');
      assert.equal(await form.locator('input[type=hidden][name=csrf]').count(), 1, 'hidden csrf input');
      // A title the policy refuses comes back with the reason by field, the typed values kept.
      await form.locator('select[name=source]').selectOption('feature');
      await form.locator('select[name=target]').selectOption('main');
      await form.locator('input[name=title]').fill('tiny');
      const refused = await submit(page, form.locator('button[type=submit]'));
      assert.equal(refused.status(), 422);
      assert.equal(await page.locator('ul.field-errors li[data-field="spec.title"]').count(), 1);
      assert.equal(await page.locator('form#pull-form input[name=title]').inputValue(), 'tiny');

      await page.locator('form#pull-form select[name=source]').selectOption('feature');
      await page.locator('form#pull-form input[name=title]').fill('Add the feature line to a.txt');
      await page.locator('form#pull-form textarea[name=body]').fill('Changes **one** line.\n\n- and adds notes');
      await submit(page, page.locator('form#pull-form button[type=submit]'));
      const m = pathOf(page).match(new RegExp(`^${base}/pulls/(\\d+)$`));
      assert.ok(m, `landed on the pull request page: ${page.url()}`);
      pullNumber = Number(m[1]);

      const api = await expectStatus(krate.api('GET', `/api/orgs/${ORG}/repositories/${repo}/pulls/${pullNumber}`),
        200, 'the pull request');
      assert.equal(api.spec.author, 'demo');
      assert.equal(await page.locator('#pull-title').innerText(), 'Add the feature line to a.txt');
      assert.equal((await page.locator('#pull-state .badge').innerText()).trim(), 'Open');
      assert.equal(await page.locator('#pull-body .markdown strong').innerText(), 'one');
      // Not mergeable yet: the rules want an approval and the check.
      for (const code of ['APPROVALS_REQUIRED', 'CHECK_REQUIRED'])
        assert.equal(await page.locator(`#merge-blockers li[data-code=${code}]`).count(), 1, code);
      assert.equal(await page.locator('form#merge-form').count(), 0);
      assert.equal(await page.locator('li.check[data-check="ci/test"][data-state=expected]').count(), 1);
      await screenshot(page, 'pull-blocked');

      await submit(page, page.locator('nav.record-tabs a[data-tab=files]'));
      assert.equal(pathOf(page), `${base}/pulls/${pullNumber}/files`);
      assert.equal(await page.locator('table#pull-files tr[data-path="a.txt"]').count(), 1);
      assert.equal(await page.locator('table#pull-files tr[data-path="NOTES.md"]').count(), 1);
      assert.equal(await page.locator('#diff .diff-file').count(), 2);
      const added = await page.locator('#diff tr.diff-add').allInnerTexts();
      assert.ok(added.some((t) => t.includes('feature line')), `the added line is in the diff: ${added}`);
      const removed = await page.locator('#diff tr.diff-del').allInnerTexts();
      assert.ok(removed.some((t) => t.includes('two')), 'the removed line is in the diff');
      await screenshot(page, 'pull-files');

      await submit(page, page.locator('nav.record-tabs a[data-tab=commits]'));
      assert.match(await page.locator('table#pull-commits').innerText(), /Add the feature line/);
    }));

  it('a second user approves it with a comment', TEST, () =>
    withPage(browser, async (page) => {
      assert.ok(pullNumber, 'the pull request was opened');
      await signIn(page, krate, REVIEWER, REVIEWER_PASSWORD);
      await page.goto(krate.url(`${base}/pulls/${pullNumber}`));
      const form = page.locator('form#review-form');
      await form.locator('textarea[name=body]').fill('Looks **good** to me.');
      await form.locator('input[name=decision][value=approved]').check();
      await submit(page, form.locator('button[type=submit]'));
      assert.equal(pathOf(page), `${base}/pulls/${pullNumber}`);

      const review = page.locator('article.review[data-decision=approved]');
      assert.equal(await review.count(), 1);
      assert.equal((await review.locator('.author').innerText()).trim(), REVIEWER);
      assert.equal(await review.locator('.markdown strong').innerText(), 'good');

      await page.locator('form#comment-form textarea[name=body]').fill('One nit: `three` could be *3*.');
      await submit(page, page.locator('form#comment-form button[type=submit]'));
      const comment = page.locator('#timeline article.comment:not(.review)').last();
      assert.equal(await comment.locator('.markdown code').innerText(), 'three');
      assert.equal(await comment.locator('.markdown em').innerText(), '3');
      // The approval counts: only the check is missing now.
      assert.equal(await page.locator('#merge-blockers li[data-code=APPROVALS_REQUIRED]').count(), 0);
      assert.equal(await page.locator('#merge-blockers li[data-code=CHECK_REQUIRED]').count(), 1);
      await screenshot(page, 'pull-conversation');
    }));

  it('a check reported through the API opens the merge box; merging shows Merged', TEST, () =>
    withPage(browser, async (page) => {
      assert.ok(pullNumber, 'the pull request was opened');
      await expectStatus(krate.api('POST', `/api/orgs/${ORG}/repositories/${repo}/pulls/${pullNumber}/checks`,
        { name: 'ci/test', state: 'success', detailsUrl: 'https://ci.example/runs/1' }), 200, 'report the check');
      await signIn(page, krate);
      await page.goto(krate.url(`${base}/pulls/${pullNumber}`));
      const check = page.locator('li.check[data-check="ci/test"][data-state=success]');
      assert.equal(await check.count(), 1);
      assert.equal(await check.locator('a.details').getAttribute('href'), 'https://ci.example/runs/1');
      assert.equal(await page.locator('#merge-box[data-state=mergeable]').count(), 1);

      const form = page.locator('form#merge-form');
      await form.locator('select[name=strategy]').selectOption('squash');
      await submit(page, form.locator('button[type=submit]'));
      assert.equal(pathOf(page), `${base}/pulls/${pullNumber}`);
      const merged = page.locator('#merged-by');
      assert.match(await merged.innerText(), /Merged by demo/);
      assert.equal((await page.locator('#pull-state .badge').innerText()).trim(), 'Merged');
      const pr = await expectStatus(krate.api('GET', `/api/orgs/${ORG}/repositories/${repo}/pulls/${pullNumber}`),
        200, 'the merged pull request');
      assert.equal(pr.status.phase, 'Merged');
      assert.equal(pr.status.mergeStrategy, 'squash');
      assert.equal(await merged.locator('a.sha').getAttribute('href'), `${base}/commit/${pr.status.mergeCommit}`);
      assert.equal(await page.locator('form#merge-form, form#review-form, form#state-form').count(), 0);
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, 'pull-merged');

      await page.goto(krate.url(`${base}/pulls?state=merged`));
      assert.equal(await page.locator(`table#pull-list tr[data-number="${pullNumber}"]`).count(), 1);
      await page.goto(krate.url(`${base}/pulls`));
      assert.equal(await page.locator(`table#pull-list tr[data-number="${pullNumber}"]`).count(), 0);
    }));

  it('a conflicting pull request lists the conflicting paths and offers no merge', TEST, () =>
    withPage(browser, async (page) => {
      await signIn(page, krate);
      await page.goto(krate.url(`${base}/pulls/new`));
      const form = page.locator('form#pull-form');
      await form.locator('select[name=source]').selectOption('clash');
      await form.locator('select[name=target]').selectOption('main');
      await form.locator('input[name=title]').fill('<b>Clash</b> with the merged feature');
      await submit(page, form.locator('button[type=submit]'));
      assert.match(pathOf(page), new RegExp(`^${base}/pulls/\\d+$`));
      // The title is text, never markup.
      assert.equal(await page.locator('#pull-title').innerText(), '<b>Clash</b> with the merged feature');
      assert.equal(await page.locator('#pull-title b').count(), 0);
      assert.equal(await page.locator('#merge-box[data-state=blocked]').count(), 1);
      assert.equal(await page.locator('#merge-blockers li[data-code=CONFLICTS]').count(), 1);
      assert.deepEqual(await page.locator('ul#conflicts li').allInnerTexts(), ['a.txt']);
      assert.equal(await page.locator('form#merge-form').count(), 0);
      await screenshot(page, 'pull-conflicts');

      await page.goto(krate.url(`${base}/pulls`));
      const row = page.locator('table#pull-list tbody tr').first();
      assert.equal(await row.locator('td.mergeable .badge').getAttribute('data-mergeable'), 'conflicts');
    }));

  it('an issue: opened from the form, commented on, relabelled and closed', TEST, () =>
    withPage(browser, async (page) => {
      await signIn(page, krate);
      await page.goto(krate.url(base));
      await submit(page, page.locator('nav.tabs a[data-tab=issues]'));
      await submit(page, page.locator('a#new-issue'));
      const form = page.locator('form#issue-form');
      await form.locator('input[name=title]').fill('Document a.txt');
      await form.locator('textarea[name=body]').fill('Nobody knows what *a.txt* is for.');
      await form.locator('input[name=labels]').fill('docs, good first issue');
      await form.locator('input[name=assignees]').fill(REVIEWER);
      await submit(page, form.locator('button[type=submit]'));
      assert.match(pathOf(page), new RegExp(`^${base}/issues/\\d+$`));
      assert.equal(await page.locator('#issue-title').innerText(), 'Document a.txt');
      assert.equal(await page.locator('#issue-body .markdown em').innerText(), 'a.txt');
      assert.deepEqual(await page.locator('#issue-labels li').allInnerTexts(), ['docs', 'good first issue']);
      assert.deepEqual(await page.locator('#issue-assignees li').allInnerTexts(), [REVIEWER]);

      await page.locator('form#comment-form textarea[name=body]').fill('Started on it in **NOTES.md**.');
      await submit(page, page.locator('form#comment-form button[type=submit]'));
      assert.equal(await page.locator('#timeline article.comment .markdown strong').last().innerText(), 'NOTES.md');

      await page.locator('form#labels-form input[name=labels]').fill('docs');
      await submit(page, page.locator('form#labels-form button[type=submit]'));
      assert.deepEqual(await page.locator('#issue-labels li').allInnerTexts(), ['docs']);
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, 'issue');

      await submit(page, page.locator('form#state-form button[type=submit]'));
      assert.equal((await page.locator('#issue-state .badge').innerText()).trim(), 'Closed');
      assert.match(await page.locator('form#state-form button').innerText(), /Reopen issue/);
    }));
});
