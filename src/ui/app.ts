// The dashboard: jobs, one job live (progress, steps, log, sub-tasks, outputs, thumbnails,
// metadata, a 3D preview), and a submit form. Plain DOM; the API key lives in sessionStorage for
// the browser session only and travels in the x-api-key header, never in a URL.

import { paramsProblem, type ParamSpec, type ParamSpecs } from '../shared/param-specs';
import { takeEvents } from '../shared/sse';
import { parseUpstreamTime } from '../shared/time';

type Json = any;
const KEY = 'pixyz-api-key';
const main = () => document.getElementById('main')!;
const FINISHED = ['SUCCESS', 'FAILURE', 'REVOKED'];

/** Builds an element: h('a', { href }, 'text', child…). */
function h(tag: string, attrs: Record<string, unknown> = {}, ...children: (Node | string | null | undefined | false)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v as EventListener);
    else if (k === 'className') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

const key = () => sessionStorage.getItem(KEY);

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), 'x-api-key': key() ?? '' } });
  if (res.status === 401) {
    sessionStorage.removeItem(KEY);
    location.hash = '#/signin';
    throw new Error('Signed out: the key was refused');
  }
  return res;
}

async function json(path: string, init: RequestInit = {}): Promise<Json> {
  const res = await api(path, init);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(typeof body.detail === 'string' ? body.detail : (body.detail?.details ?? `${res.status}`));
  return body;
}

