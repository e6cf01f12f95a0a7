// The overview: a card per account (offers, last success, success rate, health, the run in
// flight) and three charts drawn by Chart.js (runs per day by outcome, each run's duration per
// account, offers changed per run), all from GET /overview, live or as of a point.
'use strict';

const overviewState = { asOf: '', data: null };
const OUTCOMES = [  // stacked in this order; colours match the status badges
  ['completed', '#1e7d3a'], ['completed_with_gaps', '#a86400'], ['failed', '#b3261e'], ['cancelled', '#6b6f76'],
  ['unfinished', '#1f5fbf']];
const ACCOUNT_COLOURS = ['#1f5fbf', '#a23b72', '#2e8b57', '#c77800', '#5b4bb7', '#008b8b'];

function overviewQuery(asOf) {
  const p = new URLSearchParams({ days: $('#o-days').value });
  if ($('#o-account').value) p.set('account_type', $('#o-account').value);
  if (asOf) p.set('as_of', asOf);
  return `${API}/overview?${p}`;
}

// Loads the overview as of `asOf` ('' for now); a point the server refuses leaves it as it was.
async function loadOverview(asOf = overviewState.asOf) {
  const r = await api(overviewQuery(asOf));
  overviewState.asOf = asOf;
  overviewState.data = r.data;
  renderOverview();
}

function renderOverview() {
  const d = overviewState.data;
  if (!d) return;
  $('#cards').replaceChildren(...d.accounts.map(a => accountCard(a, d.now)));
  const banner = $('#o-banner');
  banner.hidden = !overviewState.asOf;
  banner.textContent = overviewState.asOf ? t('overviewAsOf', d.as_of_seq) : '';
  $('#o-now').hidden = !overviewState.asOf;
  const days = d.days.length;
  $('#o-empty').hidden = d.runs.length > 0 || d.days.some(x => x.requested > 0);
  $('#o-empty').textContent = t('noRunsInRange', days);
  $('#o-truncated').hidden = !d.runs_truncated;
  $('#o-truncated').textContent = t('runsTruncated', d.runs.length);
  drawDays(d.days);
  drawDurations(d.runs, d.accounts.map(a => a.account_type));
  drawChanges(d.runs);
}

function healthBadge(a, now) {
  const text = a.health === 'failing' ? t('health_failing', fmt.shortTime(a.failing_since)) : t(`health_${a.health}`);
  const title = a.failing_since ? `${fmt.time(a.failing_since)} (${fmt.ago(a.failing_since, now)})` : '';
  return el('span', { class: `health health-${a.health}`, title }, text);
}

function accountCard(a, now) {
  const stat = (label, cls, value, title = '') => el('div', {}, el('dt', {}, t(label)), el('dd', { class: cls, title }, value));
  const flight = a.in_flight
    ? el('div', { class: 'in-flight progress', 'data-run': a.in_flight.id }, badge(a.in_flight.status), ' ',
        el('a', { href: '#', onclick: ev => { ev.preventDefault(); openTimeline(a.in_flight.id); } }, a.in_flight.id),
        ...progressOf(a.in_flight))
    : el('p', { class: 'in-flight idle' }, t('idle'));
  return el('article', { class: 'account-card', 'data-account': a.account_type, 'aria-label': a.account_type },
    el('header', {}, el('h3', {}, a.account_type.toUpperCase()), healthBadge(a, now)),
    el('dl', { class: 'stats' },
      stat('offersLabel', 'offers', fmt.num(a.offers)),
      stat('lastSuccess', 'last-success', fmt.ago(a.last_success_at, now), a.last_success_at ? fmt.time(a.last_success_at) : ''),
      stat('successRate', 'success-rate', a.runs_completed + a.runs_failed + a.runs_completed_with_gaps + a.runs_cancelled
        ? fmt.pct(a.success_rate) : '–')),
    flight);
}

// --- charts -----------------------------------------------------------------------------------

// Draws or redraws a chart on a canvas (updated in place, so a live refresh does not flicker).
function drawChart(id, type, data, options) {
  const canvas = document.getElementById(id);
  const existing = Chart.getChart(canvas);
  if (existing && existing.config.type === type) {
    existing.data = data;
    existing.options = options;
    existing.update('none');
    return existing;
  }
  if (existing) existing.destroy();
  return new Chart(canvas, { type, data, options });
}

function chartOptions(extra = {}) {
  return Object.assign({
    responsive: true, maintainAspectRatio: false, animation: false,
    interaction: { mode: 'index', intersect: false },
    locale: locale(),
    plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
  }, extra);
}

function drawDays(days) {
  const data = {
    labels: days.map(d => fmt.day(d.date)),
    datasets: OUTCOMES.map(([key, colour]) => ({
      label: key === 'unfinished' ? t('unfinished') : t(`st_${key}`), backgroundColor: colour,
      data: days.map(d => d[key]),
    })),
  };
  drawChart('chart-days', 'bar', data, chartOptions({
    scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
  }));
  const total = days.reduce((n, d) => n + d.requested, 0);
  $('#chart-days').setAttribute('aria-label', `${t('chartDays')}: ${fmt.num(total)}`);
}

function runLabels(runs) { return runs.map(r => fmt.shortTime(r.started_at)); }

// One line per account over the window's runs (a point where the run is the account's).
function drawDurations(runs, accounts) {
  const names = [...new Set([...accounts, ...runs.map(r => r.account_type)])];
  const data = {
    labels: runLabels(runs),
    datasets: names.map((a, i) => ({
      label: a, borderColor: ACCOUNT_COLOURS[i % ACCOUNT_COLOURS.length], backgroundColor: ACCOUNT_COLOURS[i % ACCOUNT_COLOURS.length],
      spanGaps: true, tension: 0.2, pointRadius: 3,
      data: runs.map(r => (r.account_type === a ? Math.round(r.duration_seconds * 100) / 100 : null)),
    })),
  };
  drawChart('chart-durations', 'line', data, chartOptions({ scales: { y: { beginAtZero: true } } }));
  $('#chart-durations').setAttribute('aria-label', `${t('chartDurations')}: ${fmt.num(runs.length)}`);
}

function drawChanges(runs) {
  const data = {
    labels: runLabels(runs),
    datasets: [['created_items', 'created', '#1e7d3a'], ['updated_items', 'updated', '#1f5fbf'], ['removed_items', 'removed', '#b3261e']]
      .map(([key, label, colour]) => ({ label: t(label), backgroundColor: colour, data: runs.map(r => r[key]) })),
  };
  drawChart('chart-changes', 'bar', data, chartOptions({ scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }));
  $('#chart-changes').setAttribute('aria-label', `${t('chartChanges')}: ${fmt.num(runs.length)}`);
}

function applyOverviewFilters() {
  return tryInline('#o-error', () => loadOverview($('#o-asof').value.trim()));
}

function bindOverview() {
  $('#overview-filters').addEventListener('submit', ev => { ev.preventDefault(); applyOverviewFilters(); });
  $('#o-now').addEventListener('click', () => { $('#o-asof').value = ''; applyOverviewFilters(); });
  for (const sel of ['#o-days', '#o-account']) $(sel).addEventListener('change', () => applyOverviewFilters());
}
