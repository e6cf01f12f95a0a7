// The marketsync web console: plain JavaScript, no build step, served by marketsyncd.
// Every state it shows comes from the server (status, history, events); buttons are enabled
// or disabled from /status, never from a client-side flag.
'use strict';

const API = '/api/v1/emag/products';
// A run's stream id: the server's grammar (schema/stream_ids.h), spelled here once.
const runStreamId = runId => `run-${runId}`;
const RUN_EVENTS = ['SyncRequested', 'SyncStarted', 'PageCommitted', 'PageFailed', 'SyncCancelRequested',
  'SyncCancelled', 'SyncInterrupted', 'SyncResumed', 'SyncCompleted', 'SyncCompletedWithGaps', 'SyncFailed'];

const TEXT = {
  en: {
    token: 'Access token', save: 'Save', syncTitle: 'Sync', historyTab: 'Sync history', productsTab: 'Products',
    account: 'Account', status: 'Status', all: 'All', from: 'From', to: 'To', asOf: 'As of (seq or time)',
    apply: 'Apply', now: 'Back to now', started: 'Started', created: 'Created', updated: 'Updated',
    unchanged: 'Unchanged', removed: 'Removed', failed: 'Failed', duration: 'Duration', triggeredBy: 'Triggered by',
    errors: 'Errors', noSyncs: 'No recent syncs', older: 'Older runs', search: 'SKU or name', searchBtn: 'Search',
    csv: 'Export CSV', name: 'Name', price: 'Price', stock: 'Stock', active: 'Active', lastChange: 'Last change',
    noProducts: 'No products', prev: 'Previous', next: 'Next', close: 'Close', cancelRun: 'Cancel this run',
    auditHead: 'Audit head', syncOne: n => `Sync ${n.toUpperCase()}`, syncAll: 'Sync ALL',
    test: n => `Test ${n.toUpperCase()}`, running: 'running', page: (x, y) => `page ${x} of ${y}`,
    offers: n => `${n} offers`, rate: r => `${r}/s`, eta: s => `ETA ${s}`, asOfBanner: (seq) => `History as it stood at seq ${seq}.`,
    pageOf: (a, b, t) => `${a}–${b} of ${t}`, connected: (a, n, u) => `${a}: connected, ${n} offers at ${u}`,
    started_: id => `Sync started (${id}).`, cancelAsked: 'Cancellation requested; the run stops at its next page boundary.',
    yes: 'yes', no: 'no', needToken: 'This server needs an access token.',
    st_running: 'running', st_completed: 'completed', st_completed_with_gaps: 'completed with gaps', st_failed: 'failed',
    st_cancelled: 'cancelled', st_interrupted: 'interrupted', run: 'Run',
  },
  ro: {
    token: 'Token de acces', save: 'Salvează', syncTitle: 'Sincronizare', historyTab: 'Istoric Sincronizări',
    productsTab: 'Produse', account: 'Cont', status: 'Stare', all: 'Toate', from: 'De la', to: 'Până la',
    asOf: 'La momentul (seq sau oră)', apply: 'Aplică', now: 'Înapoi la prezent', started: 'Început',
    created: 'Create', updated: 'Actualizate', unchanged: 'Neschimbate', removed: 'Șterse', failed: 'Eșuate',
    duration: 'Durată', triggeredBy: 'Declanșat de', errors: 'Erori', noSyncs: 'Nu există sincronizări recente',
    older: 'Sincronizări mai vechi', search: 'SKU sau nume', searchBtn: 'Caută', csv: 'Export CSV', name: 'Nume',
    price: 'Preț', stock: 'Stoc', active: 'Activ', lastChange: 'Ultima modificare', noProducts: 'Nu există produse',
    prev: 'Înapoi', next: 'Înainte', close: 'Închide', cancelRun: 'Anulează sincronizarea', auditHead: 'Capul jurnalului',
    syncOne: n => `Sincronizare ${n.toUpperCase()}`, syncAll: 'Sincronizare AMBELE', test: n => `Testează ${n.toUpperCase()}`,
    running: 'în curs', page: (x, y) => `pagina ${x} din ${y}`, offers: n => `${n} oferte`, rate: r => `${r}/s`,
    eta: s => `timp rămas ${s}`, asOfBanner: (seq) => `Istoricul așa cum era la seq ${seq}.`,
    pageOf: (a, b, t) => `${a}–${b} din ${t}`, connected: (a, n, u) => `${a}: conectat, ${n} oferte la ${u}`,
    started_: id => `Sincronizare pornită (${id}).`, cancelAsked: 'Anulare cerută; sincronizarea se oprește la sfârșitul paginii.',
    yes: 'da', no: 'nu', needToken: 'Serverul cere un token de acces.',
    st_running: 'în curs', st_completed: 'finalizată', st_completed_with_gaps: 'finalizată cu goluri', st_failed: 'eșuată',
    st_cancelled: 'anulată', st_interrupted: 'întreruptă', run: 'Sincronizare',
  },
};