/** A name on one line, cut with an ellipsis when long (the whole of it in its tooltip), not broken mid-word. */
const clip = (text: string) => h('span', { className: 'clip', title: text || undefined }, text);
const badge = (status: string) => h('span', { className: `badge s-${status}` }, status);
const bar = (progress: number | null, big = false) =>
  h('div', { className: `bar${big ? ' big' : ''}`, role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': progress ?? 0, 'aria-label': 'progress' }, h('span', { style: `width:${progress ?? 0}%` }));
/** How often a job page lists its sub-tasks again while they start. */
const CHILDREN_EVERY_MS = 2000;
/** A time of the API in the reader's own time zone. */
const when = (t: string | null | undefined) => {
  const d = parseUpstreamTime(t);
  return d ? d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : (t ?? '');
};
/**
 * A length of time as people say it: 0.04 s, 3.4 s, 4 min 05 s, 2 h 10 min (hundredths below a
 * second: a quick job took more than "0.0 s"); `whole`: whole seconds, for a count ticking each second.
 */
const span = (ms: number, whole = false) => {
  if (!whole && ms < 995) return `${(Math.max(0, ms) / 1000).toFixed(2)} s`;
  const s = whole ? Math.floor(Math.max(0, ms) / 1000) : Math.round(ms / 100) / 10; // rounded first: 59.96 s is 1 min 00 s, not "60.0 s"
  if (s < 60) return whole ? `${s} s` : `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
};
const bytes = (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);

/** The page's content, replaced; `cleanup` runs when the user leaves it. */
let cleanup: () => void = () => {};
function show(title: string, ...content: (Node | string)[]) {
  cleanup();
  cleanup = () => {};
  document.title = `${title} · Pixyz Scheduler`;
  main().replaceChildren(h('h1', {}, title), ...content);
}

// --- sign-in -------------------------------------------------------------------------------

function signIn() {
  const input = h('input', { id: 'key', type: 'password', autocomplete: 'current-password', required: true, size: 40 }) as HTMLInputElement;
  const error = h('p', { className: 'error', role: 'alert' });
  const form = h(
    'form',
    {
      className: 'panel',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        // Tried before it is kept: a refused key stays out of the tab's storage.
        const res = await fetch('/jobs?limit=1', { headers: { 'x-api-key': input.value.trim() } }).catch(() => null);
        if (res?.ok) {
          sessionStorage.setItem(KEY, input.value.trim());
          location.hash = '#/jobs';
          route();
          return;
        }
        const body = res ? await res.json().catch(() => ({})) : { detail: 'The API does not answer' };
        error.textContent = typeof body.detail === 'string' ? body.detail : 'The key was refused';
      },
    },
    h('label', { for: 'key' }, 'API key'),
    h('p', { className: 'muted' }, 'The key npm start printed (kept in .temporal/api-key). It stays in this browser tab only.'),
    h('div', { className: 'row' }, input, h('button', { type: 'submit' }, 'Sign in')),
    error,
  );
  show('Sign in', form);
  input.focus();
}

// --- jobs ------------------------------------------------------------------------------------

function jobsPage(params: URLSearchParams) {
  const status = h('select', { id: 'f-status' }, ...['', 'PENDING', 'RUNNING', 'SUCCESS', 'FAILURE', 'REVOKED'].map((s) => h('option', { value: s }, s || 'any'))) as HTMLSelectElement;
  const name = h('input', { id: 'f-name', type: 'search', placeholder: 'name' }) as HTMLInputElement;
  const process = h('input', { id: 'f-process', type: 'search', placeholder: 'process or script' }) as HTMLInputElement;
  status.value = params.get('status') ?? '';
  name.value = params.get('name') ?? '';
  process.value = params.get('process') ?? '';
  const body = h('tbody');
  const info = h('p', { className: 'muted', 'aria-live': 'polite' });
  const pages: (string | null)[] = [null];
  let page = 0;
  const next = h('button', { className: 'ghost', type: 'button', onclick: () => ((page += 1), load()) }, 'Next →') as HTMLButtonElement;
  const prev = h('button', { className: 'ghost', type: 'button', onclick: () => ((page -= 1), load()) }, '← Previous') as HTMLButtonElement;
  const cancelSelected = h('button', { className: 'danger', type: 'button', disabled: true }, 'Cancel selected') as HTMLButtonElement;
  const selected = new Set<string>();
  cancelSelected.onclick = async () => {
    if (!confirm(`Cancel ${selected.size} job(s)?`)) return;
    await Promise.all([...selected].map((id) => json(`/jobs/${id}/cancel`, { method: 'POST' }).catch(() => null)));
    selected.clear();
    await load();
  };
  const query = () => {
    const q = new URLSearchParams({ limit: '25' });
    if (status.value) q.set('status', status.value);
    if (name.value) q.set('name', name.value);
    if (process.value) q.set('process', process.value);
    if (pages[page]) q.set('next', pages[page]!);
    return q;
  };
  async function load() {
    try {
      const r = await json(`/jobs?${query()}`);
      pages[page + 1] = r.next;
      next.disabled = !r.next;
      prev.disabled = page === 0;
      info.textContent = r.jobs.length ? '' : 'No jobs match.';
      body.replaceChildren(
        ...r.jobs.map((j: Json) => {
          const box = h('input', { type: 'checkbox', 'aria-label': `select ${j.uuid}`, disabled: FINISHED.includes(j.status) }) as HTMLInputElement;
          box.checked = selected.has(j.uuid);
          box.onchange = () => {
            if (box.checked) selected.add(j.uuid);
            else selected.delete(j.uuid);
            cancelSelected.disabled = selected.size === 0;
          };
          return h(
            'tr',
            {},
            h('td', {}, box),
            h('td', { className: 'id' }, h('a', { href: `#/jobs/${j.uuid}` }, j.uuid.slice(0, 8))),
            h('td', {}, clip(j.name ?? '')),
            h('td', { className: 'hide-small' }, clip(j.process ?? '')),
            h('td', { className: 'hide-small muted when' }, when(j.time_request)),
            h('td', {}, badge(j.status)),
            h('td', { className: 'hide-small' }, j.progress === null ? '' : bar(j.progress)),
            h('td', { className: 'error hide-small' }, j.error ? h('span', { className: 'clamp', title: j.error }, j.error) : ''),
          );
        }),
      );
    } catch (err) {
      info.textContent = (err as Error).message;
    }
  }
  const filters = h(
    'form',
    {
      className: 'row panel',
      role: 'search',
      onsubmit: (e: Event) => {
        e.preventDefault();
        pages.length = 1;
        page = 0;
        const q = new URLSearchParams();
        for (const [k, el] of [['status', status], ['name', name], ['process', process]] as const) if (el.value) q.set(k, el.value);
        history.replaceState(null, '', `#/jobs${q.size ? `?${q}` : ''}`);
        void load();
      },
    },
    h('div', {}, h('label', { for: 'f-status' }, 'Status'), status),
    h('div', {}, h('label', { for: 'f-name' }, 'Name'), name),
    h('div', {}, h('label', { for: 'f-process' }, 'Process'), process),
    h('button', { type: 'submit' }, 'Filter'),
    cancelSelected,
  );
  // No Duration column: GET /jobs tells when a job was submitted, not when it started or stopped.
  const table = h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, h('span', { className: 'muted' }, '✓')), h('th', {}, 'Job'), h('th', {}, 'Name'), h('th', { className: 'hide-small' }, 'Process'), h('th', { className: 'hide-small' }, 'Submitted'), h('th', {}, 'Status'), h('th', { className: 'hide-small' }, 'Progress'), h('th', { className: 'hide-small' }, 'Error'))), body);
  show('Jobs', filters, h('div', { className: 'panel' }, h('div', { className: 'scroll' }, table), info, h('div', { className: 'row' }, prev, next)));
  void load();
  const timer = setInterval(load, 3000); // live refresh
  cleanup = () => clearInterval(timer);
}

// --- one job ---------------------------------------------------------------------------------

async function blobUrl(path: string): Promise<string> {
  const res = await api(path);
  if (!res.ok) throw new Error(`${res.status}`);
  return URL.createObjectURL(await res.blob());
}

