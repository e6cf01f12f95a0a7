// The console's words in English and Romanian, and every number and time formatted for people
// in the language chosen (en-GB or ro-RO): 1,275 / 1.275, RON 12.50 / 12,50 RON, "3 minutes ago"
// / "acum 3 minute". Loaded before app.js; plain globals, no build step.
'use strict';

const TEXT = {
  en: {
    token: 'Access token', save: 'Save', syncTitle: 'Sync', overviewTab: 'Overview', historyTab: 'Sync history',
    productsTab: 'Products', account: 'Account', status: 'Status', all: 'All', from: 'From', to: 'To',
    asOf: 'As of (seq or time)', apply: 'Apply', now: 'Back to now', started: 'Started', created: 'Created',
    updated: 'Updated', unchanged: 'Unchanged', removed: 'Removed', failed: 'Failed', duration: 'Duration',
    triggeredBy: 'Triggered by', errors: 'Errors',
    noSyncs: 'No syncs yet. Press a Sync button above to pull your offers from eMAG.',
    noSyncsMatch: 'No sync matches these filters.', older: 'Older runs', search: 'SKU or name', searchBtn: 'Search',
    csv: 'Export CSV', name: 'Name', price: 'Price', stock: 'Stock', active: 'Active', lastChange: 'Last change',
    noProducts: 'No products yet. Run a sync to mirror your offers here.', noProductsMatch: 'No product matches this search.',
    prev: 'Previous', next: 'Next', close: 'Close', cancelRun: 'Cancel this run',
    auditHead: 'Audit head', syncOne: n => `Sync ${n.toUpperCase()}`, syncAll: 'Sync ALL',
    test: n => `Test ${n.toUpperCase()}`, running: 'running', page: (x, y) => `page ${x} of ${y}`,
    offers: n => `${n} offers`, rate: r => `${r}/s`, eta: s => `ETA ${s}`,
    asOfBanner: seq => `History as it stood at seq ${seq}.`, overviewAsOf: seq => `Overview as it stood at seq ${seq}.`,
    pageOf: (a, b, t) => `${a}–${b} of ${t}`, connected: (a, n, u) => `${a}: connected, ${n} offers at ${u}`,
    started_: id => `Sync started (${id}).`, cancelAsked: 'Cancellation requested; the run stops at its next page boundary.',
    yes: 'yes', no: 'no', needToken: 'This server needs an access token.',
    st_running: 'running', st_completed: 'completed', st_completed_with_gaps: 'completed with gaps', st_failed: 'failed',
    st_cancelled: 'cancelled', st_interrupted: 'interrupted', run: 'Run',
    days: 'Days', offersLabel: 'Offers mirrored', lastSuccess: 'Last successful sync', successRate: 'Success rate',
    never: 'never', health_ok: 'ok', health_failing: since => `failing since ${since}`, health_never_synced: 'never synced',
    idle: 'No run in flight.', chartDays: 'Runs per day', chartDurations: 'Duration of each run (seconds)',
    chartChanges: 'Offers created, updated and removed per run', unfinished: 'unfinished',
    noRunsInRange: n => `No runs in the last ${n} days. Press a Sync button above to start one.`,
    runsTruncated: n => `The per-run charts show the latest ${n} runs of the period.`,
    back: 'Back', currentRecord: 'Current record', images: 'Images', timeline: 'Changes', priceStock: 'Price and stock over time',
    offerRemoved: 'eMAG no longer lists this offer; its last known record is shown.', change_created: 'created',
    change_updated: 'updated', change_removed: 'removed', fieldsChanged: f => `fields: ${f}`,
    offer_status_0: 'inactive', offer_status_1: 'active', offer_status_2: 'end of life', openOffer: 'Open its history',
    sku: 'SKU', currency: 'Currency',
  },
  ro: {
    token: 'Token de acces', save: 'Salvează', syncTitle: 'Sincronizare', overviewTab: 'Prezentare generală',
    historyTab: 'Istoric Sincronizări', productsTab: 'Produse', account: 'Cont', status: 'Stare', all: 'Toate',
    from: 'De la', to: 'Până la', asOf: 'La momentul (seq sau oră)', apply: 'Aplică', now: 'Înapoi la prezent',
    started: 'Început', created: 'Create', updated: 'Actualizate', unchanged: 'Neschimbate', removed: 'Șterse',
    failed: 'Eșuate', duration: 'Durată', triggeredBy: 'Declanșat de', errors: 'Erori',
    noSyncs: 'Nu există încă sincronizări. Apăsați un buton de sincronizare de mai sus pentru a aduce ofertele din eMAG.',
    noSyncsMatch: 'Nicio sincronizare nu corespunde filtrelor.', older: 'Sincronizări mai vechi', search: 'SKU sau nume',
    searchBtn: 'Caută', csv: 'Export CSV', name: 'Nume', price: 'Preț', stock: 'Stoc', active: 'Activ',
    lastChange: 'Ultima modificare', noProducts: 'Nu există încă produse. Porniți o sincronizare pentru a le aduce aici.',
    noProductsMatch: 'Niciun produs nu corespunde căutării.', prev: 'Înapoi', next: 'Înainte', close: 'Închide',
    cancelRun: 'Anulează sincronizarea', auditHead: 'Capul jurnalului',
    syncOne: n => `Sincronizare ${n.toUpperCase()}`, syncAll: 'Sincronizare AMBELE', test: n => `Testează ${n.toUpperCase()}`,
    running: 'în curs', page: (x, y) => `pagina ${x} din ${y}`, offers: n => `${n} oferte`, rate: r => `${r}/s`,
    eta: s => `timp rămas ${s}`, asOfBanner: seq => `Istoricul așa cum era la seq ${seq}.`,
    overviewAsOf: seq => `Situația așa cum era la seq ${seq}.`,
    pageOf: (a, b, t) => `${a}–${b} din ${t}`, connected: (a, n, u) => `${a}: conectat, ${n} oferte la ${u}`,
    started_: id => `Sincronizare pornită (${id}).`, cancelAsked: 'Anulare cerută; sincronizarea se oprește la sfârșitul paginii.',
    yes: 'da', no: 'nu', needToken: 'Serverul cere un token de acces.',
    st_running: 'în curs', st_completed: 'finalizată', st_completed_with_gaps: 'finalizată cu goluri', st_failed: 'eșuată',
    st_cancelled: 'anulată', st_interrupted: 'întreruptă', run: 'Sincronizare',
    days: 'Zile', offersLabel: 'Oferte oglindite', lastSuccess: 'Ultima sincronizare reușită', successRate: 'Rată de succes',
    never: 'niciodată', health_ok: 'în regulă', health_failing: since => `eșuează din ${since}`,
    health_never_synced: 'nesincronizat niciodată', idle: 'Nicio sincronizare în curs.', chartDays: 'Sincronizări pe zi',
    chartDurations: 'Durata fiecărei sincronizări (secunde)', chartChanges: 'Oferte create, actualizate și șterse pe sincronizare',
    unfinished: 'neterminate',
    noRunsInRange: n => `Nicio sincronizare în ultimele ${n} zile. Apăsați un buton de sincronizare de mai sus.`,
    runsTruncated: n => `Graficele pe sincronizare arată ultimele ${n} sincronizări din perioadă.`,
    back: 'Înapoi', currentRecord: 'Înregistrarea curentă', images: 'Imagini', timeline: 'Modificări',
    priceStock: 'Preț și stoc în timp', offerRemoved: 'eMAG nu mai listează această ofertă; se arată ultima înregistrare cunoscută.',
    change_created: 'creată', change_updated: 'actualizată', change_removed: 'ștearsă', fieldsChanged: f => `câmpuri: ${f}`,
    offer_status_0: 'inactivă', offer_status_1: 'activă', offer_status_2: 'sfârșit de viață', openOffer: 'Deschide istoricul',
    sku: 'SKU', currency: 'Monedă',
  },
};

