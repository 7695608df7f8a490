// The mantad web console: objects, jobs and (for operators) the cluster.
// No framework and no build step: the DOM is built with el(), never from
// HTML strings, so nothing a user stored can become markup or script.
// Every change sends the session's CSRF token in x-console-csrf.
'use strict';

const S = { login: null, csrf: null, operator: false, timer: null, charts: null };
const API = '/console/api';
const PAGE = 100;

// ---------- small helpers ----------

function el(tag, attrs, ...kids) {
  const ns = tag.startsWith('svg:') ? 'http://www.w3.org/2000/svg' : null;
  const e = ns ? document.createElementNS(ns, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

function show(...nodes) {
  const main = document.getElementById('main');
  main.replaceChildren(...nodes);
}

function toast(msg, bad) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.className = bad ? 'show error' : 'show';
  clearTimeout(toast.t);
  toast.t = setTimeout(() => { t.className = ''; }, 5000);
}

function size(n) {
  if (n === undefined || n === null) return '';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : Math.round(n)) + ' ' + u[i];
}

function when(t) {
  return (t || '').replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function enc(path) {
  return path.split('/').map(encodeURIComponent).join('/');
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(code + ': ' + message);
    this.status = status;
    this.code = code;
  }
}

async function call(method, url, opts) {
  opts = opts || {};
  const headers = Object.assign({}, opts.headers || {});
  if (method !== 'GET' && method !== 'HEAD') headers['x-console-csrf'] = S.csrf || '';
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const r = await fetch(url, { method, headers, body, credentials: 'same-origin' });
  if (!r.ok) {
    let code = 'Error';
    let message = r.statusText;
    try {
      const e = await r.json();
      code = e.code || code;
      message = e.message || message;
    } catch (_) { /* not JSON */ }
    if (r.status === 401 && code === 'NotSignedIn') signedOut();
    throw new ApiError(r.status, code, message);
  }
  return r;
}

function manta(path) {
  return API + '/manta' + enc(path);
}