async function download(path: string, name: string) {
  const url = await blobUrl(path);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Nested objects are flattened to dotted keys down to this depth; deeper ones are folded. */
const FLATTEN_DEPTH = 3;
/** An object with more keys than this is folded, not flattened: a row per material would drown the rest. */
const FLATTEN_KEYS = 20;
/** A list of plain values is written out in its row when it is this short (a bounding box's corner). */
const INLINE_LIST_CHARS = 80;

const isRecord = (v: Json): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The metadata as key/value rows: small objects flattened to dotted keys, plain values as they
 * are, anything large (the node tree, the materials) folded to a summary that opens onto its JSON —
 * printed whole it squeezed the key column to a letter and made the page thousands of pixels tall.
 */
function metadataTable(data: Json): HTMLElement {
  const rows: HTMLElement[] = [];
  const walk = (value: Json, prefix: string, depth: number) => {
    const entries = isRecord(value) ? Object.entries(value) : [];
    if (entries.length && (depth === 0 || (depth < FLATTEN_DEPTH && entries.length <= FLATTEN_KEYS))) for (const [k, v] of entries) walk(v, prefix ? `${prefix}.${k}` : k, depth + 1);
    else rows.push(h('tr', {}, h('th', { scope: 'row' }, prefix), h('td', {}, metadataValue(value))));
  };
  walk(data, '', 0);
  return h('table', { className: 'meta' }, h('tbody', {}, ...rows.slice(0, 200)));
}

/** One metadata value: a plain one as text, a short list of plain ones joined, anything else folded. */
function metadataValue(value: Json): Node | string {
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value) && !value.length) return h('span', { className: 'muted' }, 'none');
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) {
    const text = value.map(String).join(', ');
    if (text.length <= INLINE_LIST_CHARS) return text;
  }
  const count = Array.isArray(value) ? value.length : Object.keys(value).length;
  const summary = Array.isArray(value) ? `${count} item${count === 1 ? '' : 's'}` : `{…} ${count} key${count === 1 ? '' : 's'}`;
  return folded(summary, () => JSON.stringify(value, null, 2));
}

/**
 * A summary that opens onto a scrolling <pre>. Its text is written at the first opening: a node
 * tree's JSON can be megabytes nobody asked to see.
 */
function folded(summary: string, text: () => string, className = 'folded'): HTMLElement {
  const pre = h('pre', { tabindex: 0 });
  const details = h('details', { className }, h('summary', {}, summary), pre);
  details.addEventListener('toggle', () => {
    if (!pre.textContent) pre.textContent = text();
  });
  return details;
}

/** What a PENDING job waits for, in words. */
function waitingText(w: { queue: string; backlog: number; workers: number } | undefined): string {
  if (!w) return 'Waiting for a worker of its queue…';
  if (w.workers === 0) return `Waiting: no worker serves queue ${w.queue} now (start one with --queues …)`;
  return `Waiting for a free slot on queue ${w.queue}: ${w.backlog} task(s) waiting, ${w.workers} worker(s) polling`;
}