const state = {
  lang: localStorage.getItem('marketsync.lang') || 'en',
  token: localStorage.getItem('marketsync.token') || '',
  accounts: [],
  active: [],           // current_syncs from /status
  history: { cursor: null, asOf: '' },
  products: { skip: 0, limit: 50, total: 0 },
  timelineRun: null,
  head: 0,
  source: null,
};

const $ = sel => document.querySelector(sel);
const t = (key, ...args) => { const v = TEXT[state.lang][key] ?? TEXT.en[key]; return typeof v === 'function' ? v(...args) : v; };
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
};

// --- API ------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const res = await fetch(path, Object.assign({}, options, { headers }));
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
  if (res.status === 401) { $('#token-form').hidden = false; throw new ApiError(401, (body && body.detail) || t('needToken')); }
  if (!res.ok) throw new ApiError(res.status, (body && body.detail) || `HTTP ${res.status}`);
  return body;
}

function showAlert(message, ok = false) {
  const a = $('#alert');
  a.textContent = message;
  a.className = ok ? 'alert ok' : 'alert';
  a.hidden = false;
  clearTimeout(showAlert.timer);
  showAlert.timer = setTimeout(() => { a.hidden = true; }, ok ? 4000 : 10000);
}
const report = e => showAlert(e.message || String(e));

// --- formatting -----------------------------------------------------------------------------

const fmtTime = s => s ? new Date(s).toLocaleString(state.lang === 'ro' ? 'ro-RO' : 'en-GB') : '–';
const fmtSecs = s => {
  if (s === null || s === undefined) return '–';
  s = Math.round(s);
  return s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.floor(s % 3600 / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
};
const badge = status => el('span', { class: `badge st-${status}` }, t(`st_${status}`));

// --- i18n -----------------------------------------------------------------------------------

function applyLanguage() {
  document.documentElement.lang = state.lang;
  $('#lang').textContent = state.lang === 'en' ? 'RO' : 'EN';
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  renderSyncButtons();
  renderProgress();
}

// --- sync buttons and progress --------------------------------------------------------------

function busy(account) { return state.active.some(r => r.account_type === account); }

function renderSyncButtons() {
  const box = $('#sync-buttons');
  box.replaceChildren();
  for (const a of state.accounts) {
    box.append(el('div', { class: 'account-group' },
      el('button', { type: 'button', id: `sync-${a}`, 'data-account': a, onclick: () => startSync(a),
        ...(busy(a) ? { disabled: '' } : {}) }, t('syncOne', a)),
      el('button', { type: 'button', class: 'secondary', id: `test-${a}`, onclick: () => testConnection(a) }, t('test', a))));
  }
  if (state.accounts.length > 1) {
    box.append(el('button', { type: 'button', id: 'sync-both', onclick: () => startSync('both'),
      ...(state.accounts.some(busy) ? { disabled: '' } : {}) }, t('syncAll')));
  }
}

function renderProgress() {
  const box = $('#progress');
  box.replaceChildren();
  for (const r of state.active) {
    const pct = r.total_pages ? Math.min(100, Math.round(100 * r.current_page / r.total_pages)) : 0;
    const parts = [t('page', r.current_page, r.total_pages || '?'), t('offers', r.processed_items)];
    if (r.items_per_second) parts.push(t('rate', Math.round(r.items_per_second)));
    if (r.eta_seconds !== null && r.eta_seconds !== undefined) parts.push(t('eta', fmtSecs(r.eta_seconds)));
    const meter = el('div', { class: 'meter', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct) }, el('div'));
    meter.firstChild.style.width = `${pct}%`;
    box.append(el('div', { class: 'progress', 'data-run': r.id },
      el('strong', {}, r.account_type.toUpperCase()), ' ', badge(r.status), ' ',
      el('a', { href: '#', onclick: ev => { ev.preventDefault(); openTimeline(r.id); } }, r.id),
      meter, el('span', { class: 'progress-text' }, parts.join(' · '))));
  }
}

