// The dashboard tutorial in a real browser (Debian's chromium driven by playwright-core): search
// a registry, pull, run with a port, a bind mount and env vars, see it running, its logs, the
// app's page, a terminal, stats; the error cases (name taken, host port in use: the dialog
// shows berthd's message and nothing is left); a 10,000 lines/s log storm with a main-thread
// gap probe; stop, delete, delete the image. Also measures the first load (compressed JS+CSS
// bytes) and time-to-interactive. Prints one JSON summary as the last stdout line; exit 0 only
// when every step passed.
//
// Environment (set by tests/browser/test_dashboard.py):
//   DASHBOARD_URL   http://127.0.0.1:PORT (berthd's dashboard listener)
//   IMAGE_REPO      registry/e2e/memos; SEARCH_TERM what to type in the search box
//   APP_PORT        the image's container port; HOST_PORT a free host port; BUSY_PORT a host
//                   port something else listens on
//   BIND_DIR        absolute host path for the bind mount (created by berthd)
//   SCREENSHOT_DIR  where PNGs go (default docs/screenshots); FAIL_DIR failure screenshots
//   DIST_DIR        the built dashboard (to compare with its .gz files)
//   SKIP            comma-separated step names not to run (reported as skipped)
//   CHROMIUM        browser binary (default /usr/bin/chromium)

import { createRequire } from 'node:module';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const require = createRequire(join(repo, 'dashboard', 'package.json'));
const { chromium } = require('playwright-core');

const env = (k, d) => {
  const v = process.env[k];
  if (v === undefined || v === '') {
    if (d === undefined) throw new Error(`${k} is not set`);
    return d;
  }
  return v;
};
const URL0 = env('DASHBOARD_URL').replace(/\/$/, '');
const IMAGE_REPO = env('IMAGE_REPO');
const SEARCH_TERM = env('SEARCH_TERM', IMAGE_REPO);
const TAG = env('IMAGE_TAG', 'latest');
const APP_PORT = env('APP_PORT');
const HOST_PORT = env('HOST_PORT');
const BUSY_PORT = env('BUSY_PORT');
const BIND_DIR = env('BIND_DIR');
const SHOTS = resolve(env('SCREENSHOT_DIR', join(repo, 'docs', 'screenshots')));
const FAIL_DIR = resolve(env('FAIL_DIR', '/tmp'));
const DIST_DIR = process.env.DIST_DIR || '';
const SKIP = new Set(env('SKIP', '').split(',').filter(Boolean));
const APP_TEXT = env('APP_TEXT', 'memos (berth e2e)');
const LOG_TEXT = env('LOG_TEXT', 'start code=x');
const IMAGE_REF = `${IMAGE_REPO}:${TAG}`;
const NAME = 'memos';

const summary = { ok: false, steps: [], skipped: [], screenshots: [], metrics: {}, failure: null };
const t0 = Date.now();
const log = (...a) => console.error(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

let browser;
let context;
let page;

async function shot(name, p = page) {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, name);
  await p.screenshot({ path });
  summary.screenshots.push(path);
}