function lines(text) {
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

function failed(e) {
  toast(e.message || String(e), true);
}

// ---------- session ----------

async function start() {
  document.getElementById('signout').addEventListener('click', signOut);
  window.addEventListener('hashchange', route);
  try {
    const r = await call('GET', API + '/session');
    const s = await r.json();
    S.login = s.login;
    S.csrf = s.csrf;
    S.operator = s.operator;
  } catch (e) {
    signedOut();
    return;
  }
  document.getElementById('who').textContent = S.login;
  document.getElementById('nav').hidden = false;
  document.getElementById('signout').hidden = false;
  document.getElementById('nav-cluster').hidden = !S.operator;
  route();
}

function signedOut() {
  S.login = null;
  stopTimer();
  document.getElementById('nav').hidden = true;
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
  show(el('section', { class: 'narrow', id: 'signed-out' },
    el('h1', { text: 'Not signed in' }),
    el('p', {}, 'Sign in with a one-time link: run ', el('code', { text: 'mconsole' }),
      ' (it takes msign\'s settings: MANTA_URL, MANTA_USER, MANTA_KEY_ID) and open the link it prints.')));
}

async function signOut() {
  try {
    await call('DELETE', API + '/session');
  } catch (e) { /* signed out anyway */ }
  S.csrf = null;
  signedOut();
}

function stopTimer() {
  if (S.timer) clearTimeout(S.timer);
  S.timer = null;
}

function route() {
  stopTimer();
  if (!S.login) return;
  const h = decodeURIComponent(window.location.hash.replace(/^#/, '')) || '/objects';
  for (const a of document.querySelectorAll('#nav a')) a.classList.remove('active');
  if (h.startsWith('/objects')) {
    document.getElementById('nav-objects').classList.add('active');
    const p = h.slice('/objects'.length) || '/' + S.login + '/stor';
    objects(p, null).catch(failed);
  } else if (h === '/jobs') {
    document.getElementById('nav-jobs').classList.add('active');
    jobs().catch(failed);
  } else if (h.startsWith('/jobs/new')) {
    document.getElementById('nav-jobs').classList.add('active');
    newJob(sessionStorage.getItem('job-inputs') || '');
  } else if (h.startsWith('/job/')) {
    document.getElementById('nav-jobs').classList.add('active');
    watchJob(h.slice('/job/'.length)).catch(failed);
  } else if (h === '/cluster') {
    document.getElementById('nav-cluster').classList.add('active');
    cluster().catch(failed);
  } else {
    window.location.hash = '#/objects';
  }
}

// ---------- objects ----------

function go(path) {
  window.location.hash = '#/objects' + path;
}

function crumbs(path) {
  const parts = path.split('/').filter(Boolean);
  const out = [];
  let acc = '';
  parts.forEach((p, i) => {
    acc += '/' + p;
    const target = acc;
    if (i > 0) out.push(' / ');
    out.push(i === 0 ? el('span', { text: p })
      : el('a', { href: '#/objects' + target, text: p }));
  });
  return el('div', { class: 'crumbs', id: 'crumbs' }, out);
}

async function objects(path, marker) {
  const q = new URLSearchParams({ limit: String(PAGE + (marker ? 1 : 0)) });
  if (marker) q.set('marker', marker);
  const r = await call('GET', manta(path) + '?' + q);
  const ct = r.headers.get('content-type') || '';
  if (!ct.includes('type=directory')) {
    // An object: show its parent with it selected.
    const parent = path.slice(0, path.lastIndexOf('/'));
    return go(parent);
  }
  let entries = lines(await r.text());
  if (marker && entries.length && entries[0].name === marker) entries = entries.slice(1);
  const more = entries.length >= PAGE;
  entries = entries.slice(0, PAGE);
  const total = r.headers.get('result-set-size');
  const tree = path.split('/')[2];
  const rows = entries.map((e) => entryRow(path, e));
  const detail = el('div', { id: 'detail' });
  const table = el('table', { class: 'list', id: 'listing' },
    el('thead', {}, el('tr', {},
      el('th', {}, ''), el('th', { text: 'Name' }), el('th', { text: 'Size' }),
      el('th', { text: 'Type' }), el('th', { text: 'Modified' }))),
    el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'Empty directory' }))));
  const pager = el('div', { class: 'pager' },
    marker ? el('button', { type: 'button', onclick: () => objects(path, null).catch(failed), text: 'First page' }) : null,
    more ? el('button', {
      type: 'button', id: 'next-page', text: 'Next page',
      onclick: () => objects(path, entries[entries.length - 1].name).catch(failed),
    }) : null,
    el('span', { class: 'muted', text: total !== null ? total + ' entries' : '' }));
  show(
    el('div', { class: 'tabs' },
      el('a', { href: '#/objects/' + S.login + '/stor', class: tree === 'stor' ? 'active' : '', text: 'stor' }),
      el('a', { href: '#/objects/' + S.login + '/public', class: tree === 'public' ? 'active' : '', text: 'public' }),
      el('a', { href: '#/objects/' + S.login + '/jobs', class: tree === 'jobs' ? 'active' : '', text: 'jobs' })),
    crumbs(path),
    toolbar(path),
    table, pager, detail);
}

function entryRow(dir, e) {
  const full = dir + '/' + e.name;
  const isDir = e.type === 'directory';
  const box = el('input', { type: 'checkbox', class: 'pick', 'data-path': full, 'aria-label': 'select ' + e.name });
  const name = isDir
    ? el('a', { href: '#/objects' + full, class: 'dir', text: e.name + '/' })
    : el('a', { href: '#', class: 'obj', 'data-name': e.name, text: e.name, onclick: (ev) => { ev.preventDefault(); details(full, e); } });
  return el('tr', {},
    el('td', {}, isDir ? '' : box), el('td', {}, name),
    el('td', { class: 'num', text: isDir ? '' : size(e.size) }),
    el('td', { text: isDir ? 'directory' : (e.contentType || '') }),
    el('td', { text: when(e.mtime) }));
}

function toolbar(path) {
  const file = el('input', { type: 'file', id: 'upload-file', multiple: true });
  const bar = el('progress', { id: 'upload-progress', max: 100, value: 0, hidden: true });
  const status = el('span', { id: 'upload-status', class: 'muted' });
  const dirName = el('input', { type: 'text', id: 'mkdir-name', placeholder: 'new directory', maxlength: 1024 });
  return el('div', { class: 'toolbar' },
    el('span', { class: 'group' }, file,
      el('button', { type: 'button', id: 'upload-button', class: 'primary', text: 'Upload',
        onclick: () => upload(path, file.files, bar, status) }), bar, status),
    el('span', { class: 'group' }, dirName,
      el('button', { type: 'button', id: 'mkdir-button', text: 'Make directory',
        onclick: () => mkdir(path, dirName.value) })),
    el('span', { class: 'group' },
      el('button', { type: 'button', id: 'job-from-selection', text: 'New job from selection',
        onclick: () => {
          const picked = [...document.querySelectorAll('input.pick:checked')].map((b) => b.dataset.path);
          sessionStorage.setItem('job-inputs', picked.join('\n'));
          window.location.hash = '#/jobs/new';
        } })));
}

