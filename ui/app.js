// The berth web interface: hash-routed views over /ui/api/. Every string
// from the registry is put in the page with textContent (el() below),
// never as HTML: tags, labels and annotations are written by whoever
// pushed the image.
import {
  formatSize, formatTime, imageHash, imageSize, isIndex, MANIFEST_ACCEPT, parseHash,
  nextMarker, platformName, platforms, pullCommands, quotaShare, repoHash, shortDigest,
} from './lib.js';

const main = document.getElementById('main');
const statusLine = document.getElementById('status');
const who = document.getElementById('who');
const logoutButton = document.getElementById('logout');
const usageLink = document.getElementById('usage-link');
let session = null; // {user, csrf, admin}
let renderSeq = 0;
const TAG_PAGE = 200; // the registry's largest tag page (and /ui/api/tags')

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'onclick' || k === 'onsubmit') e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function say(text, isError = false) {
  statusLine.textContent = text;
  statusLine.className = isError ? 'status error' : 'status';
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, { method = 'GET', body, accept, raw = false } = {}) {
  const headers = {};
  if (accept) headers.Accept = accept;
  if (method !== 'GET' && method !== 'HEAD' && session) headers['X-CSRF-Token'] = session.csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`/ui/api/${path}`, {
    method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try { const j = await res.json(); if (j && j.error) msg = j.error; } catch (e) { /* not JSON */ }
    if (res.status === 401 && path !== 'login' && path !== 'session') { session = null; showLogin(msg); }
    throw new ApiError(res.status, msg);
  }
  if (raw) return res;
  const text = await res.text(); // a DELETE answers 202 with no body
  return text ? JSON.parse(text) : null;
}

// A reference in a path: tags need no escaping, and a digest's ':' must stay
// as it is (the registry matches the raw path).
function refPath(ref) {
  return encodeURIComponent(ref).replace(/%3A/gi, ':');
}

function v2(name, rest) {
  return `v2/${name.split('/').map(encodeURIComponent).join('/')}/${rest}`;
}

function setView(title, ...nodes) {
  document.title = title ? `${title} · berth` : 'berth';
  main.replaceChildren(...nodes);
}

function showLogin(message) {
  who.textContent = '';
  logoutButton.hidden = true;
  usageLink.hidden = true;
  const user = el('input', { id: 'user', name: 'user', autocomplete: 'username', required: true });
  const pass = el('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = el('p', { id: 'login-error', class: 'error', role: 'alert', text: message || '' });
  const form = el('form', {
    id: 'login', class: 'card narrow',
    onsubmit: async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      try {
        session = await api('login', { method: 'POST', body: { user: user.value, password: pass.value } });
        pass.value = '';
        await start();
      } catch (e) { err.textContent = e.message; }
    },
  },
  el('h1', { text: 'Log in' }),
  el('p', { class: 'muted', text: 'The same user name and password as for podman login.' }),
  el('label', { for: 'user', text: 'User name' }), user,
  el('label', { for: 'password', text: 'Password' }), pass,
  el('button', { type: 'submit', id: 'login-submit', text: 'Log in' }), err);
  setView('Log in', form);
  user.focus();
}

// ---- repository list -------------------------------------------------------

async function showList(q) {
  const seq = renderSeq;
  const search = el('input', { id: 'search', type: 'search', value: q, placeholder: 'Filter repositories', 'aria-label': 'Filter repositories' });
  const list = el('ul', { id: 'repos', class: 'list' });
  const more = el('button', { id: 'more', type: 'button', hidden: true, text: 'More' });
  const empty = el('p', { id: 'empty', class: 'muted', hidden: true });
  let next = null;
  async function load(last) {
    const params = new URLSearchParams({ n: '100' });
    if (q) params.set('q', q);
    if (last) params.set('last', last);
    const page = await api(`repositories?${params}`);
    if (seq !== renderSeq) return;
    for (const name of page.repositories) {
      list.append(el('li', {}, el('a', { href: repoHash(name), class: 'repo', text: name })));
    }
    next = page.next;
    more.hidden = !next;
    if (!list.children.length && !next) {
      empty.hidden = false;
      empty.textContent = q ? `No repository you may pull matches "${q}".` : 'No repositories you may pull yet. Push one with podman push.';
    }
    main.dataset.loaded = String(list.children.length);
  }
  more.addEventListener('click', () => load(next).catch((e) => say(e.message, true)));
  const form = el('form', {
    class: 'search', role: 'search',
    onsubmit: (ev) => { ev.preventDefault(); location.hash = search.value ? `#/?q=${encodeURIComponent(search.value)}` : '#/'; },
  }, search, el('button', { type: 'submit', text: 'Search' }));
  setView('Repositories', el('h1', { text: 'Repositories' }), form, list, empty, more);
  await load('');
}

