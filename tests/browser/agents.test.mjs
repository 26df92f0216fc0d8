// Agents in a real browser (docs/console.md, "Agents"): an admin sets up, through the API, a repository and
// a Ready agent stack whose command is the shipped example agent (`krate example-agent`); then, as the demo
// user in the browser, the stack's page shows its readiness and permission review, a run is dispatched from
// the form on the repository page, and its page is watched while the transcript arrives over the run's event
// stream until the run has Succeeded and lists a patch artifact. The stack's one secret wants a person's
// approval for every run, so the run page is open and following before the agent writes anything: the
// messages it shows can only have come live. Runs against `krate serve --demo`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, signIn, submit, screenshot, uniqueName, krateBin, pathOf, sleep, expectStatus, repoWorkTree, withPage,
} from './krate.mjs';

const ORG = 'demo';
const TEST = { timeout: 120_000 };
const SECRET_VALUE = 'browser-secret-value-never-shown-9f3a';

describe('agents in the console', () => {
  let krate;
  let browser;
  let stop;
  let tree;
  let repo;
  let stack;
  let runPath;

  const apply = (obj) => expectStatus(krate.api('POST', `/api/orgs/${ORG}/resources`, obj), 201, `create ${obj.kind}`);

  before(async () => {
    ({ krate, browser, stop } = await setup());
    repo = uniqueName('agentrepo');
    stack = uniqueName('example');
    tree = await repoWorkTree(krate, ORG, repo, 'agents');
    tree.write('README.md', '# Agent playground\n\nThe example agent works here.\n');
    tree.git('add', '.');
    tree.git('commit', '-qm', 'Start');
    tree.git('push', '-q', 'origin', 'main');

    // The stack's identity, its model key (granted) and a deploy key whose grant wants an approval per run.
    const sa = `${stack}-sa`;
    await apply({ kind: 'AgentServiceAccount', metadata: { name: sa },
      spec: { namespace: `krate-org-${ORG}`, serviceAccountName: sa } });
    await apply({ kind: 'Secret', metadata: { name: `${stack}-model` },
      spec: { description: 'The model key', data: { API_KEY: SECRET_VALUE } } });
    await apply({ kind: 'Secret', metadata: { name: `${stack}-deploy` }, spec: { data: { KEY: `${SECRET_VALUE}-2` } } });
    await apply({ kind: 'AgentSecretGrant', metadata: { name: `${stack}-model` },
      spec: { subject: sa, secretRef: `${stack}-model`, purpose: 'model-provider' } });
    await apply({ kind: 'AgentSecretGrant', metadata: { name: `${stack}-deploy` },
      spec: { subject: sa, secretRef: `${stack}-deploy`, purpose: `secret:${stack}-deploy`, requiredApproval: 'always' } });
    await apply({ kind: 'AgentStack', metadata: { name: stack },
      spec: { baseAgent: 'example', adapter: 'process', runtimeIdentity: sa, command: [krateBin, 'example-agent'],
        timeoutSeconds: 60, prompt: { system: 'You are the example agent.' },
        secretPolicy: { allowedSecretRefs: [{ name: `${stack}-deploy` }] } } });
    for (let i = 0; ; i++) {
      const r = await krate.api('GET', `/api/orgs/${ORG}/resources/agentstacks/${stack}`);
      if (r.status === 200 && r.body.status && r.body.status.phase === 'Ready') break;
      if (i > 400) throw new Error(`stack ${stack} never became Ready: ${JSON.stringify(r.body)}`);
      await sleep(25);
    }
  });

  after(async () => {
    try {
      if (stop) await stop();
    } finally {
      if (tree) tree.remove();
    }
  });

  async function noSecret(page) {
    assert.ok(!(await page.content()).includes(SECRET_VALUE), `${page.url()} shows a secret value`);
  }

  it('shows the stack Ready with its readiness conditions and reviews its permissions', TEST, () =>
    withPage(browser, async (page) => {
      await signIn(page, krate);
      await page.goto(krate.url(`/orgs/${ORG}`));
      await submit(page, page.locator('nav.sidebar a[data-nav=stacks]'));
      assert.equal(pathOf(page), `/orgs/${ORG}/agents/stacks`);
      const row = page.locator(`table#stack-list tr[data-name="${stack}"]`);
      assert.equal((await row.locator('td.phase .badge').innerText()).trim(), 'Ready');
      assert.equal((await row.locator('td.adapter').innerText()).trim(), 'process');
      await submit(page, row.locator('td.name a'));

      assert.equal(pathOf(page), `/orgs/${ORG}/agents/stacks/${stack}`);
      assert.equal(await page.locator('table#readiness-conditions tr[data-type=Ready][data-status=True]').count(), 1);
      assert.equal(await page.locator('table#readiness-conditions tr[data-status=False]').count(), 0);
      assert.match(await page.locator('#stack-command').innerText(), /example-agent/);

      const form = page.locator('form#review-form');
      await form.locator('select[name=repository]').selectOption(repo);
      await form.locator('input[name=ref]').fill('main');
      assert.equal(await form.locator('input[name=actor]').inputValue(), krate.demoUser);
      await submit(page, form.locator('button[type=submit]'));
      const result = page.locator('#review-result');
      // The deploy key's grant keeps a person in the loop for every run.
      assert.equal(await result.getAttribute('data-decision'), 'requires-approval');
      assert.equal(await page.locator('table#required-secrets tr[data-status=granted]').count(), 1);
      assert.equal(await page.locator('table#required-secrets tr[data-status=requires-approval]').count(), 1);
      await noSecret(page);
      await screenshot(page, 'agents-stack');

      // A stack that wants a secret nobody granted: the review says what is missing, and an admin creates
      // the grant from its preview.
      const needy = `${stack}-needy`;
      await apply({ kind: 'Secret', metadata: { name: `${needy}-token` }, spec: { data: { TOKEN: `${SECRET_VALUE}-3` } } });
      await apply({ kind: 'AgentStack', metadata: { name: needy },
        spec: { baseAgent: 'example', adapter: 'process', runtimeIdentity: `${stack}-sa`,
          command: [krateBin, 'example-agent'], secretPolicy: { allowedSecretRefs: [{ name: `${needy}-token` }] } } });
      await page.goto(krate.url(`/orgs/${ORG}/agents/stacks/${needy}?repository=${repo}&ref=main`));
      assert.equal(await page.locator('#review-result').getAttribute('data-decision'), 'denied');
      assert.equal(await page.locator('ul#review-reasons li[data-code=SECRET_GRANT_MISSING]').count(), 1);
      assert.equal(await page.locator('ul#missing-grants li[data-kind=AgentSecretGrant]').count(), 1);
      assert.match(await page.locator('ol#grant-previews li.grant-preview pre').innerText(), /kind: AgentSecretGrant/);
      await submit(page, page.locator('ol#grant-previews form.create-grant button[type=submit]'));
      assert.equal(await page.locator('#grant-created').count(), 1, 'the grant was created');
      assert.equal(await page.locator('#review-result').getAttribute('data-decision'), 'allowed');
      assert.equal(await page.locator('ul#missing-grants li').count(), 0);
      await screenshot(page, 'agents-grant-created');

      await submit(page, page.locator('nav.sidebar a[data-nav=grants]'));
      assert.equal(await page.locator(`table#secret-list tr[data-name="${stack}-model"] td.keys code`).innerText(),
        'API_KEY');
      await noSecret(page);
    }));

  it('dispatches from the repository page and follows the run live until it has Succeeded with a patch', TEST, () =>
    withPage(browser, async (page, context) => {
      await signIn(page, krate);
      await page.goto(krate.url(`/orgs/${ORG}/repos/${repo}`));
      await submit(page, page.locator('a#dispatch-agent'));
      assert.equal(pathOf(page), `/orgs/${ORG}/agents/runs/new`);

      const form = page.locator('form#dispatch-form');
      assert.equal(await form.locator('input[type=hidden][name=csrf]').count(), 1, 'hidden csrf input');
      assert.equal(await form.locator('select[name=repository]').inputValue(), repo);
      assert.equal(await form.locator('select[name=ref]').inputValue(), 'main');
      assert.ok(await form.locator(`optgroup[label=Ready] option[value="${stack}"]`).count(), 'the stack is offered as Ready');
      await form.locator('select[name=stack]').selectOption(stack);
      await form.locator('input[name=taskKind]').fill('code-change');
      await form.locator('textarea[name=prompt]').fill('Add a line to the README, please.');
      await screenshot(page, 'agents-dispatch');
      await submit(page, form.locator('button[type=submit]'));

      const m = pathOf(page).match(new RegExp(`^/orgs/${ORG}/agents/runs/(run-[0-9a-f]+)$`));
      assert.ok(m, `landed on the run's page: ${page.url()}`);
      runPath = pathOf(page);
      const run = m[1];
      assert.equal(await page.locator('#run-phase .badge').getAttribute('data-phase'), 'WaitingForApproval');
      assert.equal(await page.locator('#transcript li.msg').count(), 0);
      assert.ok(await page.locator('#transcript').getAttribute('data-events'), 'the page follows the run');
      assert.match(await page.locator('#bundle-digest').innerText(), /^[0-9a-f]{12}$/);

      // Everything the page appends from here on arrived over the event stream.
      const live = [];
      await page.exposeFunction('krateSawMessage', (type, text) => live.push({ type, text }));
      await page.evaluate(() => {
        new MutationObserver((records) => {
          for (const r of records)
            for (const n of r.addedNodes)
              if (n.nodeType === 1)
                for (const li of n.matches('li.msg') ? [n] : n.querySelectorAll('li.msg'))
                  window.krateSawMessage(li.dataset.type, li.textContent);
        }).observe(document.getElementById('transcript'), { childList: true, subtree: true });
      });

      // The approval, from the inbox in a second tab of the same session.
      const inbox = await context.newPage();
      await inbox.goto(krate.url(`/orgs/${ORG}/agents/approvals`));
      const pending = inbox.locator(`table#approval-list tr[data-phase=Pending]:has(a[href$="/runs/${run}"])`);
      assert.equal(await pending.count(), 1, 'the run waits in the inbox');
      await screenshot(inbox, 'agents-approvals');
      await pending.locator('form.approval-decision input[name=comment]').fill('Go ahead');
      await submit(inbox, pending.locator('form.approval-decision button[name=decision][value=approved]'));
      assert.equal(await inbox.locator('#decided').count(), 1);
      await inbox.close();

      // The page reloads itself once the run has finished: then its artifacts are listed.
      await page.locator('table#artifacts tr[data-kind=patch]').waitFor({ timeout: 90_000 });
      assert.ok(live.length > 0, 'transcript messages arrived live');
      assert.ok(live.some((x) => x.type === 'final'), `the final message arrived live: ${JSON.stringify(live)}`);
      assert.equal(await page.locator('#run-phase .badge').getAttribute('data-phase'), 'Succeeded');
      assert.equal(await page.locator('#transcript').getAttribute('data-events'), null, 'a finished run is not followed');
      assert.ok(await page.locator('#transcript li.msg').count() >= live.length, 'the stored transcript has them all');
      assert.equal(await page.locator('table#attempts tr[data-phase=Succeeded]').count(), 1);
      assert.equal(await page.locator('ol#run-timeline li[data-phase=Succeeded]').count(), 1);
      await noSecret(page);
      await screenshot(page, 'agents-run');

      await submit(page, page.locator('table#artifacts tr[data-kind=patch] a.artifact-link'));
      assert.equal(await page.locator('#artifact').getAttribute('data-kind'), 'patch');
      assert.ok(await page.locator('#diff .diff-file').count() >= 1, 'the patch shows as a diff');
      await screenshot(page, 'agents-artifact');

      const api = await expectStatus(krate.api('GET', `/api/agents/runs/${run}?org=${ORG}`), 200, 'the run');
      assert.equal(api.run.status.phase, 'Succeeded');
    }));

  it('lists the run and refuses a stale action as a changed run', TEST, () =>
    withPage(browser, async (page) => {
      assert.ok(runPath, 'the run was dispatched');
      await signIn(page, krate);
      await page.goto(krate.url(`/orgs/${ORG}/agents/runs`));
      const run = runPath.split('/').pop();
      const row = page.locator(`table#run-list tr[data-name="${run}"]`);
      assert.equal(await row.getAttribute('data-phase'), 'Succeeded');
      assert.equal((await row.locator('td.attempts').innerText()).trim(), '1');
      await submit(page, row.locator('td.name a'));
      // A finished run offers a fork and a follow-up, not a retry.
      assert.equal(await page.locator('form.run-action[data-action=retry]').count(), 0);
      assert.equal(await page.locator('form#continue-form').count(), 1);
      // Someone else forks it meanwhile: this page's fork is then out of date.
      const gen = (await krate.api('GET', `/api/orgs/${ORG}/resources/agentdispatchruns/${run}`)).body.metadata.generation;
      await expectStatus(krate.api('POST', `/api/agents/runs/${run}/fork?org=${ORG}`, { expectedGeneration: gen }), 201,
        'fork it through the API');
      const refused = await submit(page, page.locator('form.run-action[data-action=fork] button[type=submit]'));
      assert.equal(refused.status(), 409);
      assert.equal(await page.locator('#run-changed').count(), 1);
    }));
});