async function jobPage(id: string) {
  const status = h('span', {}, badge('…'));
  const progress = h('div', {}, bar(0, true));
  const current = h('p', { className: 'muted', 'aria-live': 'polite' });
  // Its own scroll (a job of hundreds of steps made the page thousands of pixels tall), focusable to scroll by keyboard.
  const steps = h('ol', { className: 'steps', tabindex: 0, 'aria-label': 'steps' });
  const log = h('pre', { className: 'log', tabindex: 0, 'aria-label': 'log' });
  const children = h('div', {}, h('p', { className: 'muted' }, 'None.'));
  const outputs = h('div');
  const thumbs = h('div', { className: 'thumbs' });
  const meta = h('div');
  const viewer = h('div');
  const result = h('div');
  // Shown once the job is known to be unfinished: a finished job has nothing to cancel.
  const cancel = h(
    'button',
    {
      className: 'danger',
      type: 'button',
      id: 'cancel',
      hidden: true,
      onclick: async () => {
        if (!confirm('Cancel this job?')) return;
        await json(`/jobs/${id}/cancel`, { method: 'POST' }).catch((e) => alert(e.message));
      },
    },
    'Cancel',
  );
  const actions = h(
    'div',
    { className: 'actions' },
    cancel,
    h(
      'button',
      {
        className: 'ghost',
        type: 'button',
        onclick: async () => {
          try {
            const again = await json(`/jobs/${id}/rerun`, { method: 'POST' });
            location.hash = `#/jobs/${again.uuid}`;
          } catch (err) {
            alert((err as Error).message);
          }
        },
      },
      'Run again',
    ),
    h(
      'button',
      {
        className: 'ghost',
        type: 'button',
        onclick: async () => {
          if (!confirm('Delete this job and its files?')) return;
          await json(`/jobs/${id}`, { method: 'DELETE' });
          location.hash = '#/jobs';
        },
      },
      'Delete',
    ),
  );
  const temporal = h('span');
  const submitted = h('dl', { className: 'submitted' });
  // When it started and ended, and for how long it ran: rows of the submitted list, each hidden while it has nothing to say.
  const timeRow = (term: string) => {
    const dt = h('dt', { hidden: true }, term);
    const dd = h('dd', { hidden: true });
    const set = (...value: (Node | string)[]) => {
      dd.replaceChildren(...value);
      dt.hidden = dd.hidden = !dd.textContent;
    };
    return { nodes: [dt, dd], set };
  };
  const startedRow = timeRow('Started');
  const endedRow = timeRow('Ended');
  const durationRow = timeRow('Duration');
  const timeRows = [...startedRow.nodes, ...endedRow.nodes, ...durationRow.nodes];
  show(
    `Job ${id.slice(0, 8)}`,
    h('div', { className: 'panel' }, h('p', { className: 'id muted' }, id, ' ', temporal), h('div', { className: 'head' }, status, actions), progress, current, result, submitted),
    h('div', { className: 'grid' }, h('div', { className: 'panel' }, h('h2', {}, 'Steps'), steps), h('div', { className: 'panel' }, h('h2', {}, 'Sub-tasks'), children)),
    h('div', { className: 'panel' }, h('h2', {}, 'Log'), log),
    h('div', { className: 'panel' }, h('h2', {}, 'Outputs'), outputs, thumbs, viewer, meta),
  );
  void fetch('/ui/config.json')
    .then((r) => r.json())
    .then((c) => {
      if (c.temporalUiUrl) temporal.replaceChildren(h('a', { href: `${c.temporalUiUrl}/namespaces/${encodeURIComponent(c.namespace)}/workflows/${id}`, target: '_blank', rel: 'noopener' }, 'in the Temporal UI ↗'));
    })
    .catch(() => {});

  // What it was submitted with: its process or script, its file, its params.
  void json(`/jobs/${id}/input`)
    .then((input) => {
      const item = (term: string, ...value: (Node | string)[]) => [h('dt', {}, term), h('dd', {}, ...value)];
      const params = JSON.stringify(input.params ?? {}, null, 2);
      submitted.replaceChildren(
        ...item('Process', input.process === 'custom' ? `script ${input.script}` : input.process, input.entrypoint === 'main' ? '' : h('span', { className: 'muted' }, ` (${input.entrypoint})`)),
        ...(input.name ? item('Name', input.name) : []),
        ...item('Submitted', when(input.time_request)),
        ...timeRows,
        ...(input.file ? item('File', input.file, input.root_file ? h('span', { className: 'muted' }, ` (opens ${input.root_file})`) : '') : []),
        ...item('Queue', `${input.queue}, time limit ${input.time_limit} s`),
        ...(input.parent_id ? item('Parent', h('a', { href: `#/jobs/${input.parent_id}` }, input.parent_id.slice(0, 8))) : []),
        ...item('Params', params === '{}' ? h('span', { className: 'muted' }, 'none') : h('pre', {}, params)),
      );
    })
    .catch(() => submitted.replaceChildren(...timeRows)); // a job Temporal has forgotten: its state and times still show

  const controller = new AbortController();
  // What the page holds: its event stream, its images' object URLs, its 3D viewer.
  const urls: string[] = [];
  let stopPreview = () => {};
  let ticker: ReturnType<typeof setInterval> | undefined;
  cleanup = () => {
    controller.abort();
    clearTimeout(again);
    clearInterval(ticker);
    for (const u of urls) URL.revokeObjectURL(u);
    stopPreview();
  };
  // Its times come from its details (its events carry none), read again as its status changes;
  // while it waits or runs, its count goes on each second from the last reading.
  let times: { request: string | null; started: string | null; stopped: string | null } = { request: null, started: null, stopped: null };
  let ended = false;
  const showDuration = () => {
    const [request, started, stopped] = [parseUpstreamTime(times.request), parseUpstreamTime(times.started), parseUpstreamTime(times.stopped)];
    if (started && stopped) {
      const waited = request ? h('span', { className: 'muted' }, ` (waited ${span(started.getTime() - request.getTime())} to start)`) : '';
      durationRow.set(`took ${span(stopped.getTime() - started.getTime())}`, waited);
    } else if (!ended && started) durationRow.set(`running for ${span(Date.now() - started.getTime(), true)}`);
    else if (!ended && request) durationRow.set(`waiting for ${span(Date.now() - request.getTime(), true)}`);
    else durationRow.set(); // ended without a start (cancelled while it waited) or times unknown
  };
  const showTimes = () => {
    startedRow.set(when(times.started));
    endedRow.set(when(times.stopped));
    showDuration();
    if (ended) {
      clearInterval(ticker);
      ticker = undefined;
    } else ticker ??= setInterval(showDuration, 1000);
  };
  let timesAt = ''; // the status the times were last read at
  let readings = 0;
  const readTimes = async (status: string) => {
    if (status === timesAt) return; // read at this status already, or being read
    timesAt = status;
    const mine = ++readings;
    const d = await json(`/jobs/${id}/details`).catch(() => null);
    if (mine !== readings || controller.signal.aborted) return; // a later reading is on its way
    if (d?.time_info) times = d.time_info;
    ended = FINISHED.includes(status) || FINISHED.includes(d?.status);
    showTimes();
  };
  // The sub-tasks' links: listed again at most every CHILDREN_EVERY_MS, however many start (a
  // fan-out of hundreds sends as many events), and once more at the end.
  const counts = h('p');
  const tree = h('ul');
  let inFlight = false;
  let dirty = false;
  let listedAt = 0;
  let again: ReturnType<typeof setTimeout> | undefined;
  const listChildren = (now = false) => {
    dirty = true;
    if (inFlight || (again && !now)) return; // the list in flight or the one planned will show them
    clearTimeout(again);
    again = setTimeout(() => void relist(), now ? 0 : Math.max(0, listedAt + CHILDREN_EVERY_MS - Date.now()));
  };
  const relist = async () => {
    again = undefined;
    inFlight = true;
    dirty = false;
    listedAt = Date.now();
    try {
      const meta = await json(`/backend/get_task_meta/${id}`);
      tree.replaceChildren(...meta.children.map((c: string) => h('li', {}, h('a', { href: `#/jobs/${c}` }, c.slice(0, 8)))));
    } catch {
      // the counts still show; the next event lists them again
    }
    inFlight = false;
    if (dirty && !controller.signal.aborted) listChildren();
  };
  let stepCount = 0;
  const addStep = (info: string, duration: number | null) => {
    // The newest step stays in view, unless the reader scrolled up to an older one.
    const atEnd = steps.scrollTop + steps.clientHeight >= steps.scrollHeight - 4;
    steps.querySelector('.current')?.classList.remove('current');
    steps.append(h('li', {}, h('span', {}, info), h('span', { className: 'muted' }, duration === null ? '' : `${duration.toFixed(2)} s`)));
    stepCount += 1;
    if (atEnd) steps.scrollTop = steps.scrollHeight;
  };
  const showOutputs = async () => {
    const { outputs: names, files } = await json(`/jobs/${id}/outputs`);
    const sizeOf = new Map<string, number | null>((files ?? []).map((f: { name: string; bytes: number | null }) => [f.name, f.bytes]));
    if (!names.length) {
      outputs.replaceChildren(h('p', { className: 'muted' }, 'No outputs.'));
      return;
    }
    outputs.replaceChildren(
      h(
        'table',
        {},
        h(
          'tbody',
          {},
          ...names.map((n: string) =>
            h(
              'tr',
              {},
              h('td', { className: 'file' }, n),
              h('td', { className: 'muted num' }, sizeOf.get(n) == null ? '' : bytes(sizeOf.get(n)!)),
              h(
                'td',
                {},
                h('button', { className: 'ghost', type: 'button', onclick: () => download(`/jobs/${id}/outputs/${encodeURIComponent(n)}`, n) }, 'Download'),
                /\.(glb|gltf)$/i.test(n) && h('button', { className: 'ghost', type: 'button', onclick: () => openPreview(n), style: 'margin-left:6px' }, 'View in 3D'),
              ),
            ),
          ),
        ),
      ),
      h('p', {}, h('button', { type: 'button', onclick: () => download(`/jobs/${id}/outputs/archive`, `${id}.zip`) }, 'Download all (zip)')),
    );
    // Thumbnails in name order, whichever arrives first.
    const images = names.filter((x: string) => /\.(png|jpe?g)$/i.test(x)).sort();
    const sources = await Promise.all(images.map((n: string) => blobUrl(`/jobs/${id}/outputs/${encodeURIComponent(n)}`).catch(() => null)));
    images.forEach((n: string, i: number) => {
      const src = sources[i];
      if (!src) return;
      urls.push(src);
      thumbs.append(h('figure', {}, h('img', { src, alt: `thumbnail ${n}` }), h('figcaption', {}, n)));
    });
    const metaFile = names.find((x: string) => x === 'metadata.json');
    if (metaFile) {
      const data = await json(`/jobs/${id}/outputs/${metaFile}`);
      meta.replaceChildren(h('h2', {}, 'Metadata'), h('div', { className: 'scroll' }, metadataTable(data)));
    }
  };
  /** The error, and under it the script's traceback when the job's details carry one. */
  const showFailure = async (error: string, traceback: unknown) => {
    result.replaceChildren(h('p', { className: 'error', role: 'alert' }, error));
    // The end event carries the details' result; read them again when it does not (an older API).
    if (typeof traceback !== 'string') traceback = await json(`/jobs/${id}/details`).then((d) => d.result, () => null);
    if (typeof traceback !== 'string' || !traceback.trim() || error.includes(traceback.trim())) return; // nothing more than the error
    result.append(h('details', { className: 'traceback' }, h('summary', {}, 'Traceback'), h('pre', { className: 'log', tabindex: 0, 'aria-label': 'traceback' }, traceback)));
  };
  let previews = 0; // the latest preview's number: an older one still loading is dropped
  const openPreview = async (name: string) => {
    stopPreview(); // one viewer at a time
    stopPreview = () => {};
    const mine = ++previews;
    const canvas = h('div', { id: 'viewer', role: 'img', 'aria-label': `3D preview of ${name}`, 'aria-busy': 'true' }, h('p', { className: 'loading' }, 'Loading…'));
    viewer.replaceChildren(h('h2', {}, `3D preview: ${name}`), canvas);
    // It opens below the outputs and thumbnails, often out of sight.
    viewer.scrollIntoView({ behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth', block: 'nearest' });
    try {
      const res = await api(`/jobs/${id}/outputs/${encodeURIComponent(name)}`);
      if (!res.ok) throw new Error(`${res.status}`);
      const [{ showModel }, data] = await Promise.all([import('./preview'), res.arrayBuffer()]);
      const stop = await showModel(canvas, data);
      if (mine === previews && !controller.signal.aborted) stopPreview = stop;
      else stop(); // another preview opened meanwhile, or the page was left
      canvas.removeAttribute('aria-busy');
    } catch (err) {
      if (mine === previews) canvas.replaceChildren(h('p', { className: 'loading error' }, `No preview: ${(err as Error).message}`));
    }
  };

  // The job's events until it ends (fetch, for the key to travel in a header).
  try {
    const res = await api(`/jobs/${id}/events`, { signal: controller.signal });
    if (res.status === 404) {
      show('Job not found', h('p', {}, `No job ${id}.`));
      return;
    }
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const { events, rest } = takeEvents(buffer + decoder.decode(value, { stream: true }));
      buffer = rest;
      for (const e of events) {
        const type = e.event;
        const data = JSON.parse(e.data ?? 'null');
        if (type === 'status') {
          status.replaceChildren(badge(data.status));
          cancel.hidden = FINISHED.includes(data.status);
          void readTimes(data.status);
          progress.replaceChildren(bar(data.progress, true));
          current.textContent = data.step ? `Now: ${data.step}${data.retry ? ` (attempt ${data.retry + 1})` : ''}` : data.status === 'PENDING' ? waitingText(data.waiting) : '';
        } else if (type === 'step') addStep(data.info, data.duration);
        else if (type === 'log') {
          const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
          log.append(`${data.line}\n`);
          if (atEnd) log.scrollTop = log.scrollHeight;
        } else if (type === 'children') {
          counts.replaceChildren(`${data.done} of ${data.started} done${data.failed ? `, ${data.failed} failed` : ''}`);
          if (!children.contains(counts)) children.replaceChildren(counts, tree);
          listChildren();
        } else if (type === 'end') {
          listChildren(true);
          void readTimes(data.status);
          status.replaceChildren(badge(data.status));
          progress.replaceChildren(bar(data.status === 'SUCCESS' ? 100 : data.progress, true));
          current.textContent = '';
          cancel.hidden = true;
          if (data.error) void showFailure(data.error, data.result);
          else if (data.result !== undefined && data.result !== null) result.replaceChildren(h('details', {}, h('summary', {}, 'Result'), h('pre', {}, JSON.stringify(data.result, null, 2))));
          void showOutputs();
        }
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) current.textContent = (err as Error).message;
  }
  if (!stepCount) steps.replaceChildren(h('li', { className: 'muted' }, 'No steps reported.'));
}

// --- submit ----------------------------------------------------------------------------------

async function submitPage() {
  const { processes } = await json('/processes');
  const kind = h('select', { id: 'process' }, h('option', { value: 'custom' }, 'my own script'), ...processes.map((p: string) => h('option', { value: p }, p))) as HTMLSelectElement;
  const doc = h('pre', { className: 'muted', style: 'white-space:pre-wrap' });
  const scriptInput = h('input', { id: 'script', type: 'file', accept: '.ts,.mts,.cts,.js,.mjs,.cjs,.py' }) as HTMLInputElement;
  const scriptRow = h('div', {}, h('label', { for: 'script' }, 'Script (TypeScript, JavaScript or Python)'), scriptInput);
  const params = h('textarea', { id: 'params', spellcheck: 'false' }, '{}') as HTMLTextAreaElement;
  const name = h('input', { id: 'name', placeholder: 'optional' }) as HTMLInputElement;
  const fileInput = h('input', { id: 'file', type: 'file' }) as HTMLInputElement;
  const dropText = h('span', {}, 'Drop a model here (or a .zip of one), or ');
  const drop = h('div', { className: 'drop' }, dropText, h('label', { for: 'file', style: 'display:inline;font-weight:600;cursor:pointer' }, 'choose a file'), fileInput);
  let file: File | null = null;
  const setFile = (f: File | null) => {
    file = f;
    dropText.textContent = f ? `Model: ${f.name} (${bytes(f.size)}). Drop another, or ` : 'Drop a model here (or a .zip of one), or ';
  };
  fileInput.onchange = () => setFile(fileInput.files?.[0] ?? null);
  drop.addEventListener('dragover', (e) => (e.preventDefault(), drop.classList.add('over')));
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    setFile((e as DragEvent).dataTransfer?.files[0] ?? null);
  });
  const upload = h('progress', { max: 100, value: 0, hidden: true, 'aria-label': 'upload' }) as HTMLProgressElement;
  const error = h('p', { className: 'error', role: 'alert' });
  const options = optionsSection();
  options.section.addEventListener('input', () => (error.textContent = '')); // what was refused has changed
  // A process that declares its params gets a field for each; they write the JSON below.
  const fields = h('fieldset', { className: 'params', hidden: true });
  let specs: ParamSpecs = {};
  const describe = async () => {
    scriptRow.hidden = kind.value !== 'custom';
    options.forScript(kind.value === 'custom');
    const info = kind.value === 'custom' ? null : await json(`/processes/${kind.value}`).catch(() => null);
    doc.textContent = info ? (info.doc ?? '') : 'Your script’s entrypoint (main) runs with the params below and the model as its input file.';
    specs = (info?.params?.properties ?? {}) as ParamSpecs;
    params.value = '{}';
    fields.replaceChildren(h('legend', {}, 'Params'), ...Object.entries(specs).map(([name, spec]) => paramField(name, spec, (value) => setParam(name, value))));
    fields.hidden = Object.keys(specs).length === 0;
  };
  /** Sets one param in the JSON (undefined: removes it), keeping what else the JSON holds. */
  const setParam = (name: string, value: unknown) => {
    let current: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(params.value || '{}');
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) current = parsed;
    } catch {
      // the JSON was being edited by hand: the fields start it afresh
    }
    error.textContent = ''; // what was refused has changed
    if (value === undefined) delete current[name];
    else current[name] = value;
    params.value = JSON.stringify(current);
  };
  kind.onchange = () => void describe();
  const form = h(
    'form',
    {
      className: 'panel',
      // The params' bounds are checked below, with a message in the page, not the browser's bubble.
      novalidate: true,
      onsubmit: (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        let parsed: unknown;
        try {
          parsed = JSON.parse(params.value || '{}');
        } catch {
          error.textContent = 'The params must be JSON, e.g. {"extension": "obj"}';
          return;
        }
        const problem = paramsProblem(specs, parsed);
        if (problem) {
          error.textContent = `Params: ${problem}`;
          return;
        }
        const config = options.config();
        if (typeof config === 'string') {
          error.textContent = config;
          return;
        }
        const data = new FormData();
        data.set('process', kind.value);
        data.set('params', params.value || '{}');
        if (name.value) data.set('name', name.value);
        if (config) data.set('config', JSON.stringify(config));
        if (kind.value === 'custom') {
          const s = scriptInput.files?.[0];
          if (!s) {
            error.textContent = 'Choose a script to run.';
            return;
          }
          data.set('script', s, s.name);
        }
        if (file) data.set('file', file, file.name);
        // XMLHttpRequest: fetch reports no upload progress.
        const xhr = new XMLHttpRequest();
        xhr.open('POST', '/jobs');
        xhr.setRequestHeader('x-api-key', key() ?? '');
        upload.hidden = false;
        xhr.upload.onprogress = (ev) => ev.lengthComputable && (upload.value = (100 * ev.loaded) / ev.total);
        xhr.onload = () => {
          const body = JSON.parse(xhr.responseText || '{}');
          if (xhr.status === 200) location.hash = `#/jobs/${body.uuid}`;
          else {
            upload.hidden = true;
            error.textContent = typeof body.detail === 'string' ? body.detail : (body.detail?.details ?? `${xhr.status}`);
          }
        };
        xhr.onerror = () => {
          upload.hidden = true;
          error.textContent = 'The upload failed: is the API running?';
        };
        xhr.send(data);
      },
    },
    h('label', { for: 'process' }, 'What to run'),
    kind,
    doc,
    scriptRow,
    fields,
    h('label', { for: 'params' }, 'Params (JSON)'),
    params,
    h('label', { for: 'name' }, 'Name'),
    name,
    h('label', { for: 'file' }, 'Model'),
    drop,
    options.section,
    h('p', {}, h('button', { type: 'submit' }, 'Submit'), ' ', upload),
    error,
  );
  show('Submit a job', form);
  void describe();
}