function upload(dir, files, bar, status) {
  if (!files || !files.length) return toast('Pick a file first', true);
  const list = [...files];
  const total = list.reduce((s, f) => s + f.size, 0) || 1;
  let done = 0;
  bar.hidden = false;
  const next = () => {
    const f = list.shift();
    if (!f) {
      status.textContent = 'uploaded';
      toast('Upload complete');
      return objects(dir, null).catch(failed);
    }
    // XHR, not fetch: it reports upload progress, and sends the file
    // from disk as it goes (never read into memory here).
    const x = new XMLHttpRequest();
    x.open('PUT', manta(dir + '/' + f.name));
    x.setRequestHeader('x-console-csrf', S.csrf || '');
    x.setRequestHeader('content-type', f.type || 'application/octet-stream');
    x.upload.onprogress = (ev) => {
      bar.value = Math.round(100 * (done + ev.loaded) / total);
      status.textContent = f.name + ': ' + size(ev.loaded) + ' of ' + size(f.size);
    };
    x.onload = () => {
      if (x.status >= 300) {
        let msg = x.status + '';
        try { const e = JSON.parse(x.responseText); msg = e.code + ': ' + e.message; } catch (_) { /* */ }
        status.textContent = 'failed';
        return toast(f.name + ': ' + msg, true);
      }
      done += f.size;
      bar.value = Math.round(100 * done / total);
      next();
    };
    x.onerror = () => toast(f.name + ': upload failed', true);
    x.send(f);
  };
  next();
}

async function mkdir(dir, name) {
  if (!name || name.includes('/')) return toast('A directory name, without /', true);
  try {
    await call('PUT', manta(dir + '/' + name), { headers: { 'content-type': 'application/json; type=directory' } });
    toast('Made ' + name);
    objects(dir, null).catch(failed);
  } catch (e) { failed(e); }
}

function details(path, e) {
  const dir = path.slice(0, path.lastIndexOf('/'));
  const out = el('input', { type: 'text', id: 'share-url', readonly: true, class: 'wide' });
  const expiry = el('select', { id: 'share-expiry' },
    el('option', { value: '3600', text: '1 hour' }), el('option', { value: '86400', text: '1 day', selected: true }),
    el('option', { value: '604800', text: '7 days' }));
  const linkName = el('input', { type: 'text', id: 'link-name', placeholder: 'new name (snaplink)', maxlength: 1024 });
  const confirmDel = el('button', { type: 'button', id: 'delete-confirm', class: 'danger', hidden: true, text: 'Really delete',
    onclick: async () => {
      try {
        await call('DELETE', manta(path));
        toast('Deleted ' + e.name);
        objects(dir, null).catch(failed);
      } catch (err) { failed(err); }
    } });
  const box = el('section', { class: 'card', id: 'object-detail' },
    el('h2', { text: e.name }),
    el('dl', {},
      el('dt', { text: 'Path' }), el('dd', { text: path }),
      el('dt', { text: 'Size' }), el('dd', { text: size(e.size) + ' (' + e.size + ' bytes)' }),
      el('dt', { text: 'Type' }), el('dd', { text: e.contentType || '' }),
      el('dt', { text: 'ETag' }), el('dd', { text: e.etag || '' }),
      el('dt', { text: 'Durability' }), el('dd', { text: e.durability || '' }),
      el('dt', { text: 'Modified' }), el('dd', { text: e.mtime || '' })),
    el('p', {}, el('a', { href: manta(path) + '?download=1', id: 'download-link', class: 'button', text: 'Download' }), ' ',
      el('button', { type: 'button', id: 'delete-button', class: 'danger', text: 'Delete',
        onclick: () => { confirmDel.hidden = false; } }), ' ', confirmDel),
    el('h3', { text: 'Share link' }),
    el('p', {}, 'Anyone with the link can download this object until it expires. ', expiry, ' ',
      el('button', { type: 'button', id: 'share-button', text: 'Create link',
        onclick: async () => {
          try {
            const r = await call('POST', API + '/share', { json: { path, expires_in: Number(expiry.value) } });
            const s = await r.json();
            out.value = s.url;
            out.hidden = false;
            out.select();
            toast('Link valid until ' + s.expires);
          } catch (err) { failed(err); }
        } })),
    out,
    el('p', {}, el('button', { type: 'button', id: 'share-revoke', class: 'danger', text: 'Revoke all my share links',
      onclick: async () => {
        try {
          await call('POST', API + '/share/revoke');
          out.value = '';
          out.hidden = true;
          toast('Every share link of ' + S.login + ' is void now');
        } catch (err) { failed(err); }
      } })),
    el('h3', { text: 'Snaplink' }),
    el('p', {}, linkName, ' ', el('button', { type: 'button', id: 'link-button', text: 'Make snaplink',
      onclick: async () => {
        const n = linkName.value;
        if (!n || n.includes('/')) return toast('A name, without /', true);
        try {
          await call('PUT', manta(dir + '/' + n), { headers: {
            'content-type': 'application/json; type=link', location: path } });
          toast('Linked ' + n);
          objects(dir, null).catch(failed);
        } catch (err) { failed(err); }
      } })));
  out.hidden = true;
  document.getElementById('detail').replaceChildren(box);
  box.scrollIntoView({ block: 'nearest' });
}

