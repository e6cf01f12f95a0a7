// An offer's page (#offer/<account>/<offer id>): the record as eMAG last sent it (every field,
// images as thumbnails), each change from the log (old -> new for price, stock, status, name),
// and its price and stock over time. From GET /offers/{account}/{offer_id}/history.
'use strict';

const offerState = { key: null, data: null };
const offerHash = (account, id) => `#offer/${encodeURIComponent(account)}/${id}`;
// The fields shown first, in this order; the rest follow as eMAG sent them.
const LEAD_FIELDS = ['part_number', 'name', 'sale_price', 'currency', 'general_stock', 'status', 'brand', 'ean', 'url'];

async function openOffer(account, id) {
  const key = `${account}/${id}`;
  document.body.dataset.view = 'offer';
  $('#offer-view').hidden = false;
  for (const tab of TABS) $(`#${tab}`).hidden = true;
  if (offerState.key !== key) {
    offerState.key = key;
    offerState.data = null;
    $('#offer-title').textContent = `${account} · ${id}`;
    $('#offer-fields').replaceChildren();
    $('#offer-changes').replaceChildren();
  }
  try {
    const r = await api(`${API}/offers/${encodeURIComponent(account)}/${id}/history`);
    if (offerState.key !== key) return;  // another offer was opened meanwhile
    offerState.data = r.data;
    inlineError('#offer-error', null);
    renderOffer();
  } catch (e) { inlineError('#offer-error', e); }
  $('#offer-back').focus();
}

// Back to the tabs (route() shows the one the hash names).
function closeOffer() {
  if ($('#offer-view').hidden) return;
  $('#offer-view').hidden = true;
  delete document.body.dataset.view;
  offerState.key = null;
}

const statusWord = s => t(`offer_status_${s}`) ?? String(s);

// A field's value as text: prices and stock formatted, everything else as eMAG sent it.
function fieldText(key, value, offer) {
  if (value === null || value === undefined) return '–';
  if (/price$/.test(key) && value !== '') return fmt.money(value, offer.currency);
  if (key === 'general_stock') return fmt.num(value);
  if (key === 'status') return statusWord(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function renderOffer() {
  const d = offerState.data;
  let offer = {};
  try { offer = d.raw_json ? JSON.parse(d.raw_json) : {}; } catch (_) { offer = { raw_json: d.raw_json }; }
  const last = d.changes[d.changes.length - 1];
  $('#offer-title').textContent = `${last.name || offer.name || ''} · ${d.account_type} · ${d.offer_id}`;
  $('#offer-removed').hidden = !d.removed;
  $('#offer-removed').textContent = t('offerRemoved');
  const images = Array.isArray(offer.images) ? offer.images : [];
  // Thumbnails link to the image; the link is named, the picture itself is decorative.
  $('#offer-images').replaceChildren(...images.filter(i => i && i.url).map((i, n) =>
    el('a', { href: i.url, target: '_blank', rel: 'noopener', title: i.url, 'aria-label': `${t('images')} ${n + 1}` },
      el('img', { src: i.url, alt: '', loading: 'lazy', width: '72', height: '72' }))));
  $('#offer-images').hidden = images.length === 0;
  const keys = [...LEAD_FIELDS.filter(k => k in offer), ...Object.keys(offer).filter(k => !LEAD_FIELDS.includes(k))];
  $('#offer-fields').replaceChildren(...keys.map(k => el('div', { 'data-field': k },
    el('dt', {}, k), el('dd', { class: typeof offer[k] === 'object' && offer[k] !== null ? 'json' : '' }, fieldText(k, offer[k], offer)))));
  $('#offer-changes').replaceChildren(...[...d.changes].reverse().map(changeLine));
  drawOfferChart(d.changes);
}

function diffText(c, change) {
  const show = (field, v) => {
    if (field === 'price') return v === '' ? '–' : fmt.money(v, c.currency);
    if (field === 'stock') return fmt.num(Number(v));
    if (field === 'status') return statusWord(v);
    return v;
  };
  return `${t(change.field) ?? change.field}: ${show(change.field, change.old)} → ${show(change.field, change.new)}`;
}

function changeLine(c) {
  const details = c.diff.map(x => el('li', { class: `diff diff-${x.field}` }, diffText(c, x)));
  if (c.change === 'updated' && c.diff.length === 0 && c.changed_fields.length) {
    details.push(el('li', { class: 'diff' }, t('fieldsChanged', c.changed_fields.join(', '))));
  }
  return el('li', { class: `change change-${c.change}`, 'data-seq': String(c.seq) },
    el('time', { datetime: c.recorded_at }, fmt.time(c.recorded_at)), ' ',
    el('span', { class: `badge ch-${c.change}` }, t(`change_${c.change}`)), ' ',
    c.change === 'removed' ? '' : `${fmt.money(c.price, c.currency)} · ${t('stock')} ${fmt.num(c.stock_quantity)} `,
    el('a', { href: '#', onclick: ev => { ev.preventDefault(); openTimeline(c.run_id); } }, `#${c.seq}`),
    details.length ? el('ul', {}, ...details) : null);
}

function drawOfferChart(changes) {
  const points = changes.filter(c => c.change !== 'removed');
  const data = {
    labels: points.map(c => fmt.shortTime(c.recorded_at)),
    datasets: [
      { label: t('price'), yAxisID: 'price', borderColor: '#1f5fbf', backgroundColor: '#1f5fbf', stepped: true,
        data: points.map(c => c.price) },
      { label: t('stock'), yAxisID: 'stock', borderColor: '#2e8b57', backgroundColor: '#2e8b57', stepped: true,
        data: points.map(c => c.stock_quantity) },
    ],
  };
  drawChart('chart-offer', 'line', data, chartOptions({
    scales: { price: { position: 'left', beginAtZero: false }, stock: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false } } },
  }));
}

function bindOffer() {
  const back = () => { location.hash = `#${state.tab}`; };
  $('#offer-back').addEventListener('click', back);
  document.addEventListener('keydown', ev => {
    if (ev.key === 'Escape' && !$('#offer-view').hidden && !$('#timeline').open) back();
  });
}