async function refreshStatus() {
  const s = await api(`${API}/status`);
  state.active = s.current_syncs || [];
  renderSyncButtons();
  renderProgress();
  return s;
}

async function startSync(account) {
  for (const b of document.querySelectorAll('#sync-buttons button[id^=sync]')) b.disabled = true;  // until /status answers
  try {
    const r = await api(`${API}/sync`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ account_type: account, mode: 'full', include_inactive: true, items_per_page: 100,
        run_async: true, triggered_by: 'console' }),
    });
    showAlert(t('started_', r.sync_id), true);
  } catch (e) { report(e); }
  await refreshStatus().catch(report);
  await loadHistory(true).catch(report);
}

async function testConnection(account) {
  try {
    const r = await api(`${API}/test-connection?account_type=${encodeURIComponent(account)}`, { method: 'POST' });
    showAlert(t('connected', account, r.data.total_products, r.data.base_url), true);
  } catch (e) { report(e); }
}

// --- history ----------------------------------------------------------------------------------

function toUtc(local) { return local ? new Date(local).toISOString() : ''; }

function historyQuery(cursor) {
  const p = new URLSearchParams({ limit: '50' });
  const account = $('#h-account').value, status = $('#h-status').value;
  if (account) p.set('account_type', account);
  if (status) p.set('status', status);
  if ($('#h-from').value) p.set('from', toUtc($('#h-from').value));
  if ($('#h-to').value) p.set('to', toUtc($('#h-to').value));
  if (state.history.asOf) p.set('as_of', state.history.asOf);
  if (cursor) p.set('cursor', cursor);
  return `${API}/history?${p}`;
}

function historyRow(r) {
  const errors = r.errors_total > 0
    ? el('details', {}, el('summary', {}, String(r.errors_total)),
        el('ul', {}, ...r.errors.map(e => el('li', {}, `${e.page ? `p${e.page}: ` : ''}${e.message}`))))
    : '0';
  const tr = el('tr', { 'data-run': r.id, tabindex: '0', onclick: () => openTimeline(r.id),
    onkeydown: ev => { if (ev.key === 'Enter') openTimeline(r.id); } },
    el('td', {}, fmtTime(r.started_at)), el('td', {}, r.account_type), el('td', { class: 'status' }, badge(r.status)),
    el('td', { class: 'created' }, r.created_items), el('td', { class: 'updated' }, r.updated_items),
    el('td', { class: 'unchanged' }, r.unchanged_items), el('td', { class: 'removed' }, r.removed_items),
    el('td', { class: 'failed' }, r.failed_items), el('td', {}, fmtSecs(r.duration_seconds)),
    el('td', {}, r.triggered_by), el('td', { class: 'wrap' }, errors));
  tr.querySelector('details')?.addEventListener('click', ev => ev.stopPropagation());
  return tr;
}

async function loadHistory(reset) {
  const body = $('#history-table tbody');
  const r = await api(historyQuery(reset ? null : state.history.cursor));
  if (reset) body.replaceChildren();
  for (const run of r.data.syncs) body.append(historyRow(run));
  state.history.cursor = r.data.next_cursor;
  $('#history-more').hidden = !r.data.next_cursor;
  $('#history-empty').hidden = body.children.length > 0;
  const banner = $('#asof-banner');
  banner.hidden = !state.history.asOf;
  banner.textContent = state.history.asOf ? t('asOfBanner', r.data.as_of_seq) : '';
  $('#h-now').hidden = !state.history.asOf;
}