// ---------- jobs ----------

async function jobs() {
  const r = await call('GET', manta('/' + S.login + '/jobs') + '?state=all&limit=50');
  const ids = lines(await r.text()).map((j) => j.name);
  const statuses = await Promise.all(ids.map((id) =>
    call('GET', manta('/' + S.login + '/jobs/' + id + '/live/status')).then((x) => x.json()).catch(() => null)));
  const rows = statuses.filter(Boolean).sort((a, b) => (b.timeCreated || '').localeCompare(a.timeCreated || ''))
    .map((j) => el('tr', { class: 'job-row', 'data-id': j.id },
      el('td', {}, el('a', { href: '#/job/' + j.id, text: j.name || j.id.slice(0, 8) })),
      el('td', {}, badge(j)),
      el('td', { class: 'num', text: (j.stats.tasksDone || 0) + '/' + (j.stats.tasks || 0) }),
      el('td', { class: 'num', text: j.stats.errors || 0 }),
      el('td', { text: when(j.timeCreated) })));
  show(el('div', { class: 'toolbar' }, el('h1', { text: 'Jobs' }), el('span', { class: 'spacer' }),
    el('a', { href: '#/jobs/new', class: 'button primary', id: 'new-job', text: 'New job' })),
  el('table', { class: 'list', id: 'jobs' },
    el('thead', {}, el('tr', {}, el('th', { text: 'Job' }), el('th', { text: 'State' }),
      el('th', { text: 'Tasks done' }), el('th', { text: 'Errors' }), el('th', { text: 'Created' }))),
    el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'No jobs yet' })))));
}

function badge(j) {
  let s = j.state;
  let c = j.state;
  if (j.state === 'done' && j.cancelled) { s = 'cancelled'; c = 'cancelled'; }
  else if (j.stats && j.stats.errors) { s = j.state + ', with errors'; c = 'errors'; }
  return el('span', { class: 'badge ' + c, text: s });
}

function newJob(inputs) {
  const phases = el('div', { id: 'phases' });
  const addPhase = (type, exec) => {
    const p = el('fieldset', { class: 'phase' },
      el('legend', { text: 'Phase' }),
      el('label', {}, 'Type ', el('select', { class: 'phase-type' },
        el('option', { value: 'map', text: 'map', selected: type === 'map' }),
        el('option', { value: 'reduce', text: 'reduce', selected: type === 'reduce' }))),
      el('label', {}, 'Reducers ', el('input', { type: 'number', class: 'phase-count', min: 1, max: 1024, value: 1 })),
      el('label', { class: 'wide' }, 'exec ', el('input', { type: 'text', class: 'phase-exec wide', maxlength: 100000, value: exec || '' })),
      el('label', {}, 'Image ', el('input', { type: 'text', class: 'phase-image', placeholder: '(default image)', maxlength: 1024 })),
      el('button', { type: 'button', text: 'Remove', onclick: () => p.remove() }));
    phases.append(p);
  };
  addPhase('map', '');
  const name = el('input', { type: 'text', id: 'job-name', maxlength: 200, placeholder: 'optional' });
  const inputBox = el('textarea', { id: 'job-inputs', rows: 6, class: 'wide', placeholder: '/' + S.login + '/stor/file.txt (one per line)' });
  inputBox.value = inputs;
  const error = el('p', { class: 'error', id: 'job-error' });
  show(el('h1', { text: 'New job' }),
    el('form', { id: 'job-form', onsubmit: (ev) => { ev.preventDefault(); submitJob(name.value, phases, inputBox.value, error); } },
      el('label', {}, 'Name ', name),
      phases,
      el('p', {}, el('button', { type: 'button', id: 'add-map', text: 'Add map phase', onclick: () => addPhase('map') }), ' ',
        el('button', { type: 'button', id: 'add-reduce', text: 'Add reduce phase', onclick: () => addPhase('reduce') })),
      el('label', { class: 'wide' }, 'Inputs (object paths, one per line; pick them in Objects with the check boxes)', inputBox),
      el('p', {}, el('button', { type: 'submit', class: 'primary', id: 'job-submit', text: 'Submit job' })),
      error));
}

