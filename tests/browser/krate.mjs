// Shared fixtures for the console's browser tests: a real `krate serve --demo` on 127.0.0.1 with an
// ephemeral port and a temporary data directory, Debian's Chromium driven by playwright-core, and
// the few API and page helpers the tests share. Everything started here is stopped by stop(), and
// again (synchronously, as far as possible) if the process exits or is signalled before that.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, openSync, closeSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const { chromium } = await import('playwright-core').catch((err) => {
  throw new Error(`playwright-core is not installed in tests/browser (run scripts/bootstrap.sh browser): ${err.message}`);
});

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const krateBin = process.env.KRATE_BIN || path.join(repoRoot, 'build', 'krate');
export const screenshotDir = process.env.SCREENSHOT_DIR || path.join(repoRoot, 'build', 'screenshots');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// The whole file must finish well inside CTest's TIMEOUT (300 s), which kills with SIGKILL and so
// leaves no chance to clean up: past this, everything is stopped here and the run fails.
const WATCHDOG_MS = Number(process.env.KRATE_BROWSER_WATCHDOG_MS || 240_000);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function readTrimmed(file) {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

// Everything alive, for the exit and signal handlers.
const live = { server: null, browser: null, dirs: new Set() };

function killSync() {
  if (live.server && live.server.exitCode === null && live.server.signalCode === null) {
    try {
      process.kill(live.server.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  // playwright-core kills the browsers it launched on exit by itself.
  for (const d of live.dirs) rmSync(d, { recursive: true, force: true });
  live.dirs.clear();
}
process.on('exit', killSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    killSync();
    process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 })[sig]);
  });
}

/** `krate help` lists a command? (Used to skip tests of features this build lacks.) */
export function krateHasCommand(words) {
  const r = spawnSync(krateBin, ['help'], { encoding: 'utf8', timeout: 10_000 });
  const text = `${r.stdout || ''}\n${r.stderr || ''}`;
  return text.includes(words);
}

class Krate {
  constructor() {
    this.dir = mkdtempSync(path.join(process.env.TMPDIR || tmpdir(), 'krate-browser-'));
    live.dirs.add(this.dir);
    this.proc = null;
    this.base = '';
    this.adminToken = '';
    this.demoUser = '';
    this.demoPassword = '';
    this.exit = null;
  }

  async start() {
    const log = openSync(path.join(this.dir, 'server.log'), 'a');
    this.proc = spawn(krateBin, ['serve', '--listen', '127.0.0.1:0', '--data', this.dir, '--demo'], {
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    live.server = this.proc;
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.proc.once('error', (err) => {
        this.exit = { code: null, signal: null, error: err };
        resolve(this.exit);
      });
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.exit) throw new Error(`krate serve exited early (${JSON.stringify(this.exit)}):\n${this.log()}`);
      const port = readTrimmed(path.join(this.dir, 'krate.port'));
      if (port) {
        this.base = `http://127.0.0.1:${port}`;
        try {
          const r = await fetch(`${this.base}/healthz`);
          if (r.status === 200) break;
        } catch {
          /* not listening yet */
        }
      }
      await sleep(50);
    }
    if (!this.base) throw new Error(`krate serve did not become ready:\n${this.log()}`);
    this.adminToken = readTrimmed(path.join(this.dir, 'admin.token'));
    const creds = readTrimmed(path.join(this.dir, 'demo-credentials')).split(/\s+/);
    [this.demoUser, this.demoPassword] = creds;
    if (!this.adminToken) throw new Error('no admin token in DATA/admin.token');
    if (this.demoUser !== 'demo' || !this.demoPassword)
      throw new Error(`DATA/demo-credentials is not "demo <password>": ${JSON.stringify(creds)}`);
    return this;
  }

  log() {
    return readTrimmed(path.join(this.dir, 'server.log'));
  }

  url(p) {
    return `${this.base}${p}`;
  }

  /** Calls the JSON API as the admin; answers { status, body } (body parsed when it is JSON). */
  async api(method, p, body, token = this.adminToken) {
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(this.url(p), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: r.status, body: parsed };
  }