// --- timeline -------------------------------------------------------------------------------

function eventLine(e) {
  const p = e.payload || {};
  let detail = '';
  if (e.type === 'PageCommitted') detail = `page ${p.page}: ${p.created} created, ${p.updated} updated, ${p.unchanged} unchanged`;
  else if (e.type === 'PageFailed') detail = `page ${p.page}: ${p.message}`;
  else if (e.type === 'SyncStarted') detail = `attempt ${p.attempt}, ${p.total_items} offers, ${p.total_pages} pages`;
  else if (e.type === 'SyncFailed') detail = p.message;
  else if (e.type === 'SyncRequested') detail = `${p.account}, ${p.params.mode}, by ${p.triggered_by}`;
  return el('li', { 'data-seq': String(e.seq) }, `#${e.seq} ${fmtTime(e.recorded_at)} ${e.type}${detail ? ' — ' + detail : ''}`);
}

async function openTimeline(id) {
  try {
    const [run, events] = await Promise.all([api(`${API}/sync/${encodeURIComponent(id)}`),
      api(`${API}/sync/${encodeURIComponent(id)}/events`)]);
    state.timelineRun = id;
    renderTimelineHead(run.data);
    $('#tl-events').replaceChildren(...events.data.events.map(eventLine));
    const d = $('#timeline');
    if (!d.open) d.showModal();
  } catch (e) { report(e); }
}

function renderTimelineHead(r) {
  $('#tl-title').replaceChildren(`${t('run')} ${r.id} `, badge(r.status));
  $('#tl-summary').textContent = `${r.account_type} · ${fmtTime(r.started_at)} · ${r.created_items}/${r.updated_items}/` +
    `${r.unchanged_items}/${r.removed_items}/${r.failed_items} · ${fmtSecs(r.duration_seconds)}`;
  const finished = ['completed', 'completed_with_gaps', 'failed', 'cancelled'].includes(r.status);
  $('#tl-cancel').hidden = finished;
}

async function cancelTimelineRun() {
  const id = state.timelineRun;
  try {
    await api(`${API}/sync/${encodeURIComponent(id)}`, { method: 'DELETE' });
    showAlert(t('cancelAsked'), true);
  } catch (e) { report(e); }
}

// --- products -------------------------------------------------------------------------------

function productQuery(skip, limit) {
  const p = new URLSearchParams({ skip: String(skip), limit: String(limit) });
  if ($('#p-search').value.trim()) p.set('search', $('#p-search').value.trim());
  if ($('#p-account').value) p.set('account_type', $('#p-account').value);
  return `${API}/products?${p}`;
}

async function loadProducts() {
  const { skip, limit } = state.products;
  const r = await api(productQuery(skip, limit));
  state.products.total = r.data.pagination.total;
  $('#products-table tbody').replaceChildren(...r.data.products.map(p => el('tr', {},
    el('td', { class: 'sku' }, p.sku), el('td', { class: 'wrap' }, p.name), el('td', {}, p.account_type),
    el('td', {}, p.price === null ? '–' : `${p.price} ${p.currency}`), el('td', {}, p.stock_quantity),
    el('td', {}, p.is_active ? t('yes') : t('no')), el('td', {}, `${p.sync_status} · ${fmtTime(p.updated_at)}`))));
  $('#products-empty').hidden = r.data.products.length > 0;
  const end = Math.min(skip + limit, state.products.total);
  $('#p-page').textContent = state.products.total ? t('pageOf', skip + 1, end, state.products.total) : '';
  $('#p-prev').disabled = skip === 0;
  $('#p-next').disabled = end >= state.products.total;
}