// The Engine API through the dashboard's own origin, as the app calls it.
async function apiJson(path, method = 'GET', body) {
  return page.evaluate(
    async ([path, method, body]) => {
      const r = await fetch('/api/v1.47' + path, {
        method,
        headers: { 'X-Berth-Dashboard': '1', ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        credentials: 'same-origin',
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
    [path, method, body || null],
  );
}

async function containersNamed(name) {
  const r = await apiJson(`/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ name: [`^/${name}$`] }))}`);
  check(r.status === 200, `containers/json: ${r.status}`);
  return r.body;
}

async function confirmDialog() {
  await page.getByTestId('confirm').click();
}

async function step(name, fn) {
  if (SKIP.has(name)) {
    summary.skipped.push(name);
    log(`skip ${name}`);
    return;
  }
  const s = Date.now();
  log(`step ${name}`);
  try {
    await fn();
    summary.steps.push({ name, ok: true, ms: Date.now() - s });
  } catch (e) {
    summary.steps.push({ name, ok: false, ms: Date.now() - s, error: String(e && e.stack ? e.stack : e) });
    summary.failure = `${name}: ${e && e.message}`;
    try {
      mkdirSync(FAIL_DIR, { recursive: true });
      await page.screenshot({ path: join(FAIL_DIR, `failure-${name}.png`) });
    } catch (e2) {
      /* the page itself may be gone */
    }
    throw e;
  }
}

const gotoHash = (h) => page.goto(`${URL0}/#/${h}`);
const row = (testid, attr, value) => page.locator(`[data-testid=${testid}] tr[${attr}="${value}"]`);

async function firstLoad() {
  // A fresh context: empty cache, so every byte of the first load crosses the wire.
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const p = await ctx.newPage();
  const responses = [];
  p.on('response', (r) => responses.push(r));
  await p.goto(URL0 + '/');
  await p.waitForFunction(() => performance.getEntriesByName('berth:containers-rendered').length > 0, null, { timeout: 15000 });
  const tti = await p.evaluate(() => performance.getEntriesByName('berth:containers-rendered')[0].startTime);
  const timing = await p.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    const r = performance.getEntriesByType('resource').map((e) => [new URL(e.name).pathname, Math.round(e.startTime), Math.round(e.responseEnd)]);
    return { response_end: Math.round(n.responseEnd), dom_content_loaded: Math.round(n.domContentLoadedEventEnd), resources: r };
  });
  log('timing', JSON.stringify(timing));
  let wire = 0;
  let disk = 0;
  const files = [];
  for (const r of responses) {
    const u = new URL(r.url());
    const type = r.request().resourceType();
    if (u.origin !== new URL(URL0).origin || (type !== 'script' && type !== 'stylesheet')) continue;
    const sizes = await r.request().sizes();
    const enc = (await r.allHeaders())['content-encoding'] || '';
    wire += sizes.responseBodySize;
    const gz = DIST_DIR ? join(DIST_DIR, u.pathname + '.gz') : '';
    const gzSize = gz && existsSync(gz) ? statSync(gz).size : null;
    if (gzSize !== null) disk += gzSize;
    files.push({ path: u.pathname, wire_bytes: sizes.responseBodySize, encoding: enc, gz_file_bytes: gzSize });
  }
  summary.metrics.first_load = { timing, files, js_css_wire_bytes: wire, js_css_gz_file_bytes: DIST_DIR ? disk : null, tti_ms: Math.round(tti) };
  log(`first load: ${wire} B on the wire (${disk} B of .gz files), containers list at ${tti.toFixed(0)} ms`);
  check(files.length >= 2, `first load fetched JS and CSS (${files.map((f) => f.path).join(', ')})`);
  check(files.every((f) => f.encoding === 'gzip'), 'JS and CSS served gzip-encoded');
  check(wire <= 300 * 1024, `first load ${wire} B <= 300 KiB`);
  await ctx.close();
}

async function searchAndPull() {
  await gotoHash('images');
  await page.getByRole('searchbox', { name: 'Search images' }).fill(SEARCH_TERM);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const repoBtn = page.locator(`[data-testid=search-results] button[data-repo="${IMAGE_REPO}"]`);
  await repoBtn.waitFor({ timeout: 20000 });
  await repoBtn.click();
  const tagBtn = page.locator(`[data-testid=repo-tags] button[data-tag="${TAG}"]`);
  await tagBtn.waitFor({ timeout: 20000 });
  await tagBtn.click();
  await page.getByTestId('pull-progress').getByText(/Status: /).waitFor({ timeout: 120000 });
  const layers = await page.locator('[data-testid=pull-progress] progress').count();
  check(layers >= 1, `per-layer progress bars shown (${layers})`);
  await page.locator(`[data-testid=images] tr[data-ref~="${IMAGE_REF}"]`).waitFor({ timeout: 15000 });
  await shot('images-pull.png');
}

async function openRun() {
  await gotoHash('images');
  const r = page.locator(`[data-testid=images] tr[data-ref~="${IMAGE_REF}"]`);
  await r.getByRole('button', { name: 'Run…' }).click();
  const dlg = page.getByRole('dialog');
  await dlg.waitFor();
  // Prefilled from the image's ExposedPorts.
  await dlg.locator('input[name=port-container-0]').waitFor({ timeout: 10000 });
  return dlg;
}

async function runDialog() {
  const dlg = await openRun();
  check((await dlg.locator('input[name=port-container-0]').inputValue()) === APP_PORT, 'container port prefilled from ExposedPorts');
  await dlg.locator('input[name=name]').fill(NAME);
  // Client-side validation first: an out-of-range port and a relative bind path are refused
  // without any request.
  await dlg.locator('input[name=port-host-0]').fill('70000');
  await dlg.getByRole('button', { name: '+ mount' }).click();
  await dlg.locator('input[name=mount-source-0]').fill('relative/dir');
  await dlg.locator('input[name=mount-target-0]').fill('/var/opt/memos');
  await dlg.getByTestId('run-submit').click();
  await dlg.getByText('host port: an integer 1–65535').waitFor();
  await dlg.getByText('a bind mount needs an absolute host path', { exact: false }).waitFor();
  check((await containersNamed(NAME)).length === 0, 'invalid form sent nothing');
  await dlg.locator('input[name=port-host-0]').fill(HOST_PORT);
  await dlg.locator('input[name=mount-source-0]').fill(BIND_DIR);
  await dlg.getByRole('button', { name: '+ variable' }).click();
  await dlg.locator('input[name=env-key-0]').fill('CODE');
  await dlg.locator('input[name=env-value-0]').fill('x');
  await dlg.getByRole('button', { name: '+ variable' }).click();
  await dlg.locator('input[name=env-key-1]').fill('API_TOKEN');
  await dlg.locator('input[name=env-value-1]').fill('s3cret-value');
  check((await dlg.locator('input[name=env-value-1]').getAttribute('type')) === 'password', 'secret value masked');
  const cmd = await dlg.getByTestId('cmdline').textContent();
  const want = `berth run -d --name ${NAME} -p ${HOST_PORT}:${APP_PORT} -v ${BIND_DIR}:/var/opt/memos -e CODE=x -e 'API_TOKEN=******' ${IMAGE_REF}`;
  check(cmd === want, `command line ${JSON.stringify(cmd)} == ${JSON.stringify(want)}`);
  await dlg.getByRole('button', { name: 'Show' }).click();
  check((await dlg.locator('input[name=env-value-1]').getAttribute('type')) === 'text', 'show toggle reveals the value');
  check(!(await dlg.getByTestId('cmdline').textContent()).includes('s3cret'), 'the command line keeps the secret masked');
  await dlg.getByRole('button', { name: 'Hide' }).click();
  await shot('run-dialog.png');
  await dlg.getByTestId('run-submit').click();
  await dlg.waitFor({ state: 'detached', timeout: 30000 });
  const r = row('containers', 'data-name', NAME);
  await r.getByTestId('state').getByText('running').waitFor({ timeout: 30000 });
  const href = await r.getByTestId('port-link').first().getAttribute('href');
  check(href === `http://127.0.0.1:${HOST_PORT}`, `port link ${href}`);
}

async function logsView() {
  await row('containers', 'data-name', NAME).getByRole('link', { name: NAME }).click();
  await page.getByTestId('logbox').getByText(LOG_TEXT).waitFor({ timeout: 20000 });
  await page.getByLabel('Timestamps').check();
  await page.locator('[data-testid=logbox] .ts').first().waitFor();
  await shot('container-logs.png');
  await page.getByLabel('Timestamps').uncheck();
}

async function appPage() {
  const p = await context.newPage();
  const res = await p.goto(`http://127.0.0.1:${HOST_PORT}`);
  check(res && res.status() === 200, `app answered ${res && res.status()}`);
  await p.getByText(APP_TEXT).waitFor({ timeout: 5000 });
  await shot('app-page.png', p);
  await p.close();
}

async function terminal() {
  await gotoHash(`containers/${NAME}/terminal`);
  await page.getByTestId('term-status').getByText('connected').waitFor({ timeout: 20000 });
  await page.locator('[data-testid=terminal] .xterm').click();
  await page.keyboard.type('echo hello-$((6*7))\n');
  await page.locator('[data-testid=terminal] .xterm-rows').getByText('hello-42', { exact: true }).waitFor({ timeout: 10000 });
  await shot('terminal.png');
}

async function statsAndMore() {
  await gotoHash(`containers/${NAME}/stats`);
  await page.waitForFunction(() => document.querySelector('[data-testid=cpu-chart] polyline') !== null, null, { timeout: 20000 });
  const mem = await page.locator('[data-testid=mem-chart] figcaption strong').textContent();
  check(/iB|B$/.test(mem), `memory figure ${mem}`);
  // The app page fetched through the published port crossed eth0: the totals are counted.
  const net = await page.locator('[data-testid=net-chart] figcaption span').first().textContent();
  check(/received [1-9][\d.]* k?B, sent [1-9]/.test(net), `network figure ${net}`);
  await shot('container-stats.png');
  await gotoHash(`containers/${NAME}/inspect`);
  const ins = JSON.parse(await page.getByTestId('inspect').textContent());
  check(ins.Name === `/${NAME}` && ins.Config.Env.includes('CODE=x'), 'inspect shows the container');
  await gotoHash(`containers/${NAME}/changes`);
  await page.getByText(/paths$|No files changed/).first().waitFor({ timeout: 10000 });
}

async function errorCases() {
  // The name is taken (409 at create): the dialog shows berthd's message, nothing new exists.
  let dlg = await openRun();
  await dlg.locator('input[name=name]').fill(NAME);
  await dlg.locator('input[name=port-host-0]').fill(String(Number(HOST_PORT) + 1));
  await dlg.getByTestId('run-submit').click();
  await dlg.getByTestId('run-error').waitFor({ timeout: 20000 });
  const nameMsg = await dlg.getByTestId('run-error').textContent();
  check(/already in use/i.test(nameMsg), `name-taken message: ${nameMsg}`);
  check((await containersNamed(NAME)).length === 1, 'still exactly one container with the name');
  await dlg.getByRole('button', { name: 'Cancel' }).click();
  // The host port is taken (the start fails): message shown, the created container deleted.
  dlg = await openRun();
  await dlg.locator('input[name=name]').fill('memos-busy');
  await dlg.locator('input[name=port-host-0]').fill(BUSY_PORT);
  await dlg.getByTestId('run-submit').click();
  await dlg.getByTestId('run-error').waitFor({ timeout: 30000 });
  const portMsg = await dlg.getByTestId('run-error').textContent();
  summary.metrics.port_in_use_message = portMsg;
  check(new RegExp(`${BUSY_PORT}.*(address already in use|already allocated)`, 'i').test(portMsg), `port-in-use message: ${portMsg}`);
  await shot('run-error-port.png');
  check((await containersNamed('memos-busy')).length === 0, 'no container left after the failed start');
  await dlg.getByRole('button', { name: 'Cancel' }).click();
  // The image is in use: delete answers 409 and the message is shown.
  await gotoHash('images');
  const r = page.locator(`[data-testid=images] tr[data-ref~="${IMAGE_REF}"]`);
  await r.getByTestId('in-use').waitFor();
  await r.getByRole('button', { name: 'Delete' }).click();
  await confirmDialog();
  const toast = page.getByTestId('toast').filter({ hasText: /conflict: unable to (delete|remove)/ });
  await toast.waitFor({ timeout: 10000 });
  await toast.getByRole('button', { name: 'Dismiss' }).click();
  // The registry is unreachable (nothing listens on 127.0.0.1:9): the pull fails after
  // berthd's retries and its message, naming the registry, is shown.
  await page.getByRole('textbox', { name: 'Image to pull' }).fill('127.0.0.1:9/nothing/here:1');
  await page.getByRole('button', { name: 'Pull', exact: true }).click();
  const pullErr = page.getByTestId('toast').filter({ hasText: /127\.0\.0\.1:9\b/ });
  await pullErr.waitFor({ timeout: 60000 });
  const regMsg = await pullErr.textContent();
  summary.metrics.registry_unreachable_message = regMsg;
  check(/connect/i.test(regMsg), `registry-unreachable message: ${regMsg}`);
  await pullErr.getByRole('button', { name: 'Dismiss' }).click();
}

async function logStorm() {
  // ~10,000 lines per second for 5 s, after a 2 s pause that lets the view attach first.
  const script =
    'sleep 2; for s in 1 2 3 4 5; do awk -v s=$s \'BEGIN{for(i=1;i<=10000;i++) print "burst " s " line " i " lorem ipsum dolor sit amet"}\'; sleep 1; done; echo storm-done; exec sleep 3600';
  const c = await apiJson('/containers/create?name=logstorm', 'POST', { Image: IMAGE_REF, Cmd: ['sh', '-c', script] });
  check(c.status === 201, `create logstorm: ${JSON.stringify(c)}`);
  const st = await apiJson(`/containers/${c.body.Id}/start`, 'POST');
  check(st.status === 204, `start logstorm: ${st.status}`);
  await gotoHash('containers/logstorm/logs');
  await page.getByTestId('logbox').waitFor();
  await page.evaluate(() => {
    const probe = { max: 0, frames: 0, last: performance.now(), start: performance.now() };
    window.__probe = probe;
    const tick = (t) => {
      const gap = t - probe.last;
      if (gap > probe.max) probe.max = gap;
      probe.last = t;
      probe.frames++;
      if (!probe.stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const t1 = Date.now();
  await page.getByTestId('logbox').getByText('storm-done', { exact: true }).waitFor({ timeout: 60000 });
  const res = await page.evaluate(() => {
    const p = window.__probe;
    p.stop = true;
    const box = document.querySelector('[data-testid=logbox]');
    return {
      max_gap_ms: Math.round(p.max),
      frames: p.frames,
      seconds: (performance.now() - p.start) / 1000,
      total_lines: Number(box.dataset.totalLines),
      dom_lines: box.childElementCount,
      max_flush_ms: Number(box.dataset.maxFlushMs),
      max_parse_ms: Number(box.dataset.maxParseMs),
      at_bottom: box.scrollHeight - box.scrollTop - box.clientHeight < 40,
      last_line: box.lastElementChild && box.lastElementChild.textContent,
    };
  });
  res.wall_s = (Date.now() - t1) / 1000;
  summary.metrics.log_storm = res;
  log('log storm', JSON.stringify(res));
  await shot('logs-storm.png');
  check(res.total_lines >= 50001, `all lines arrived (${res.total_lines})`);
  check(res.last_line === 'storm-done', `the view followed to the last line (${res.last_line})`);
  check(res.at_bottom, 'still scrolled to the bottom');
  check(res.dom_lines <= 2000, `DOM capped (${res.dom_lines} lines)`);
  check(res.max_gap_ms <= 200, `main thread never blocked > 200 ms (max frame gap ${res.max_gap_ms} ms)`);
  // Filter works on the ring buffer.
  await page.getByLabel('Filter log lines').fill('burst 3 line 9999 ');
  await page.getByTestId('logbox').getByText('burst 3 line 9999 lorem ipsum dolor sit amet').waitFor();
  check((await page.locator('[data-testid=logbox] .l').count()) === 1, 'filter shows the one matching line');
}

async function stopAndDelete() {
  await gotoHash('containers');
  const r = row('containers', 'data-name', NAME);
  await r.getByRole('button', { name: 'Stop' }).click();
  await r.getByTestId('state').getByText('exited').waitFor({ timeout: 30000 });
  await r.getByRole('button', { name: 'Delete' }).click();
  await confirmDialog();
  await r.waitFor({ state: 'detached', timeout: 20000 });
  const s = row('containers', 'data-name', 'logstorm');
  if (await s.count()) {
    await s.getByRole('button', { name: 'Delete' }).click();
    await confirmDialog();
    await s.waitFor({ state: 'detached', timeout: 30000 });
  }
  check((await containersNamed(NAME)).length === 0, 'container gone');
}

async function deleteImage() {
  await gotoHash('images');
  const r = page.locator(`[data-testid=images] tr[data-ref~="${IMAGE_REF}"]`);
  await r.waitFor();
  check((await r.getByTestId('in-use').count()) === 0, 'image no longer marked in use');
  await r.getByRole('button', { name: 'Delete' }).click();
  await confirmDialog();
  await r.waitFor({ state: 'detached', timeout: 20000 });
  const imgs = await apiJson('/images/json');
  check(!imgs.body.some((i) => (i.RepoTags || []).includes(IMAGE_REF)), 'image deleted');
}

async function extraScreens() {
  await gotoHash('volumes');
  await page.locator('h1', { hasText: 'Volumes' }).waitFor();
  await shot('volumes.png');
  await gotoHash('settings');
  await page.locator('h1', { hasText: 'Settings' }).waitFor();
  await page.locator('[data-testid=autostart], .error-line').first().waitFor({ timeout: 10000 });
  await shot('settings.png');
}

async function phone() {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
  const p = await ctx.newPage();
  await p.goto(URL0 + '/#/containers');
  await p.locator(`[data-testid=containers] tr[data-name="${NAME}"]`).waitFor({ timeout: 15000 });
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `no horizontal overflow at 390 px (${overflow} px)`);
  await shot('phone-containers.png', p);
  await ctx.close();
}

async function main() {
  browser = await chromium.launch({ executablePath: env('CHROMIUM', '/usr/bin/chromium'), args: ['--no-sandbox'] });
  try {
    await step('first-load', firstLoad);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (e) => log('page error:', e.message));
    await step('search-pull', searchAndPull);
    await step('run', runDialog);
    await gotoHash('containers');
    await row('containers', 'data-name', NAME).waitFor();
    await shot('containers.png');
    await step('phone', phone);
    await step('logs', logsView);
    await step('app-page', appPage);
    await step('terminal', terminal);
    await step('stats', statsAndMore);
    await step('errors', errorCases);
    await step('log-storm', logStorm);
    await step('screens', extraScreens);
    await step('stop-delete', stopAndDelete);
    await step('delete-image', deleteImage);
    summary.ok = true;
  } catch (e) {
    log('FAILED:', e && e.stack ? e.stack : e);
  } finally {
    await browser.close().catch(() => {});
  }
  summary.seconds = (Date.now() - t0) / 1000;
  console.log(JSON.stringify(summary));
  process.exit(summary.ok ? 0 : 1);
}

main();