  /** Every item of a list, following `continue` tokens. */
  async listAll(org, kind) {
    const items = [];
    let cont = '';
    for (let i = 0; i < 1000; i++) {
      const q = `kind=${encodeURIComponent(kind)}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
      const r = await this.api('GET', `/api/orgs/${org}/resources?${q}`);
      if (r.status !== 200) throw new Error(`list ${kind}: ${r.status} ${JSON.stringify(r.body)}`);
      items.push(...r.body.items);
      cont = r.body.metadata && r.body.metadata.continue;
      if (!cont) return items;
    }
    throw new Error('list never ended');
  }

  /** SIGTERM, then SIGKILL after 10 s; answers the exit { code, signal }. */
  async stop() {
    if (this.proc && !this.exit) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    if (live.server === this.proc) live.server = null;
    return this.exit;
  }

  removeDir() {
    rmSync(this.dir, { recursive: true, force: true });
    live.dirs.delete(this.dir);
  }
}

export async function launchBrowser() {
  if (!existsSync(chromiumPath))
    throw new Error(`${chromiumPath} is missing: run scripts/bootstrap.sh browser`);
  // playwright gives every launch a fresh, empty user-data-dir of its own and removes it on close.
  // The flags keep Chromium off the network: only 127.0.0.1 is reachable here.
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 60_000,
  });
  live.browser = browser;
  return browser;
}

/**
 * Starts the server and the browser. Call stop() in after(): it closes the browser, stops the
 * server (SIGTERM) and removes the temporary directories, whatever happened before, and throws
 * if the server did not exit cleanly (a crash during the tests is a failure too).
 */
export async function setup() {
  const krate = new Krate();
  let browser = null;
  const watchdog = setTimeout(() => {
    process.stderr.write(`krate browser tests: still running after ${WATCHDOG_MS} ms; stopping everything\n`);
    killSync();
    process.exit(124);
  }, WATCHDOG_MS);
  watchdog.unref();
  const stop = async () => {
    clearTimeout(watchdog);
    const problems = [];
    if (browser) {
      await browser.close().catch((e) => problems.push(`closing the browser: ${e}`));
      live.browser = null;
    }
    const exit = await krate.stop();
    if (exit && !(exit.code === 0 && !exit.signal))
      problems.push(`krate serve exited with ${JSON.stringify(exit)}; its log:\n${krate.log()}`);
    krate.removeDir();
    for (const d of live.dirs) rmSync(d, { recursive: true, force: true });
    live.dirs.clear();
    if (problems.length) throw new Error(problems.join('\n'));
  };
  try {
    await krate.start();
    browser = await launchBrowser();
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return { krate, browser, stop };
}

/** The path of the page's URL. */
export const pathOf = (page) => new URL(page.url()).pathname;

/** Awaits an API call (krate.api); fails unless it answered status; answers its body. */
export async function expectStatus(call, status, what) {
  const r = await call;
  assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * Creates the private repository org/repo through the API, waits until it is Ready and answers a git
 * work tree whose origin is that repository (as the admin): { git(...args), write(file, text), remove() }.
 * git runs with a private HOME and no prompts, so nothing of the machine's setup leaks in. The tree
 * lives in a temporary directory that remove() deletes (and stop(), should remove() not be reached).
 */
export async function repoWorkTree(krate, org, repo, tag) {
  await expectStatus(krate.api('POST', `/api/orgs/${org}/repositories`, { name: repo, visibility: 'private' }),
    201, 'create the repository');
  for (let i = 0; ; i++) {
    const r = await krate.api('GET', `/api/orgs/${org}/repositories/${repo}`);
    if (r.status === 200 && r.body.phase === 'Ready') break;
    if (i > 400) throw new Error(`repository ${repo} never became Ready: ${JSON.stringify(r.body)}`);
    await sleep(25);
  }
  const dir = mkdtempSync(path.join(process.env.TMPDIR || tmpdir(), `krate-${tag}-`));
  live.dirs.add(dir);
  const work = path.join(dir, 'w');
  mkdirSync(work);
  const git = (...args) => {
    const r = spawnSync('git', args, {
      cwd: work,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_TERMINAL_PROMPT: '0',
        GIT_AUTHOR_NAME: 'Browser Test',
        GIT_AUTHOR_EMAIL: 'browser@example.com',
        GIT_COMMITTER_NAME: 'Browser Test',
        GIT_COMMITTER_EMAIL: 'browser@example.com',
      },
      timeout: 60_000,
    });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const url = new URL(krate.url(`/${org}/${repo}.git`));
  url.username = 'admin';
  url.password = krate.adminToken;
  git('init', '-q', '-b', 'main');
  git('remote', 'add', 'origin', url.href);
  return {
    git,
    write: (file, text) => writeFileSync(path.join(work, file), text),
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      live.dirs.delete(dir);
    },
  };
}

/** Runs fn(page, context) in a fresh context of browser, closed afterwards whatever happens. */
export async function withPage(browser, fn, options = {}) {
  const { context, page } = await newPage(browser, options);
  try {
    return await fn(page, context);
  } finally {
    await context.close().catch(() => {});
  }
}

/** A fresh context (own cookies) and page. */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  // krate.js may ask "really delete?" through confirm(): answer yes, as a person going on would.
  page.on('dialog', (dialog) => dialog.accept().catch(() => {}));
  page.setDefaultTimeout(10_000);
  page.setDefaultNavigationTimeout(15_000);
  return { context, page };
}

/** Signs in through form#login; answers the response of the page it lands on. */
export async function signIn(page, krate, user = krate.demoUser, password = krate.demoPassword, next = '') {
  await page.goto(krate.url(next ? `/login?next=${encodeURIComponent(next)}` : '/login'));
  const form = page.locator('form#login');
  await form.locator('input[name=username]').fill(user);
  await form.locator('input[name=password]').fill(password);
  const [response] = await Promise.all([
    page.waitForNavigation(),
    form.locator('button[type=submit]').click(),
  ]);
  if (response && response.status() === 403) {
    // Say why here: otherwise the test only times out waiting for the page it expected.
    const text = (await page.locator('main').innerText().catch(() => '')).replace(/\s+/g, ' ').trim();
    throw new Error(`POST /login answered 403 (${page.url()}): ${text}`);
  }
  return response;
}

/** Clicks a submit button and waits for the page it leads to; answers that page's response. */
export async function submit(page, buttonLocator) {
  const [response] = await Promise.all([page.waitForNavigation(), buttonLocator.click()]);
  return response;
}

/** Saves a full-page PNG under SCREENSHOT_DIR. */
export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/** A name no other test (or earlier run) uses. */
export function uniqueName(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}