// ---- one repository --------------------------------------------------------

async function manifestOf(name, ref) {
  const res = await api(v2(name, `manifests/${refPath(ref)}`), { accept: MANIFEST_ACCEPT, raw: true });
  const text = await res.text();
  return { digest: res.headers.get('Docker-Content-Digest') || '', size: text.length, manifest: JSON.parse(text) };
}

// An image's size; an index's is the sum of its first 16 images (each
// one more request), which is what a pull of every platform would fetch.
async function totalSize(name, manifest) {
  if (!isIndex(manifest)) return imageSize(manifest);
  const children = (manifest.manifests || []).slice(0, 16);
  const sizes = await Promise.all(children.map((c) => manifestOf(name, c.digest)
    .then((m) => imageSize(m.manifest), () => c.size || 0)));
  return sizes.reduce((a, b) => a + b, 0);
}

function mayDelete(name) {
  return !!session && (session.admin || name.startsWith(`${session.user}/`));
}

async function deleteRef(name, ref, what) {
  if (!window.confirm(`Delete ${what} ${name}:${ref}?`)) return false;
  try {
    await api(v2(name, `manifests/${refPath(ref)}`), { method: 'DELETE' });
    say(`Deleted ${what} ${ref}.`);
    return true;
  } catch (e) {
    say(`Not deleted: ${e.message}`, true);
    return false;
  }
}

// One page of a repository's tags, after `last`: {tags: [{name,
// pushed_at?}], next}. Tags with push times from /ui/api/tags; from a
// server without them, the registry's tag list (paged with n and last).
async function tagPage(name, last) {
  const params = new URLSearchParams({ repository: name });
  if (last) params.set('last', last);
  try {
    return await api(`tags?${params}`);
  } catch (e) {
    if (e.status !== 404) throw e;
  }
  const q = new URLSearchParams({ n: String(TAG_PAGE) });
  if (last) q.set('last', last);
  try {
    const names = (await api(v2(name, `tags/list?${q}`))).tags || [];
    return { tags: names.map((t) => ({ name: t })), next: nextMarker(names, TAG_PAGE) };
  } catch (e2) {
    if (e2.status !== 404) throw e2;
    return { tags: [], next: null };
  }
}

async function showRepo(name) {
  const seq = renderSeq;
  const body = el('tbody');
  const table = el('table', { id: 'tags' },
    el('thead', {}, el('tr', {}, ...['Tag', 'Digest', 'Size', 'Platforms', 'Pushed', ''].map((h) => el('th', { scope: 'col', text: h })))),
    body);
  const empty = el('p', { id: 'empty', class: 'muted', hidden: true, text: 'This repository has no tags.' });
  const more = el('button', { id: 'more-tags', type: 'button', hidden: true, text: 'More tags' });
  setView(name, el('p', {}, el('a', { href: '#/', text: '← Repositories' })), el('h1', { text: name }), table, empty, more);
  let shown = 0;
  let next = null;
  async function load(last) {
    const page = await tagPage(name, last);
    if (seq !== renderSeq) return;
    next = page.next;
    more.hidden = !next;
    shown += page.tags.length;
    empty.hidden = shown > 0;
    table.hidden = shown === 0;
    const rows = page.tags.map((t) => {
      const tag = t.name;
      const cells = [el('td', {}), el('td', { class: 'mono' }), el('td'), el('td'), el('td', { text: formatTime(t.pushed_at ? new Date(t.pushed_at * 1000).toISOString() : '') }), el('td')];
      cells[0].append(el('a', { href: imageHash(name, tag), text: tag }));
      if (mayDelete(name)) {
        cells[5].append(el('button', {
          type: 'button', class: 'danger', 'data-tag': tag, text: 'Delete tag',
          onclick: async () => { if (await deleteRef(name, tag, 'tag')) row.remove(); },
        }));
      }
      const row = el('tr', { 'data-tag': tag }, ...cells);
      body.append(row);
      return { tag, cells };
    });
    // A few at a time: each needs its own request.
    let i = 0;
    async function worker() {
      while (i < rows.length && seq === renderSeq) {
        const r = rows[i++];
        try {
          const m = await manifestOf(name, r.tag);
          r.cells[1].textContent = shortDigest(m.digest);
          r.cells[1].title = m.digest;
          r.cells[2].textContent = formatSize(await totalSize(name, m.manifest));
          r.cells[3].textContent = isIndex(m.manifest) ? platforms(m.manifest).join(', ') : 'single image';
        } catch (e) { r.cells[1].textContent = e.message; }
      }
    }
    await Promise.all([worker(), worker(), worker(), worker()]);
    if (seq === renderSeq) main.dataset.loaded = String(shown);
  }
  more.addEventListener('click', () => {
    more.hidden = true;
    delete main.dataset.loaded;
    load(next).catch((e) => say(e.message, true));
  });
  await load('');
}