async function submitJob(name, phases, inputs, error) {
  error.textContent = '';
  const spec = { phases: [] };
  if (name) spec.name = name;
  for (const p of phases.querySelectorAll('fieldset.phase')) {
    const ph = { type: p.querySelector('.phase-type').value, exec: p.querySelector('.phase-exec').value };
    if (ph.type === 'reduce') ph.count = Number(p.querySelector('.phase-count').value) || 1;
    const img = p.querySelector('.phase-image').value.trim();
    if (img) ph.image = img;
    spec.phases.push(ph);
  }
  const paths = inputs.split('\n').map((l) => l.trim()).filter(Boolean);
  if (paths.length > 10000) { error.textContent = 'At most 10000 inputs here'; return; }
  try {
    const r = await call('POST', manta('/' + S.login + '/jobs'), {
      headers: { 'content-type': 'application/json; type=job' }, body: JSON.stringify(spec) });
    const id = (r.headers.get('location') || '').split('/').pop();
    await call('POST', manta('/' + S.login + '/jobs/' + id + '/live/in') + '?end=true', {
      headers: { 'content-type': 'text/plain' }, body: paths.join('\n') });
    sessionStorage.removeItem('job-inputs');
    window.location.hash = '#/job/' + id;
  } catch (e) {
    error.textContent = e.message;
  }
}

async function watchJob(id) {
  const base = '/' + S.login + '/jobs/' + id + '/live/';
  const get = async (what) => (await call('GET', manta(base + what))).text();
  const job = JSON.parse(await get('status'));
  const [outs, errs] = await Promise.all([get('out'), get('err')]);
  const st = job.stats || {};
  const running = Math.max(0, (st.tasks || 0) - (st.tasksDone || 0));
  const outRows = outs.split('\n').filter(Boolean).map((p) => el('li', {},
    el('a', { href: manta(p) + '?download=1', class: 'output', text: p }), ' ',
    el('a', { href: '#/objects' + p.slice(0, p.lastIndexOf('/')), text: '(folder)' })));
  const errRows = lines(errs).map((e) => {
    const pre = el('pre', { class: 'stderr' });
    if (e.stderr) {
      call('GET', manta(e.stderr)).then((r) => r.text()).then((t) => { pre.textContent = t.slice(0, 20000); }).catch(() => {});
    }
    return el('li', { class: 'job-error' },
      el('strong', { text: e.code }), ' ', e.what || '', ': ', e.message || '',
      e.stderr ? el('div', {}, el('a', { href: manta(e.stderr) + '?download=1', text: 'stderr' }), pre) : null);
  });
  const cancel = el('button', { type: 'button', id: 'cancel-job', class: 'danger', text: 'Cancel job', hidden: job.state === 'done',
    onclick: async () => {
      try { await call('POST', manta(base + 'cancel')); toast('Cancelling'); } catch (e) { failed(e); }
    } });
  show(el('div', { class: 'toolbar' }, el('h1', { text: 'Job ' + (job.name || id) }), badge(job), el('span', { class: 'spacer' }), cancel),
    el('p', { class: 'muted', id: 'job-id', text: id }),
    el('dl', { class: 'stats', id: 'job-stats' },
      el('dt', { text: 'State' }), el('dd', { id: 'job-state', text: job.state + (job.cancelled ? ' (cancelled)' : '') }),
      el('dt', { text: 'Tasks' }), el('dd', { text: st.tasks || 0 }),
      el('dt', { text: 'Done' }), el('dd', { id: 'job-done', text: st.tasksDone || 0 }),
      el('dt', { text: 'Running' }), el('dd', { text: running }),
      el('dt', { text: 'Errors' }), el('dd', { id: 'job-errors', text: st.errors || 0 }),
      el('dt', { text: 'Retries' }), el('dd', { text: st.retries || 0 }),
      el('dt', { text: 'Outputs' }), el('dd', { text: st.outputs || 0 }),
      el('dt', { text: 'Input' }), el('dd', { text: job.inputDone ? 'closed' : 'open' }),
      el('dt', { text: 'Created' }), el('dd', { text: when(job.timeCreated) }),
      el('dt', { text: 'Finished' }), el('dd', { text: when(job.timeDone) })),
    el('h2', { text: 'Phases' }),
    el('ol', { id: 'job-phases' }, (job.phases || []).map((p) =>
      el('li', {}, el('code', { text: (p.type || 'map') + (p.count ? ' ×' + p.count : '') + ': ' + p.exec }),
        p.image ? ' (image ' + p.image + ')' : ''))),
    el('h2', { text: 'Outputs' }),
    el('ul', { id: 'job-outputs' }, outRows.length ? outRows : el('li', { class: 'muted', text: 'none yet' })),
    el('h2', { text: 'Errors' }),
    el('ul', { id: 'job-errors-list' }, errRows.length ? errRows : el('li', { class: 'muted', text: 'none' })));
  if (job.state !== 'done') {
    S.timer = setTimeout(() => { if (window.location.hash === '#/job/' + id) watchJob(id).catch(failed); }, 1000);
  }
}