/**
 * The submission's options (POST /jobs' `config`), folded: most jobs need none. Their bounds are
 * the API's to check: a refused value comes back as the form's error. `config()` is the non-empty
 * fields as the JSON object to send, none when all are empty, or a problem to show.
 */
function optionsSection() {
  const input = (id: string, placeholder: string, attrs: Record<string, unknown> = {}) => h('input', { id, placeholder, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': `${id}-hint`, ...attrs }) as HTMLInputElement;
  const rootFile = input('opt-root-file', 'first model file in the archive');
  const entrypoint = input('opt-entrypoint', 'main');
  // The usual queues offered; a deployment's own (QUEUES) can be typed.
  const queue = input('opt-queue', 'the script’s own, else cpu', { list: 'opt-queues' });
  const queues = h('datalist', { id: 'opt-queues' }, ...['cpu', 'gpu', 'control'].map((q) => h('option', { value: q })));
  const timeLimit = input('opt-time-limit', 'the script’s own, else the default', { type: 'number', min: 1, step: 'any', inputmode: 'decimal' });
  const field = (el: HTMLInputElement, label: string, hint: string, ...extra: Node[]) =>
    h('div', { className: 'param' }, h('label', { for: el.id }, label), el, ...extra, h('small', { id: `${el.id}-hint`, className: 'muted' }, hint));
  const entrypointField = field(entrypoint, 'Entrypoint', 'The function of your script to run.');
  const count = h('span', { className: 'muted' });
  // Set options stay sent when the section is folded: its summary says how many.
  const recount = () => {
    const n = [rootFile, entrypointField.hidden ? null : entrypoint, queue, timeLimit].filter((el) => el && (el.value.trim() || el.validity.badInput)).length;
    count.textContent = n ? ` · ${n} set` : '';
  };
  const section = h(
    'details',
    { className: 'options', oninput: recount },
    h('summary', {}, 'Options', count),
    h(
      'div',
      { className: 'fields' },
      field(rootFile, 'Root file', 'The model to load from an uploaded .zip or .tar.gz, e.g. b/second.obj.'),
      entrypointField,
      field(queue, 'Queue', 'The workers that run it: cpu, gpu, control, or a queue of your deployment.', queues),
      field(timeLimit, 'Time limit (s)', 'Seconds it may run before it is stopped.'),
    ),
  );
  return {
    section,
    /** The entrypoint is a script's: a process runs its own. */
    forScript(custom: boolean) {
      entrypointField.hidden = !custom;
      recount();
    },
    config(): Record<string, unknown> | string | null {
      if (timeLimit.validity.badInput) return 'Time limit: a number of seconds, e.g. 600';
      const config: Record<string, unknown> = {};
      if (rootFile.value.trim()) config.root_file = rootFile.value.trim();
      if (!entrypointField.hidden && entrypoint.value.trim()) config.entrypoint = entrypoint.value.trim();
      if (queue.value.trim()) config.queue = queue.value.trim();
      if (timeLimit.value !== '') config.time_limit = Number(timeLimit.value);
      return Object.keys(config).length ? config : null;
    },
  };
}

/** One declared param as a labelled field: a list of its values, a number, a yes/no, or text. */
function paramField(name: string, spec: ParamSpec, set: (value: unknown) => void): HTMLElement {
  const id = `param-${name}`;
  const hint = [spec.description, spec.default !== undefined ? `default ${String(spec.default)}` : null].filter(Boolean).join(' — ');
  const hintId = `${id}-hint`;
  let input: HTMLInputElement | HTMLSelectElement;
  if (spec.enum || spec.type === 'boolean') {
    const values = spec.enum ?? [true, false];
    input = h(
      'select',
      { id, 'aria-describedby': hintId },
      h('option', { value: '' }, spec.default !== undefined ? `default (${String(spec.default)})` : 'not set'),
      ...values.map((v, i) => h('option', { value: String(i) }, spec.type === 'boolean' ? (v ? 'yes' : 'no') : String(v))),
    ) as HTMLSelectElement;
    input.onchange = () => set(input.value === '' ? undefined : values[Number(input.value)]);
  } else if (spec.type === 'number' || spec.type === 'integer') {
    input = h('input', {
      id,
      type: 'number',
      step: spec.type === 'integer' ? '1' : 'any',
      ...(spec.minimum !== undefined ? { min: String(spec.minimum) } : {}),
      ...(spec.maximum !== undefined ? { max: String(spec.maximum) } : {}),
      placeholder: spec.default !== undefined ? String(spec.default) : '',
      'aria-describedby': hintId,
    }) as HTMLInputElement;
    input.oninput = () => set(input.value === '' ? undefined : Number(input.value));
  } else {
    input = h('input', { id, placeholder: spec.default !== undefined ? String(spec.default) : '', 'aria-describedby': hintId }) as HTMLInputElement;
    input.oninput = () => set(input.value === '' ? undefined : input.value);
  }
  return h('div', { className: 'param' }, h('label', { for: id }, name), input, h('small', { id: hintId, className: 'muted' }, hint));
}

// --- routing ---------------------------------------------------------------------------------

function route() {
  const [path, query] = location.hash.slice(1).split('?');
  document.getElementById('signout')!.hidden = !key();
  document.getElementById('nav')!.hidden = !key();
  if (!key()) return signIn();
  const m = /^\/jobs\/([0-9a-f-]{36})$/.exec(path ?? '');
  if (m) return void jobPage(m[1]!);
  if (path === '/submit') return void submitPage().catch((e) => show('Submit a job', h('p', { className: 'error' }, e.message)));
  if (path === '/signin') return signIn();
  return jobsPage(new URLSearchParams(query ?? ''));
}

function applyTheme(theme: string | null) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', () => {
  applyTheme(localStorage.getItem('pixyz-theme'));
  document.getElementById('theme')!.addEventListener('click', () => {
    const dark = document.documentElement.dataset.theme ? document.documentElement.dataset.theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
    const next = dark ? 'light' : 'dark';
    localStorage.setItem('pixyz-theme', next);
    applyTheme(next);
  });
  document.getElementById('signout')!.addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    location.hash = '#/signin';
    route();
  });
  route();
});
