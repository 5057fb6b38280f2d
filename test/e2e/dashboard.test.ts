// The dashboard at /ui in a real browser (Debian's chromium driven by playwright-core): sign in,
// submit a model (with options), watch the job move and its times, look at its outputs and its 3D preview, download, cancel a
// job, a failed job's traceback, a metadata table, the job list wide and on a phone; an accessibility check (axe-core) of each page; screenshots written for people to look at
// (DASHBOARD_SCREENSHOTS, default test-artifacts/dashboard/). Skipped, saying so, without chromium.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, startStack, submit, type Stack } from '../helpers/stack';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
if (!CHROMIUM) console.log('dashboard test skipped: no chromium (apt-get install chromium)');
const SHOTS = process.env.DASHBOARD_SCREENSHOTS ?? path.join(REPO, 'test-artifacts', 'dashboard');

describe.skipIf(!CHROMIUM)('the dashboard', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let scratch: string;
  /** Jobs submitted at the start through the API, done by the time their pages are looked at. */
  let failing: string;
  let described: string;
  const shot = async (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  /** axe-core on the page as it is: no serious or critical violations. */
  const accessible = async (where: string) => {
    await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
    const result = (await page.evaluate(async () => (globalThis as any).axe.run())) as { violations: { id: string; impact: string; nodes: unknown[] }[] };
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.nodes.length})`);
    expect(bad, where).toEqual([]);
  };
  /** How many lines each element's text takes (an element holding text only): 1 when it does not wrap. */
  const lines = (selector: string) =>
    page.locator(selector).evaluateAll((els) =>
      els.map((el) => {
        const range = (globalThis as any).document.createRange();
        range.selectNodeContents(el);
        return `${el.textContent}: ${new Set([...range.getClientRects()].map((r: any) => Math.round(r.top))).size}`;
      }),
    );
  const status = () => page.locator('.badge').first().textContent();
  const cancelButton = () => page.getByRole('button', { name: 'Cancel', exact: true });

  beforeAll(async () => {
    stack = await startStack();
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-ui-'));
    fs.mkdirSync(SHOTS, { recursive: true });
    // A cube, as OBJ: the job converts it to GLB for the 3D preview.
    const v = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]].map((p) => `v ${p.join(' ')}`);
    const f = ['1 3 2', '1 4 3', '5 6 7', '5 7 8', '1 2 6', '1 6 5', '2 3 7', '2 7 6', '3 4 8', '3 8 7', '4 1 5', '4 5 8'].map((x) => `f ${x}`);
    fs.writeFileSync(path.join(scratch, 'cube.obj'), `${[...v, ...f].join('\n')}\n`);
    // 30 of them, as named parts: a node tree whose JSON (2 KB) squeezed the metadata table's keys to a letter.
    const part = (k: number) => [`o part_${k}_of_the_assembly`, ...v.map((line) => line.replace(/^v (\d)/, (_, x) => `v ${Number(x) + 2 * k}`)), ...f.map((line) => `f ${line.slice(2).split(' ').map((i) => Number(i) + 8 * k).join(' ')}`)];
    const parts = Array.from({ length: 30 }, (_, k) => part(k).join('\n')).join('\n');
    fs.writeFileSync(path.join(scratch, 'slow.ts'), `export async function main(pc: any) { pc.progressSetTotal(30); for (let i = 1; i <= 30; i++) { pc.progressNext('slice ' + i); await new Promise((r) => setTimeout(r, 400)); } }\n`);
    // 40 steps, then a throw: its page shows the error, the traceback, the steps in their own scroll.
    const steps = `pc.progressSetTotal(40); for (let i = 1; i <= 40; i++) pc.progressNext('check ' + i);`;
    const script = `export async function main(pc: any) { ${steps} throw new Error('the model has no faces'); }\n`;
    // Its long name crowded a phone's job list, breaking the badges beside it mid-word.
    failing = (await submit(stack, { script: { name: 'fails.ts', content: script }, name: 'broken-one-with-a-name-long-enough-to-crowd-a-phone' })).body.uuid;
    described = (await submit(stack, { process: 'generate_metadata', file: { name: 'parts.obj', content: `${parts}\n` } })).body.uuid;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'] });
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('signs in with the key (refusing a wrong one), kept for the tab only, never in the URL', async () => {
    const started = Date.now();
    await page.goto(`${stack.url}/ui`);
    await page.getByLabel('API key').waitFor();
    expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(false); // nothing to sign out of
    await page.getByLabel('API key').fill('not-the-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/Invalid token/);
    await accessible('sign-in');
    await shot('1-sign-in');
    await page.getByLabel('API key').fill(stack.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(page.url()).not.toContain(stack.key);
    expect(await page.evaluate(() => (globalThis as any).localStorage.length)).toBe(0);
    console.log(`dashboard: sign-in page to the job list in ${Date.now() - started} ms`);
  });

  it('submits a model to a process with upload progress, then shows the job live to SUCCESS', async () => {
    await page.getByRole('link', { name: 'Submit' }).click();
    await page.getByLabel('What to run').selectOption('convert_file');
    await expect.poll(() => page.locator('pre.muted').textContent()).toMatch(/Convert a 3D file/);
    // The params it declares, as fields that write the JSON; a value out of bounds is refused here.
    await page.getByLabel('extension', { exact: true }).selectOption('glb');
    await page.getByLabel('simplify', { exact: true }).fill('2');
    await expect.poll(() => page.getByLabel('Params (JSON)').inputValue()).toBe('{"extension":"glb","simplify":2}');
    await page.locator('#file').setInputFiles(path.join(scratch, 'cube.obj'));
    await page.getByRole('button', { name: 'Submit' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe("Params: 'simplify' must be at most 1, not 2");
    await page.getByLabel('simplify', { exact: true }).fill('');
    await expect.poll(() => page.getByLabel('Params (JSON)').inputValue()).toBe('{"extension":"glb"}');
    await expect.poll(() => page.locator('.drop').textContent()).toMatch(/Model: cube\.obj/);
    // The options, folded under the model; a process runs its own entrypoint: no field for it.
    await page.locator('details.options summary').click();
    await page.getByLabel('Queue').waitFor();
    expect(await page.getByLabel('Entrypoint').isVisible()).toBe(false);
    await accessible('submit');
    await shot('2-submit');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
    await expect.poll(status, { timeout: 30_000 }).toBe('SUCCESS');
    await page.getByRole('cell', { name: 'output.glb' }).waitFor();
    expect(await cancelButton().count()).toBe(0); // nothing to cancel: hidden, not disabled
    // Its size beside it, and what it was submitted with.
    expect(await page.getByRole('row', { name: /output\.glb/ }).textContent()).toMatch(/\d+(\.\d)? (B|KiB|MiB)/);
    const submitted = page.locator('dl.submitted');
    await expect.poll(() => submitted.textContent()).toMatch(/Processconvert_file.*Filecube\.obj.*Params\{\s*"extension": "glb"\s*\}/s);
    // When it started and ended, and how long it took.
    await expect.poll(() => submitted.textContent()).toMatch(/Submitted.+Started.*\d:\d\d:\d\d.*Ended.*\d:\d\d:\d\d.*Durationtook \d+\.\d+ s/s);
    await accessible('job');
    await shot('3-job');
  });

  it('opens the GLB output in the 3D preview, drawn in a WebGL canvas', async () => {
    await page.getByRole('button', { name: 'View in 3D' }).click();
    const viewer = page.locator('#viewer[data-loaded="true"] canvas');
    await viewer.waitFor({ timeout: 20_000 });
    // Brought into view as it opened (it opens below the outputs).
    const inView = (el: any) => el.getBoundingClientRect().top >= 0 && Math.round(el.getBoundingClientRect().bottom) <= (globalThis as any).innerHeight;
    await expect.poll(() => page.locator('#viewer').evaluate(inView)).toBe(true);
    // Something other than the background was drawn: the model.
    const coloured = await page.evaluate(() => {
      const doc = (globalThis as any).document;
      const canvas = doc.querySelector('#viewer canvas');
      const copy = doc.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      const ctx = copy.getContext('2d');
      ctx.drawImage(canvas, 0, 0);
      const { data } = ctx.getImageData(0, 0, copy.width, copy.height);
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n / (copy.width * copy.height);
    });
    expect(coloured).toBeGreaterThan(0.02);
    await page.locator('#viewer').scrollIntoViewIfNeeded();
    await shot('4-preview');
  });

  it('runs a job again with the same inputs, as a new job', async () => {
    const before = page.url();
    await page.getByRole('button', { name: 'Run again' }).click();
    await page.waitForURL((url) => /#\/jobs\/[0-9a-f-]{36}$/.test(url.href) && url.href !== before);
    await expect.poll(() => page.locator('.badge').first().textContent(), { timeout: 30_000 }).toBe('SUCCESS');
    await page.getByRole('cell', { name: 'output.glb' }).waitFor();
  });

  it('downloads an output with the key in a header, not in a link', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('row', { name: /output\.glb/ }).getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe('output.glb');
    const file = path.join(scratch, 'got.glb');
    await download.saveAs(file);
    expect(fs.readFileSync(file).subarray(0, 4).toString()).toBe('glTF');
  });

  it('lists jobs with filters, and cancels a running job from its page', async () => {
    await page.getByRole('link', { name: 'Submit' }).click();
    await page.locator('#script').setInputFiles(path.join(scratch, 'slow.ts'));
    await page.getByLabel('Name').fill('slow-one');
    // Options: sent as the submission's config; a value the API refuses shows as the form's error.
    await page.locator('details.options summary').click();
    await page.getByLabel('Queue').fill('gpu');
    await page.getByLabel('Time limit (s)').fill('-1');
    await page.getByRole('button', { name: 'Submit' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^Invalid time_limit '-1'/);
    await page.getByLabel('Time limit (s)').fill('77');
    expect(await page.locator('details.options summary').textContent()).toBe('Options · 2 set');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
    const input = await (await stack.api(`/jobs/${page.url().slice(-36)}/input`)).json();
    expect(input).toMatchObject({ queue: 'gpu', time_limit: 77, entrypoint: 'main', root_file: null });
    await expect.poll(() => page.locator('[aria-live="polite"]').first().textContent(), { timeout: 20_000 }).toMatch(/Now: slice \d+/);
    const submitted = page.locator('dl.submitted');
    await expect.poll(() => submitted.textContent()).toMatch(/Durationrunning for \d+ s.*Queuegpu, time limit 77 s/s);
    // A live count: it goes on without the page reading the job again.
    const runningFor = async () => Number(/running for (\d+) s/.exec((await submitted.textContent()) ?? '')?.[1]);
    const first = await runningFor();
    await expect.poll(runningFor, { timeout: 3000 }).toBeGreaterThan(first);
    await shot('5-running');
    // Asked first, as Delete is.
    const asked = new Promise<string>((resolve) => page.once('dialog', (d) => (resolve(d.message()), void d.accept())));
    await cancelButton().click();
    expect(await asked).toBe('Cancel this job?');
    await expect.poll(() => page.locator('.badge').first().textContent(), { timeout: 20_000 }).toBe('REVOKED');
    await expect.poll(() => submitted.textContent()).toMatch(/Ended.+Durationtook \d+\.\d+ s/s); // the count stopped
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByLabel('Name').fill('slow-one');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    expect(await page.locator('tbody tr .badge').textContent()).toBe('REVOKED');
    expect(await page.locator('tbody tr td').nth(3).textContent()).toBe('slow.ts'); // its process column: the script's name
    await accessible('jobs');
    await shot('6-jobs');
  });

  it('shows a failed job: its error, its traceback folded under it, its 40 steps in a scroll of their own', async () => {
    await page.goto(`${stack.url}/ui#/jobs/${failing}`);
    await expect.poll(status, { timeout: 30_000 }).toBe('FAILURE');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/the model has no faces/);
    const traceback = page.locator('details.traceback');
    await traceback.getByText('Traceback').click();
    expect(await traceback.locator('pre').textContent()).toMatch(/fails\.ts/);
    expect(await cancelButton().count()).toBe(0);
    const steps = page.locator('ol.steps');
    await expect.poll(() => steps.locator('li').count()).toBe(40);
    // At most its max-height tall, scrolled to its newest step.
    const box = await steps.evaluate((el) => ({ height: el.clientHeight, overflows: el.scrollHeight > el.clientHeight, below: el.scrollHeight - el.scrollTop - el.clientHeight }));
    expect(box).toMatchObject({ overflows: true });
    expect(box.height).toBeLessThanOrEqual(320);
    expect(box.below).toBeLessThan(5);
    await accessible('failed job');
    await shot('8-failed');
  });

  it('shows a metadata.json as a table: each key on one line, the node tree folded', async () => {
    await page.goto(`${stack.url}/ui#/jobs/${described}`);
    await expect.poll(status, { timeout: 30_000 }).toBe('SUCCESS');
    const nodes = page.locator('table.meta tr', { has: page.getByRole('rowheader', { name: 'nodes', exact: true }) });
    await nodes.waitFor();
    expect(await nodes.locator('summary').textContent()).toBe('30 items');
    await nodes.locator('summary').click();
    await expect.poll(() => nodes.locator('pre').textContent()).toMatch(/"name": "part_29_of_the_assembly",\s+"triangles": 12/);
    expect((await lines('table.meta th')).filter((l) => !l.endsWith(': 1'))).toEqual([]);
    expect(await page.getByRole('rowheader', { name: 'bbox.max' }).locator('xpath=..').locator('td').textContent()).toBe('59, 1, 1'); // a short list stays inline
    await accessible('metadata');
    await shot('9-metadata');
  });

  it('lists jobs with their badges and ids on one line, wide and on a phone', async () => {
    for (const [width, height] of [[1400, 900], [390, 844]] as const) {
      await page.setViewportSize({ width, height });
      await page.goto(`${stack.url}/ui#/jobs`);
      await expect.poll(() => page.locator('tbody .badge').count()).toBeGreaterThanOrEqual(5);
      expect((await lines('tbody .badge, tbody td.id a')).filter((l) => !l.endsWith(': 1')), `${width} px`).toEqual([]);
      expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth), `${width} px`).toBeLessThanOrEqual(width);
      await shot(`10-jobs-${width}`);
    }
    await page.setViewportSize({ width: 1200, height: 900 });
  });

  it('has a dark theme as well as a light one', async () => {
    await page.getByRole('button', { name: 'Switch between dark and light' }).click();
    const bg = () => page.evaluate(() => (globalThis as any).getComputedStyle((globalThis as any).document.body).backgroundColor as string);
    const first = await bg();
    await page.getByRole('button', { name: 'Switch between dark and light' }).click();
    expect(await bg()).not.toBe(first);
    await shot('7-theme');
    await accessible('theme');
  });
});
