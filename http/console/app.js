// The marketsync web console: plain JavaScript, no build step, served by marketsyncd.
// Every state it shows comes from the server (status, overview, history, events); buttons are
// enabled or disabled from /status, never from a client-side flag. Words and formats live in
// i18n.js, the overview in overview.js, an offer's page in offer.js.
'use strict';

const API = '/api/v1/emag/products';
// A run's stream id: the server's grammar (schema/stream_ids.h), spelled here once.
const runStreamId = runId => `run-${runId}`;
const RUN_EVENTS = ['SyncRequested', 'SyncStarted', 'SyncCounted', 'PageCommitted', 'PageFailed', 'SyncCancelRequested',
  'SyncCancelled', 'SyncInterrupted', 'SyncResumed', 'SyncCompleted', 'SyncCompletedWithGaps', 'SyncFailed'];
const TABS = ['overview', 'history', 'products'];

const state = {
  token: localStorage.getItem('marketsync.token') || '',
  accounts: [],
  active: [],           // current_syncs from /status
  tab: 'overview',
  history: { cursor: null, asOf: '' },
  products: { skip: 0, limit: 50, total: 0 },
  timelineRun: null,
  head: 0,
  source: null,
};

const $ = sel => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
};

// --- API and errors -------------------------------------------------------------------------

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

// An error shown in words next to what caused it (a form's error line), until the next try.
function inlineError(id, e) {
  const p = $(id);
  p.textContent = e ? (e.message || String(e)) : '';
  p.hidden = !e;
}
// Runs `load`; its failure is shown at `id` (and the page keeps what it had).
const tryInline = (id, load) => load().then(() => inlineError(id, null), e => inlineError(id, e));

const badge = status => el('span', { class: `badge st-${status}` }, t(`st_${status}`));

// --- i18n -----------------------------------------------------------------------------------

function applyLanguage() {
  document.documentElement.lang = lang.current;
  $('#lang').textContent = lang.current === 'en' ? 'RO' : 'EN';
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

// A run in flight as a bar and a line: page x of y, offers, rate, ETA.
function progressOf(r) {
  const pct = r.total_pages ? Math.min(100, Math.round(100 * r.current_page / r.total_pages)) : 0;
  const parts = [t('page', fmt.num(r.current_page), r.total_pages ? fmt.num(r.total_pages) : '?'), t('offers', fmt.num(r.processed_items))];
  if (r.items_per_second) parts.push(t('rate', fmt.num(Math.round(r.items_per_second))));
  if (r.eta_seconds !== null && r.eta_seconds !== undefined) parts.push(t('eta', fmt.secs(r.eta_seconds)));
  const meter = el('div', { class: 'meter', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct) }, el('div'));
  meter.firstChild.style.width = `${pct}%`;
  return [meter, el('span', { class: 'progress-text' }, parts.join(' · '))];
}

function renderProgress() {
  $('#progress').replaceChildren(...state.active.map(r => el('div', { class: 'progress', 'data-run': r.id },
    el('strong', {}, r.account_type.toUpperCase()), ' ', badge(r.status), ' ',
    el('a', { href: '#', onclick: ev => { ev.preventDefault(); openTimeline(r.id); } }, r.id),
    ...progressOf(r))));
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
  inlineError('#sync-error', null);
  try {
    const r = await api(`${API}/sync`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ account_type: account, mode: 'full', include_inactive: true, items_per_page: 100,
        run_async: true, triggered_by: 'console' }),
    });
    showAlert(t('started_', r.sync_id), true);
  } catch (e) { inlineError('#sync-error', e); }
  await refreshStatus().catch(report);
  await refreshView();
}

async function testConnection(account) {
  inlineError('#sync-error', null);
  try {
    const r = await api(`${API}/test-connection?account_type=${encodeURIComponent(account)}`, { method: 'POST' });
    showAlert(t('connected', account, fmt.num(r.data.total_products), r.data.base_url), true);
  } catch (e) { inlineError('#sync-error', e); }
}

// --- history ----------------------------------------------------------------------------------

function toUtc(local) { return local ? new Date(local).toISOString() : ''; }

function historyQuery(cursor, asOf) {
  const p = new URLSearchParams({ limit: '50' });
  const account = $('#h-account').value, status = $('#h-status').value;
  if (account) p.set('account_type', account);
  if (status) p.set('status', status);
  if ($('#h-from').value) p.set('from', toUtc($('#h-from').value));
  if ($('#h-to').value) p.set('to', toUtc($('#h-to').value));
  if (asOf) p.set('as_of', asOf);
  if (cursor) p.set('cursor', cursor);
  return `${API}/history?${p}`;
}