async function exportCsv() {
  try {
    const rows = [['id', 'emag_id', 'sku', 'name', 'account_type', 'price', 'currency', 'stock_quantity', 'is_active',
      'sync_status', 'updated_at']];
    for (let skip = 0; ; skip += 1000) {
      const r = await api(productQuery(skip, 1000));
      for (const p of r.data.products) rows.push(rows[0].map(k => p[k]));
      if (skip + 1000 >= r.data.pagination.total) break;
    }
    const csv = rows.map(r => r.map(v => { const s = v === null || v === undefined ? '' : String(v);
      return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; }).join(',')).join('\n');
    const a = el('a', { href: URL.createObjectURL(new Blob([csv], { type: 'text/csv' })), download: 'products.csv' });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (e) { report(e); }
}

// --- live events ------------------------------------------------------------------------------

async function refreshHead() {
  const h = await api('/api/v1/audit/head');
  state.head = h.last_seq;
  $('#head').textContent = `seq ${h.last_seq} · ${h.head_hash}`;
}

let refreshTimer = null;
function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(async () => {
    refreshTimer = null;
    await refreshStatus().catch(report);
    await refreshHead().catch(() => {});
    if (!state.history.asOf) await loadHistory(true).catch(report);
  }, 300);
}

function connectEvents() {
  if (state.source) state.source.close();
  const p = new URLSearchParams({ after: String(state.head), runs_only: '1' });
  if (state.token) p.set('access_token', state.token);
  const source = new EventSource(`/api/v1/events/stream?${p}`);
  for (const type of RUN_EVENTS) {
    source.addEventListener(type, msg => {
      const e = JSON.parse(msg.data);
      if (state.timelineRun && e.stream_id === runStreamId(state.timelineRun) && $('#timeline').open) {
        const list = $('#tl-events');
        if (!list.querySelector(`[data-seq="${e.seq}"]`)) list.append(eventLine(e));
        api(`${API}/sync/${encodeURIComponent(state.timelineRun)}`).then(r => renderTimelineHead(r.data)).catch(() => {});
      }
      scheduleRefresh();
    });
  }
  state.source = source;
}

// --- start ----------------------------------------------------------------------------------

function selectTab(name) {
  for (const tab of ['history', 'products']) {
    $(`#tab-${tab}`).setAttribute('aria-selected', String(tab === name));
    $(`#${tab}`).hidden = tab !== name;
  }
  if (name === 'products') loadProducts().catch(report);
}

async function init() {
  $('#lang').addEventListener('click', () => {
    state.lang = state.lang === 'en' ? 'ro' : 'en';
    localStorage.setItem('marketsync.lang', state.lang);
    applyLanguage();
    loadHistory(true).catch(report);
  });
  $('#token-form').addEventListener('submit', ev => {
    ev.preventDefault();
    state.token = $('#token').value.trim();
    localStorage.setItem('marketsync.token', state.token);
    $('#token-form').hidden = true;
    start();
  });
  $('#tab-history').addEventListener('click', () => selectTab('history'));
  $('#tab-products').addEventListener('click', () => selectTab('products'));
  $('#history-filters').addEventListener('submit', ev => {
    ev.preventDefault();
    state.history.asOf = $('#h-asof').value.trim();
    loadHistory(true).catch(report);
  });
  $('#h-now').addEventListener('click', () => { $('#h-asof').value = ''; state.history.asOf = ''; loadHistory(true).catch(report); });
  $('#history-more').addEventListener('click', () => loadHistory(false).catch(report));
  $('#product-filters').addEventListener('submit', ev => { ev.preventDefault(); state.products.skip = 0; loadProducts().catch(report); });
  $('#p-prev').addEventListener('click', () => { state.products.skip = Math.max(0, state.products.skip - state.products.limit); loadProducts().catch(report); });
  $('#p-next').addEventListener('click', () => { state.products.skip += state.products.limit; loadProducts().catch(report); });
  $('#p-csv').addEventListener('click', exportCsv);
  $('#tl-cancel').addEventListener('click', cancelTimelineRun);
  $('#timeline').addEventListener('close', () => { state.timelineRun = null; });
  applyLanguage();
  await start();
}

async function start() {
  try {
    const stats = await api(`${API}/statistics`);
    state.accounts = Object.keys(stats.products_by_account);
    for (const sel of ['#h-account', '#p-account']) {
      const s = $(sel);
      while (s.options.length > 1) s.remove(1);
      for (const a of state.accounts) s.append(el('option', { value: a }, a));
    }
    await refreshHead();
    await refreshStatus();
    await loadHistory(true);
    connectEvents();
    document.body.dataset.ready = '1';
  } catch (e) { report(e); }
}

init();