const lang = { current: localStorage.getItem('marketsync.lang') === 'ro' ? 'ro' : 'en' };
const locale = () => (lang.current === 'ro' ? 'ro-RO' : 'en-GB');
const t = (key, ...args) => { const v = TEXT[lang.current][key] ?? TEXT.en[key]; return typeof v === 'function' ? v(...args) : v; };

const fmt = {
  num: n => (n === null || n === undefined || Number.isNaN(Number(n)) ? '–' : new Intl.NumberFormat(locale()).format(n)),
  money(value, currency) {
    if (value === null || value === undefined || value === '') return '–';
    const n = Number(value);
    try {
      // Up to four decimals: eMAG prices have them, and a mirror must not round them away.
      return new Intl.NumberFormat(locale(), { style: 'currency', currency: currency || 'RON', minimumFractionDigits: 2,
        maximumFractionDigits: 4 }).format(n);
    } catch (_) {  // a currency code Intl does not know
      return `${new Intl.NumberFormat(locale(), { minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(n)} ${currency}`;
    }
  },
  pct: r => new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 0 }).format(r || 0),
  time: s => (s ? new Date(s).toLocaleString(locale()) : '–'),
  shortTime: s => (s ? new Date(s).toLocaleString(locale(), { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }) : '–'),
  day: d => new Date(`${d}T00:00:00Z`).toLocaleDateString(locale(), { day: 'numeric', month: 'short', timeZone: 'UTC' }),
  // "3 minutes ago" / "acum 3 minute", measured from `now` (the view's time: the clock, or the as-of point).
  ago(s, now = Date.now()) {
    if (!s) return t('never');
    const secs = (new Date(s).getTime() - new Date(now).getTime()) / 1000;
    const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
    const abs = Math.abs(secs);
    if (abs < 60) return rtf.format(Math.round(secs), 'second');
    if (abs < 3600) return rtf.format(Math.round(secs / 60), 'minute');
    if (abs < 86400) return rtf.format(Math.round(secs / 3600), 'hour');
    return rtf.format(Math.round(secs / 86400), 'day');
  },
  secs(s) {
    if (s === null || s === undefined) return '–';
    s = Math.round(s);
    return s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.floor(s % 3600 / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
  },
};