function historyRow(r) {
  const errors = r.errors_total > 0
    ? el('details', {}, el('summary', {}, fmt.num(r.errors_total)),
        el('ul', {}, ...r.errors.map(e => el('li', {}, `${e.page ? `p${e.page}: ` : ''}${e.message}`))))
    : '0';
  const tr = el('tr', { 'data-run': r.id, tabindex: '0', onclick: () => openTimeline(r.id),
    onkeydown: ev => { if (ev.key === 'Enter') openTimeline(r.id); } },
    el('td', {}, fmt.time(r.started_at)), el('td', {}, r.account_type), el('td', { class: 'status' }, badge(r.status)),
    el('td', { class: 'created num' }, fmt.num(r.created_items)), el('td', { class: 'updated num' }, fmt.num(r.updated_items)),
    el('td', { class: 'unchanged num' }, fmt.num(r.unchanged_items)), el('td', { class: 'removed num' }, fmt.num(r.removed_items)),
    el('td', { class: 'failed num' }, fmt.num(r.failed_items)), el('td', {}, fmt.secs(r.duration_seconds)),
    el('td', {}, r.triggered_by), el('td', { class: 'wrap' }, errors));
  tr.querySelector('details')?.addEventListener('click', ev => ev.stopPropagation());
  return tr;
}

// Loads the history as of `asOf` (a seq or a time, as the server reads it; '' for now). A point
// the server refuses leaves the page as it was.
async function loadHistory(reset, asOf = state.history.asOf) {
  const body = $('#history-table tbody');
  const r = await api(historyQuery(reset ? null : state.history.cursor, asOf));
  state.history.asOf = asOf;
  if (reset) body.replaceChildren();
  for (const run of r.data.syncs) body.append(historyRow(run));
  state.history.cursor = r.data.next_cursor;
  $('#history-more').hidden = !r.data.next_cursor;
  const filtered = ['#h-account', '#h-status', '#h-from', '#h-to'].some(s => $(s).value) || state.history.asOf;
  const empty = $('#history-empty');
  empty.hidden = body.children.length > 0;
  empty.textContent = filtered ? t('noSyncsMatch') : t('noSyncs');
  const banner = $('#asof-banner');
  banner.hidden = !state.history.asOf;
  banner.textContent = state.history.asOf ? t('asOfBanner', r.data.as_of_seq) : '';
  $('#h-now').hidden = !state.history.asOf;
}

function applyHistoryFilters() {
  return tryInline('#h-error', () => loadHistory(true, $('#h-asof').value.trim()));
}

// --- timeline -------------------------------------------------------------------------------

function eventLine(e) {
  const p = e.payload || {};
  let detail = '';
  if (e.type === 'PageCommitted') detail = `page ${p.page}: ${p.created} created, ${p.updated} updated, ${p.unchanged} unchanged`;
  else if (e.type === 'PageFailed') detail = `page ${p.page}: ${p.message}`;
  else if (e.type === 'SyncStarted') {
    detail = p.awaiting_count ? `attempt ${p.attempt}` : `attempt ${p.attempt}, ${fmt.num(p.total_items)} offers, ${p.total_pages} pages`;
  } else if (e.type === 'SyncCounted') detail = `${fmt.num(p.total_items)} offers, ${p.total_pages} pages`;
  else if (e.type === 'SyncFailed') detail = p.message;
  else if (e.type === 'SyncRequested') detail = `${p.account}, ${p.params.mode}, by ${p.triggered_by}`;
  return el('li', { 'data-seq': String(e.seq) }, `#${e.seq} ${fmt.time(e.recorded_at)} ${e.type}${detail ? ' — ' + detail : ''}`);
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
  $('#tl-summary').textContent = `${r.account_type} · ${fmt.time(r.started_at)} · ${fmt.num(r.created_items)}/` +
    `${fmt.num(r.updated_items)}/${fmt.num(r.unchanged_items)}/${fmt.num(r.removed_items)}/${fmt.num(r.failed_items)} · ` +
    fmt.secs(r.duration_seconds);
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

function productRow(p) {
  const open = () => { location.hash = offerHash(p.account_type, p.emag_id); };
  return el('tr', { 'data-offer': `${p.account_type}/${p.emag_id}`, tabindex: '0', title: t('openOffer'), onclick: open,
    onkeydown: ev => { if (ev.key === 'Enter') open(); } },
    el('td', { class: 'sku' }, p.sku), el('td', { class: 'wrap' }, p.name), el('td', {}, p.account_type),
    el('td', { class: 'num price' }, fmt.money(p.price, p.currency)), el('td', { class: 'num' }, fmt.num(p.stock_quantity)),
    el('td', {}, p.is_active ? t('yes') : t('no')), el('td', {}, `${t(`change_${p.sync_status}`)} · ${fmt.time(p.updated_at)}`));
}

async function loadProducts() {
  const { skip, limit } = state.products;
  const r = await api(productQuery(skip, limit));
  state.products.total = r.data.pagination.total;
  $('#products-table tbody').replaceChildren(...r.data.products.map(productRow));
  const empty = $('#products-empty');
  empty.hidden = r.data.products.length > 0;
  empty.textContent = $('#p-search').value.trim() || $('#p-account').value ? t('noProductsMatch') : t('noProducts');
  const end = Math.min(skip + limit, state.products.total);
  $('#p-page').textContent = state.products.total ? t('pageOf', fmt.num(skip + 1), fmt.num(end), fmt.num(state.products.total)) : '';
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
  } catch (e) { inlineError('#p-error', e); }
}