// ---- one image -------------------------------------------------------------

function kv(rows) {
  return el('dl', { class: 'kv' }, ...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', {}, v)]));
}

function pullBox(name, ref) {
  const host = location.host;
  const cmds = pullCommands(host, name, ref);
  return el('section', { id: 'pull' }, el('h2', { text: 'Pull' }),
    ...Object.entries(cmds).map(([tool, cmd]) => {
      const input = el('input', { class: 'mono cmd', readonly: true, value: cmd, 'aria-label': `${tool} pull command`, 'data-tool': tool });
      const button = el('button', {
        type: 'button', 'data-copy': tool, text: 'Copy',
        onclick: async () => {
          input.select();
          let ok = false;
          try { await navigator.clipboard.writeText(cmd); ok = true; } catch (e) {
            try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
          }
          button.dataset.copied = cmd;
          say(ok ? `Copied: ${cmd}` : 'Select the text and copy it by hand.', !ok);
        },
      });
      return el('div', { class: 'pullrow' }, el('span', { class: 'tool', text: tool }), input, button);
    }));
}

async function showImage(name, ref) {
  const seq = renderSeq;
  const m = await manifestOf(name, ref);
  if (seq !== renderSeq) return;
  const parts = [
    el('p', {}, el('a', { href: repoHash(name), text: `← ${name}` })),
    el('h1', {}, `${name}`, el('span', { class: 'ref', text: ref.startsWith('sha256:') ? `@${shortDigest(ref)}` : `:${ref}` })),
    kv([['Digest', el('span', { class: 'mono', id: 'digest', text: m.digest })],
      ['Media type', m.manifest.mediaType || '(none)'],
      ['Size', formatSize(await totalSize(name, m.manifest))]]),
    pullBox(name, ref),
  ];
  if (isIndex(m.manifest)) {
    const list = el('ul', { id: 'platforms', class: 'list' });
    for (const child of m.manifest.manifests || []) {
      const label = platformName(child.platform) || child.artifactType || child.mediaType || 'entry';
      list.append(el('li', {}, el('a', { href: imageHash(name, child.digest), text: label }), ' ',
        el('span', { class: 'mono muted', text: `${shortDigest(child.digest)} · ${formatSize(child.size)}` })));
    }
    parts.push(el('section', {}, el('h2', { text: 'Platforms' }), list));
  } else {
    const layers = m.manifest.layers || [];
    parts.push(el('section', {}, el('h2', { text: `Layers (${layers.length})` }),
      el('table', { id: 'layers' },
        el('thead', {}, el('tr', {}, ...['#', 'Digest', 'Size', 'Media type'].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', {}, ...layers.map((l, i) => el('tr', {},
          el('td', { text: String(i + 1) }), el('td', { class: 'mono', title: l.digest, text: shortDigest(l.digest) }),
          el('td', { text: formatSize(l.size) }), el('td', { class: 'muted', text: l.mediaType || '' })))))));
    parts.push(await configSection(name, m.manifest));
  }
  if (mayDelete(name)) {
    parts.push(el('p', {}, el('button', {
      type: 'button', class: 'danger', id: 'delete-manifest', text: 'Delete this manifest',
      onclick: async () => { if (await deleteRef(name, m.digest, 'manifest')) location.hash = repoHash(name); },
    })));
  }
  const refs = el('section', { id: 'referrers' }, el('h2', { text: 'Referrers' }));
  parts.push(refs);
  setView(`${name}:${ref}`, ...parts);
  try {
    const r = await api(v2(name, `referrers/${m.digest}`));
    const items = r.manifests || [];
    refs.append(items.length ? el('ul', { class: 'list' }, ...items.map((x) => el('li', {},
      el('a', { href: imageHash(name, x.digest), text: x.artifactType || x.mediaType || x.digest }), ' ',
      el('span', { class: 'mono muted', text: shortDigest(x.digest) }))))
      : el('p', { class: 'muted', text: 'Nothing refers to this manifest.' }));
  } catch (e) { refs.append(el('p', { class: 'error', text: e.message })); }
  main.dataset.loaded = 'image';
}

