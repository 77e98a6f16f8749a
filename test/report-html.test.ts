// The HTML reports in a real browser: Debian's chromium, headless, driven over the DevTools protocol (a WebSocket
// client on node:net, so the same code runs on Node, Bun and Deno). The page must load with no console error, no
// exception and no network request, and every figure on it must equal the JSON report. Skips when chromium is absent.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { offlineInit } from '../src/mod.ts';
import type { AssignmentEvent } from '../src/events/logger.ts';
import { ROOT, readText, runCli } from './support.ts';

const t = suite('report-html');
const dir = mkdtempSync(join(tmpdir(), 'saltshard-html-'));
const CONFIG = join(ROOT, 'examples', 'flags.json');
const NEXT = join(ROOT, 'examples', 'flags-next.json');

// deno-lint-ignore no-explicit-any
type Json = any;

function findChromium(): string | null {
  for (const name of [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome']) {
    if (!name) continue;
    const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return name;
  }
  return null;
}

/** A minimal WebSocket client (RFC 6455: masked text frames out; text, continuation, close and ping in). */
class Ws {
  #buffer = Buffer.alloc(0);
  #parts: Buffer[] = [];
  onMessage: (text: string) => void = () => {};
  private constructor(private readonly socket: Socket) {}

  static open(url: string): Promise<Ws> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(u.port), u.hostname);
      const key = randomBytes(16).toString('base64');
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        const status = head.subarray(0, end).toString();
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        if (!status.startsWith('HTTP/1.1 101') || !status.includes(accept)) return reject(new Error(`WebSocket handshake failed: ${status}`));
        const ws = new Ws(socket);
        socket.on('data', (c: Buffer) => ws.#read(c));
        ws.#read(head.subarray(end + 4));
        resolve(ws);
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
  }

  send(text: string): void {
    const payload = Buffer.from(text);
    const n = payload.length;
    const header = n < 126 ? Buffer.from([0x81, 0x80 | n]) : n < 65536 ? Buffer.from([0x81, 0x80 | 126, n >> 8, n & 255]) : Buffer.concat([Buffer.from([0x81, 0x80 | 127, 0, 0, 0, 0]), Buffer.from([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])]);
    const mask = randomBytes(4);
    for (let i = 0; i < n; i++) payload[i] ^= mask[i & 3];
    this.socket.write(Buffer.concat([header, mask, payload]));
  }

  #read(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) return;
      let len = b[1] & 127;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      if (b.length < at + len) return;
      const opcode = b[0] & 15;
      const fin = (b[0] & 0x80) !== 0;
      const payload = b.subarray(at, at + len);
      this.#buffer = b.subarray(at + len);
      if (opcode === 1 || opcode === 0) {
        this.#parts.push(Buffer.from(payload));
        if (fin) {
          const text = Buffer.concat(this.#parts).toString();
          this.#parts = [];
          this.onMessage(text);
        }
      }
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A CDP session on one page. */
class Browser {
  #id = 0;
  readonly #pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  readonly events: { method: string; params: Json }[] = [];
  #listeners: ((m: { method: string; params: Json }) => void)[] = [];
  sessionId = '';
  private constructor(readonly proc: ChildProcess, readonly ws: Ws, readonly profile: string) {
    ws.onMessage = (text) => {
      const m = JSON.parse(text);
      if (m.id !== undefined) {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.error) p?.reject(new Error(`${m.error.message}`));
        else p?.resolve(m.result);
      } else {
        this.events.push(m);
        for (const l of this.#listeners) l(m);
      }
    };
  }

  static async launch(binary: string): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'saltshard-chromium-'));
    const proc = spawn(binary, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--remote-debugging-port=0', '--remote-debugging-address=127.0.0.1',
      `--user-data-dir=${profile}`, '--no-first-run', '--no-default-browser-check', '--disable-background-networking', '--disable-component-update',
      '--disable-default-apps', '--disable-extensions', '--disable-sync', '--metrics-recording-only', '--disable-domain-reliability',
      '--disable-client-side-phishing-detection', '--disable-features=Translate,OptimizationHints,MediaRouter', '--mute-audio', '--hide-scrollbars', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`chromium did not start: ${err}`)), 60_000);
      proc.stderr!.on('data', (c: Buffer) => {
        err += c.toString();
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      proc.once('exit', (code) => reject(new Error(`chromium exited (${code}): ${err}`)));
    });
    const b = new Browser(proc, await Ws.open(url), profile);
    const { targetId } = await b.send('Target.createTarget', { url: 'about:blank' });
    b.sessionId = (await b.send('Target.attachToTarget', { targetId, flatten: true })).sessionId;
    for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await b.send(`${domain}.enable`, {}, true);
    return b;
  }

  send(method: string, params: Json = {}, onPage = false): Promise<Json> {
    const id = ++this.#id;
    this.ws.send(JSON.stringify({ id, method, params, ...(onPage ? { sessionId: this.sessionId } : {}) }));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
  }

  /** Loads a page and waits for its load event. */
  async open(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => {
      const l = (m: { method: string }) => {
        if (m.method === 'Page.loadEventFired') {
          this.#listeners = this.#listeners.filter((x) => x !== l);
          resolve();
        }
      };
      this.#listeners.push(l);
    });
    await this.send('Page.navigate', { url }, true);
    await loaded;
  }

  async evaluate(expression: string): Promise<Json> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true }, true);
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.text);
    return r.result.value;
  }

  /** Console errors, uncaught exceptions, error log entries and requests other than the page itself. */
  problems(page: string): string[] {
    return this.events.flatMap(({ method, params }) => {
      if (method === 'Runtime.consoleAPICalled' && (params.type === 'error' || params.type === 'warning')) return [`console ${params.type}: ${JSON.stringify(params.args)}`];
      if (method === 'Runtime.exceptionThrown') return [`exception: ${params.exceptionDetails.text}`];
      if (method === 'Log.entryAdded' && params.entry.level === 'error') return [`log: ${params.entry.text} ${params.entry.url ?? ''}`];
      if (method === 'Network.requestWillBeSent' && params.request.url !== page) return [`request: ${params.request.url}`];
      return [];
    });
  }

  async close(): Promise<void> {
    try {
      await Promise.race([this.send('Browser.close'), new Promise((r) => setTimeout(r, 5000))]);
    } catch {
      // already gone
    }
    this.ws.close();
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGKILL');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    // Chromium's helper processes may still be writing into the profile for a moment after it exits.
    for (let attempt = 1; ; attempt++) {
      try {
        rmSync(this.profile, { recursive: true, force: true });
        return;
      } catch (err) {
        if (attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

/** Every figure on the page: data-figure → { value, text }. */
const FIGURES = `JSON.stringify(Object.fromEntries([...document.querySelectorAll('[data-figure]')].map((e) => [e.dataset.figure, { value: e.dataset.value, text: e.textContent }])))`;

const chromium = findChromium();
let browser: Browser | null = null;

t.before(async () => {
  if (chromium === null) {
    console.log('SKIP report-html: no chromium on PATH (Debian: apt-get install chromium; .ci/setup.d/18-chromium.sh installs it)');
    return;
  }
  browser = await Browser.launch(chromium);
});

t.after(async () => {
  await browser?.close();
});

/** Events logged by the client for `n` subjects, with 5 % of control dropped: a sample ratio mismatch. */
function faultyEvents(n: number): AssignmentEvent[] {
  const events: AssignmentEvent[] = [];
  const client = offlineInit({ flagsConfiguration: readText(CONFIG), assignmentLogger: { logAssignment: (e) => void events.push(e) } });
  for (let i = 0; i < n; i++) {
    const attrs = { country: ['US', 'CA', 'FR', 'DE'][i % 4], appVersion: '2.5.0' };
    client.getStringAssignment('checkout-redesign', `s-${i}`, attrs, 'none');
    client.getBooleanAssignment('new-search', `s-${i}`, attrs, false);
  }
  let k = 0;
  return events.filter((e) => !(e.featureFlag === 'checkout-redesign' && e.variation === 'control' && k++ % 20 === 0));
}

t('audit report: renders in chromium with no error or request; bars, p-values and checks equal the JSON; failing first', async () => {
  if (browser === null) return;
  const events = join(dir, 'events.ndjson');
  writeFileSync(events, `${faultyEvents(40_000).map((e) => JSON.stringify(e)).join('\n')}\n`);
  const json = runCli(['audit', '--config', CONFIG, '--exposures', events, '--format', 'json']);
  assert.equal(json.code, 1, json.stderr);
  const report = JSON.parse(json.stdout);
  const html = join(dir, 'audit.html');
  assert.equal(runCli(['audit', '--config', CONFIG, '--exposures', events, '--format', 'html', '--output', html]).code, 1);
  assert.ok(!/<script|https?:\/\//.test(readFileSync(html, 'utf8')), 'self-contained: no script, no link out');
  const url = pathToFileURL(html).href;
  await browser.open(url);
  assert.deepEqual(browser.problems(url), []);
  const figures = JSON.parse(await browser.evaluate(FIGURES));
  assert.equal(figures.ok.value, 'false');
  assert.equal(Number(figures.reproduced.value), report.reproduced);
  for (const e of report.experiments) {
    for (const v of e.variations) {
      assert.equal(Number(figures[`expected ${e.experiment} ${v.variation}`].value), v.expected);
      assert.equal(Number(figures[`observed ${e.experiment} ${v.variation}`].value), v.observed);
      assert.match(figures[`observed ${e.experiment} ${v.variation}`].text, new RegExp(`\\(${v.count}\\)$`));
    }
    if (e.srm) assert.equal(Number(figures[`srm ${e.experiment}`].value), e.srm.pValue);
    assert.equal(Number(figures[`duplicates ${e.experiment}`].value), e.duplicates);
  }
  for (const c of report.checks) assert.equal(figures[`check ${c.name}`].value, String(c.ok));
  // The failing check is the first row, and the bars are drawn (SVG boxes with a size).
  const first = await browser.evaluate(`document.querySelector('tr[data-check]').dataset.check`);
  assert.equal(first, 'srm checkout-redesign-experiment');
  const widths = await browser.evaluate(`[...document.querySelectorAll('svg rect')].map((r) => r.getBoundingClientRect().width)`);
  assert.ok(widths.length >= 4 && widths.every((w: number) => w >= 0) && widths.some((w: number) => w > 100));
  const shot = await browser.send('Page.captureScreenshot', { format: 'png' }, true);
  const png = Buffer.from(shot.data, 'base64');
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
});

t('diff report: the reassignment matrix and cohort counts equal the JSON', async () => {
  if (browser === null) return;
  const args = ['diff', '--from', CONFIG, '--to', NEXT, '--input', join(dir, 'cohort.ndjson')];
  writeFileSync(join(dir, 'cohort.ndjson'), `${Array.from({ length: 3000 }, (_, i) => JSON.stringify({ subjectKey: `c-${i}`, subjectAttributes: { country: ['US', 'CA', 'FR'][i % 3], sessions: i % 150 } })).join('\n')}\n`);
  const json = runCli([...args, '--format', 'json']);
  const report = JSON.parse(json.stdout);
  const html = join(dir, 'diff.html');
  assert.equal(runCli([...args, '--format', 'html', '--output', html]).code, json.code);
  const url = pathToFileURL(html).href;
  browser.events.length = 0;
  await browser.open(url);
  assert.deepEqual(browser.problems(url), []);
  const figures = JSON.parse(await browser.evaluate(FIGURES));
  assert.equal(figures.ok.value, String(report.ok));
  let cells = 0;
  for (const f of report.flags.filter((x: Json) => x.status !== 'unchanged')) {
    assert.equal(figures[`class ${f.flagKey}`].value, f.class);
    if (f.cohort) assert.equal(Number(figures[`cohort ${f.flagKey} variation`].value), f.cohort.changedVariation);
    for (const e of f.experiments.filter((x: Json) => x.class !== 'unchanged')) {
      assert.equal(figures[`reassign ${e.experiment}`].value, String(e.reassignShare));
      if (e.class === 'value-only') continue;
      e.matrix.rows.forEach((r: string | null, i: number) => e.matrix.cols.forEach((c: string | null, k: number) => {
        const cell = figures[`cell ${f.flagKey} ${e.allocationKey} ${r ?? '(none)'} ${c ?? '(none)'}`];
        assert.equal(Number(cell.value), e.matrix.cells[i][k]);
        assert.equal(cell.text, String(e.matrix.cells[i][k]));
        cells++;
      }));
    }
  }
  assert.ok(cells >= 2, 'the moved range shows control → treatment');
  assert.ok(Number(figures['cell checkout-redesign experiment control treatment'].value) > 0);
});

t.run();