// ---------- cluster ----------

async function cluster() {
  const r = await call('GET', API + '/cluster');
  const c = await r.json();
  const m = c.maintenance || {};
  const last = m.last;
  const nodeRows = c.nodes.map((n) => el('tr', { class: 'node' },
    el('td', { text: n.id }), el('td', {}, el('span', { class: 'badge ' + n.state, text: n.state })),
    el('td', { class: 'num', text: size(n.used_bytes) }), el('td', { class: 'num', text: size(n.free_bytes) }),
    el('td', {}, spaceBar(n.used_bytes, n.free_bytes)),
    el('td', { class: 'num', text: n.blobs }), el('td', { class: 'num', text: Math.round(n.heartbeat_age_ms / 100) / 10 + ' s' }),
    el('td', { text: n.scrub ? size(n.scrub.scrubbed_bytes) + ' read, ' + n.scrub.passes + ' passes, ' + n.scrub.corrupt + ' corrupt' +
      (n.scrub.last_pass_end_ms ? ', last ' + new Date(n.scrub.last_pass_end_ms).toISOString() : '') : '-' })));
  const shardRows = c.shards.map((s) => el('tr', {},
    el('td', { text: s.shard }), el('td', {}, el('span', { class: 'badge ' + (s.reachable ? 'up' : 'down'), text: s.reachable ? 'leader ' + s.leader + ', term ' + s.term : 'no leader' })),
    el('td', { class: 'num', text: s.replicas_up + ' / ' + s.replicas })));
  const pass = last ? [
    'Last pass ' + new Date(last.started_ms).toISOString() + ' → ' + new Date(last.ended_ms).toISOString() + ' by ' + last.holder,
    last.still_below + ' references still below durability, ' + last.unrecoverable + ' unrecoverable',
    'scanned ' + last.records_scanned + ' records, ' + last.blobs_checked + ' blob references',
    'repair: ' + last.copies_made + ' copies made (' + size(last.bytes_copied) + '), ' + last.repair_failures + ' failures',
    'gc: ' + last.gc_deleted_blobs + ' blobs deleted (' + size(last.gc_deleted_bytes) + '), ' + last.gc_spared_young + ' spared as young',
  ] : ['No repair/GC pass has completed yet'];
  if (m.running) pass.push('Running since ' + new Date(m.running.started_ms).toISOString() + ': ' + m.running.records_scanned + ' records scanned');
  const samples = c.samples || [];
  show(el('h1', { text: 'Cluster' }),
    el('div', { class: 'cards' },
      el('section', { class: 'card stat' }, el('h3', { text: 'Storage nodes' }), el('p', { class: 'big', text: c.nodes.length })),
      el('section', { class: 'card stat' }, el('h3', { text: 'Below durability' }),
        el('p', { class: 'big', id: 'below-durability', text: c.below_durability === null ? 'unknown' : c.below_durability })),
      el('section', { class: 'card stat' }, el('h3', { text: 'Jobs running' }), el('p', { class: 'big', text: c.jobs_running === null ? '?' : c.jobs_running })),
      el('section', { class: 'card stat' }, el('h3', { text: 'Used' }),
        el('p', { class: 'big', text: size(c.nodes.reduce((s, n) => s + n.used_bytes, 0)) }))),
    el('h2', { text: 'Metrics (this frontend)' }),
    el('div', { class: 'charts', id: 'charts' },
      chart('Requests/s', samples.map((s) => [s.at_ms, s.requests_per_sec]), (v) => v.toFixed(1)),
      chart('Response bytes/s', samples.map((s) => [s.at_ms, s.bytes_per_sec]), size),
      chart('Task run time (s)', samples.filter((s) => s.task_seconds !== null).map((s) => [s.at_ms, s.task_seconds]), (v) => v.toFixed(2))),
    el('h2', { text: 'Storage nodes' }),
    el('table', { class: 'list', id: 'nodes' }, el('thead', {}, el('tr', {},
      ['Node', 'State', 'Used', 'Free', 'Space', 'Blobs', 'Heard', 'Scrub'].map((h) => el('th', { text: h })))), el('tbody', {}, nodeRows)),
    el('h2', { text: 'Metadata shards' }),
    el('table', { class: 'list', id: 'shards' }, el('thead', {}, el('tr', {}, el('th', { text: 'Shard' }), el('th', { text: 'Raft group' }), el('th', { text: 'Replicas up' }))),
      el('tbody', {}, shardRows)),
    el('h2', { text: 'Repair, scrub and garbage collection' }),
    el('ul', { id: 'maintenance' }, pass.map((l) => el('li', { text: l }))),
    el('p', { class: 'muted', text: 'Totals: ' + ((m.totals && m.totals.passes) || 0) + ' passes, ' + ((m.totals && m.totals.copies_made) || 0) + ' copies made.' }));
  S.timer = setTimeout(() => { if (window.location.hash === '#/cluster') cluster().catch(failed); }, c.sample_every_ms || 2000);
}