async function configSection(name, manifest) {
  const sec = el('section', { id: 'config' }, el('h2', { text: 'Configuration' }));
  const c = manifest.config;
  if (!c || !c.digest) return sec;
  if ((c.size || 0) > 1048576) { sec.append(el('p', { class: 'muted', text: 'The configuration is too large to show.' })); return sec; }
  let cfg;
  try { cfg = await api(v2(name, `blobs/${c.digest}`)); } catch (e) { sec.append(el('p', { class: 'error', text: e.message })); return sec; }
  const inner = cfg.config || {};
  const list = (a) => (Array.isArray(a) ? a.join(' ') : '');
  sec.append(kv([
    ['Platform', platformName(cfg) || '?'],
    ['Created', formatTime(cfg.created) || '?'],
    ['Entrypoint', el('span', { class: 'mono', text: list(inner.Entrypoint) || '(none)' })],
    ['Command', el('span', { class: 'mono', text: list(inner.Cmd) || '(none)' })],
  ]));
  const env = inner.Env || [];
  sec.append(el('h3', { text: 'Environment' }), env.length
    ? el('ul', { id: 'env', class: 'list mono' }, ...env.map((e) => el('li', { text: e })))
    : el('p', { class: 'muted', text: 'None.' }));
  const labels = Object.entries(inner.Labels || {});
  sec.append(el('h3', { text: 'Labels' }), labels.length
    ? el('table', { id: 'labels' }, el('tbody', {}, ...labels.map(([k, v]) => el('tr', {}, el('th', { scope: 'row', class: 'mono', text: k }), el('td', { class: 'mono', text: v })))))
    : el('p', { class: 'muted', text: 'None.' }));
  const hist = cfg.history || [];
  sec.append(el('h3', { text: 'History' }), hist.length
    ? el('ol', { id: 'history', class: 'list mono' }, ...hist.map((h) => el('li', { text: `${formatTime(h.created)} ${h.created_by || ''}${h.empty_layer ? ' (no layer)' : ''}` })))
    : el('p', { class: 'muted', text: 'None.' }));
  return sec;
}

// ---- usage and quotas -----------------------------------------------------

async function showUsage() {
  const seq = renderSeq;
  const page = await api('usage');
  if (seq !== renderSeq) return;
  const rows = page.namespaces || [];
  const title = session.admin ? 'Usage of every namespace' : 'Usage of your namespace';
  const table = el('table', { id: 'usage' },
    el('thead', {}, el('tr', {}, ...['Namespace', 'Used', 'Quota', 'Share', 'Repositories'].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, ...rows.map((u) => {
      const share = quotaShare(u.used_bytes, u.quota_bytes);
      return el('tr', { 'data-namespace': u.namespace },
        el('th', { scope: 'row', class: 'mono', text: u.namespace }),
        el('td', { text: formatSize(u.used_bytes) }),
        el('td', { text: u.quota_bytes ? formatSize(u.quota_bytes) : 'none' }),
        el('td', {}, share ? el('meter', {
          min: '0', max: String(u.quota_bytes), high: String(u.quota_bytes * 0.9),
          value: String(Math.min(u.used_bytes, u.quota_bytes)), 'aria-label': `${u.namespace}: ${share} of the quota`,
        }) : null, share ? ` ${share}` : ''),
        el('td', { text: String(u.repositories) }));
    })));
  const empty = el('p', { id: 'empty', class: 'muted', text: 'You have no namespace of your own.' });
  setView('Usage', el('p', {}, el('a', { href: '#/', text: '← Repositories' })), el('h1', { text: title }),
    rows.length ? table : empty,
    el('p', { class: 'muted', text: 'Bytes of the distinct blobs in each namespace; a push past the quota is refused.' }));
  main.dataset.loaded = 'usage';
}

// ---- routing ---------------------------------------------------------------

async function route() {
  if (!session) return;
  renderSeq++;
  delete main.dataset.loaded;
  say('');
  const v = parseHash(location.hash);
  try {
    if (v.view === 'usage') await showUsage();
    else if (v.view === 'repo') await showRepo(v.name);
    else if (v.view === 'image') await showImage(v.name, v.ref);
    else await showList(v.q);
    main.focus({ preventScroll: true });
  } catch (e) {
    if (e.status !== 401) setView('Error', el('h1', { text: 'Something went wrong' }), el('p', { class: 'error', role: 'alert', text: e.message }), el('p', {}, el('a', { href: '#/', text: 'Back to the repositories' })));
  }
}

async function start() {
  try {
    session = await api('session');
  } catch (e) {
    showLogin(e.status === 401 ? '' : e.message);
    return;
  }
  who.textContent = session.user;
  logoutButton.hidden = false;
  usageLink.hidden = false;
  await route();
}

logoutButton.addEventListener('click', async () => {
  let note = 'Logged out.';
  try {
    const r = await api('logout', { method: 'POST' });
    if (r && r.warning) note = r.warning;
  } catch (e) { note = `Logout: ${e.message}`; }
  session = null;
  showLogin(note);
});
window.addEventListener('hashchange', route);
start();