// --- live events ------------------------------------------------------------------------------

async function refreshHead() {
  const h = await api('/api/v1/audit/head');
  state.head = h.last_seq;
  $('#head').textContent = `seq ${h.last_seq} · ${h.head_hash}`;
}

// Reloads what the visible view shows (a view fixed at an as-of point stays as it is).
async function refreshView() {
  if (state.tab === 'overview' && !overviewState.asOf) await tryInline('#o-error', loadOverview);
  if (state.tab === 'history' && !state.history.asOf) await tryInline('#h-error', () => loadHistory(true));
}

let refreshTimer = null;
function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(async () => {
    refreshTimer = null;
    await refreshStatus().catch(report);
    await refreshHead().catch(() => {});
    await refreshView();
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

// --- views and start --------------------------------------------------------------------------

// The hash names the view: #overview, #history, #products, or #offer/<account>/<offer id>.
function showTab(name) {
  state.tab = name;
  for (const tab of TABS) {
    $(`#tab-${tab}`).setAttribute('aria-selected', String(tab === name));
    $(`#tab-${tab}`).tabIndex = tab === name ? 0 : -1;
    $(`#${tab}`).hidden = tab !== name;
  }
  return name === 'products' ? tryInline('#p-error', loadProducts) : refreshView();
}

function selectTab(name) {
  if (location.hash === `#${name}`) route(); else location.hash = `#${name}`;
}

// Arrow keys move between tabs (the WAI-ARIA tabs pattern).
function onTabKey(ev) {
  const i = TABS.indexOf(state.tab);
  const next = ev.key === 'ArrowRight' ? TABS[(i + 1) % TABS.length] : ev.key === 'ArrowLeft' ? TABS[(i + TABS.length - 1) % TABS.length] : null;
  if (!next) return;
  ev.preventDefault();
  selectTab(next);
  $(`#tab-${next}`).focus();
}

function route() {
  const m = /^#offer\/([^/]+)\/(\d+)$/.exec(location.hash);
  if (m) return openOffer(decodeURIComponent(m[1]), m[2]);
  closeOffer();
  const tab = location.hash.slice(1);
  return showTab(TABS.includes(tab) ? tab : 'overview');
}

function bindControls() {
  $('#lang').addEventListener('click', () => {
    lang.current = lang.current === 'en' ? 'ro' : 'en';
    localStorage.setItem('marketsync.lang', lang.current);
    applyLanguage();
    loadHistory(true).catch(report);
    if (state.tab === 'products') loadProducts().catch(report);
    loadOverview().catch(report);
    if (!$('#offer-view').hidden) route();  // re-renders the offer's page
  });
  $('#token-form').addEventListener('submit', ev => {
    ev.preventDefault();
    state.token = $('#token').value.trim();
    localStorage.setItem('marketsync.token', state.token);
    $('#token-form').hidden = true;
    start();
  });
  for (const tab of TABS) $(`#tab-${tab}`).addEventListener('click', () => selectTab(tab));
  $('.tabs').addEventListener('keydown', onTabKey);
  $('#history-filters').addEventListener('submit', ev => { ev.preventDefault(); applyHistoryFilters(); });
  $('#h-now').addEventListener('click', () => { $('#h-asof').value = ''; applyHistoryFilters(); });
  $('#history-more').addEventListener('click', () => tryInline('#h-error', () => loadHistory(false)));
  $('#product-filters').addEventListener('submit', ev => { ev.preventDefault(); state.products.skip = 0; tryInline('#p-error', loadProducts); });
  $('#p-prev').addEventListener('click', () => { state.products.skip = Math.max(0, state.products.skip - state.products.limit); tryInline('#p-error', loadProducts); });
  $('#p-next').addEventListener('click', () => { state.products.skip += state.products.limit; tryInline('#p-error', loadProducts); });
  $('#p-csv').addEventListener('click', exportCsv);
  $('#tl-cancel').addEventListener('click', cancelTimelineRun);
  $('#timeline').addEventListener('close', () => { state.timelineRun = null; });
  bindOverview();
  bindOffer();
  window.addEventListener('hashchange', route);
}

async function start() {
  try {
    const stats = await api(`${API}/statistics`);
    state.accounts = Object.keys(stats.products_by_account);
    for (const sel of ['#h-account', '#p-account', '#o-account']) {
      const s = $(sel);
      while (s.options.length > 1) s.remove(1);
      for (const a of state.accounts) s.append(el('option', { value: a }, a));
    }
    await refreshHead();
    await refreshStatus();
    connectEvents();
    await route();  // loads the view the address names
    document.body.dataset.ready = '1';
  } catch (e) { report(e); }
}

window.addEventListener('DOMContentLoaded', () => {
  bindControls();
  applyLanguage();
  start();
});