function spaceBar(used, free) {
  const total = used + free || 1;
  const w = 120;
  return el('svg:svg', { width: w, height: 10, viewBox: '0 0 ' + w + ' 10', class: 'space' },
    el('svg:rect', { x: 0, y: 0, width: w, height: 10, class: 'free' }),
    el('svg:rect', { x: 0, y: 0, width: Math.max(1, Math.round(w * used / total)), height: 10, class: 'used' }));
}

// A line chart of [time, value] points, drawn as SVG.
function chart(title, pts, fmt) {
  const W = 320;
  const H = 120;
  const pad = 4;
  const svg = el('svg:svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart', role: 'img', 'aria-label': title });
  svg.append(el('svg:rect', { x: 0, y: 0, width: W, height: H, class: 'bg' }));
  const max = Math.max(...pts.map((p) => p[1]), 0) || 1;
  if (pts.length >= 2) {
    const t0 = pts[0][0];
    const t1 = pts[pts.length - 1][0];
    const x = (t) => pad + (W - 2 * pad) * (t - t0) / ((t1 - t0) || 1);
    const y = (v) => H - pad - (H - 2 * pad) * v / max;
    const d = pts.map((p, i) => (i ? 'L' : 'M') + x(p[0]).toFixed(1) + ' ' + y(p[1]).toFixed(1)).join(' ');
    svg.append(el('svg:path', { d: d + ' L' + x(t1).toFixed(1) + ' ' + (H - pad) + ' L' + x(t0).toFixed(1) + ' ' + (H - pad) + ' Z', class: 'area' }));
    svg.append(el('svg:path', { d, class: 'line' }));
  } else {
    svg.append(el('svg:text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'note', text: 'collecting samples…' }));
  }
  const now = pts.length ? pts[pts.length - 1][1] : null;
  return el('figure', { class: 'card chart-card' },
    el('figcaption', {}, el('strong', { text: title }), ' ', el('span', { class: 'muted', text: now === null ? '' : 'now ' + fmt(now) + ', max ' + fmt(max) })),
    svg);
}

document.addEventListener('DOMContentLoaded', start);
