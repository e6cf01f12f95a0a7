// The console's overview and an offer's page, end to end: the cards' numbers are the API's,
// the charts have a point per run, the overview as of an earlier seq shows the earlier numbers,
// an offer's page after a drift tick shows its changed price, both languages format numbers and
// times for people, and everything fits a 375 px phone. Screenshots of each view are left in
// build/tests/artifacts/.

#include <httplib.h>

#include "tests/console/console_fixture.h"

namespace marketsync {
namespace {

// The number a card shows, whatever the language's digit grouping ("1,275" or "1.275").
constexpr const char* kCardNumber = R"JS(
window.__cardNumber = (account, cls) => {
  const dd = document.querySelector(`.account-card[data-account="${account}"] dd.${cls}`);
  return dd ? Number(dd.textContent.replace(/[^0-9]/g, '')) : null;
};
// Points drawn on a chart: its non-empty values over every dataset.
window.__points = id => Chart.getChart(id).data.datasets.reduce((n, d) => n + d.data.filter(v => v !== null).length, 0);
window.__api = async path => (await fetch(path)).json();
true
)JS";

class OverviewTest : public ConsoleTest {
 protected:
  void Start() {
    StartServer({"--demo-offers", "1275"});
    Eval(kCardNumber);
  }
  // Clicks a sync button and waits until the run has ended and the overview shows it.
  void SyncAndWait(const std::string& button, int runs_after) {
    Eval("document.querySelector('#sync-" + button + "').click(); true");
    Eval("__waitFor(() => __points('chart-durations') === " + std::to_string(runs_after) +
         " && !document.querySelector('.account-card .in-flight.progress'))");
  }
  uint64_t HeadSeq() {
    return Eval("__api('/api/v1/audit/head').then(h => h.last_seq)").to_number<uint64_t>();
  }
  // Sets the demo simulator's fault script.
  void Faults(const std::string& script) {
    ASSERT_FALSE(sim_url_.empty()) << "the demo did not log its simulator's address";
    httplib::Client sim(sim_url_);
    auto r = sim.Put("/_sim/faults", script, "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  // Drifts the demo's catalogue of `account` (its simulator's control route).
  void Tick(const std::string& account) {
    ASSERT_FALSE(sim_url_.empty()) << "the demo did not log its simulator's address";
    httplib::Client sim(sim_url_);
    auto r = sim.Post(("/_sim/accounts/" + account + "/tick").c_str(), "", "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
};

TEST_F(OverviewTest, CardsAndChartsShowWhatTheApiSays) {
  Start();
  // Before any run: every account is there, never synced, and the page says what to do.
  Eval("__waitFor(() => document.querySelectorAll('.account-card').length === 2)");
  EXPECT_EQ(EvalString("document.querySelector('.account-card[data-account=main] .health').className"),
            "health health-never_synced");
  EXPECT_FALSE(Eval("document.querySelector('#o-empty').hidden").as_bool());
  Shot("overview-empty");

  SyncAndWait("both", 2);
  // The cards' numbers equal /statistics.
  const json::value stats = Eval("__api('/api/v1/emag/products/statistics')");
  for (const char* account : {"main", "fbe"}) {
    EXPECT_EQ(Eval(std::string("__cardNumber('") + account + "', 'offers')").to_number<int64_t>(),
              stats.at("products_by_account").at(account).to_number<int64_t>())
        << account;
  }
  EXPECT_EQ(EvalString("document.querySelector('.account-card[data-account=main] .health').className"),
            "health health-ok");
  EXPECT_EQ(EvalString("document.querySelector('.account-card[data-account=main] .success-rate').textContent"), "100%");
  EXPECT_TRUE(Eval("document.querySelector('#o-empty').hidden").as_bool());
  // A point per run of the window; today's bar counts both runs.
  const int64_t runs = Eval("__api('/api/v1/emag/products/history?limit=1000').then(r => r.data.count)").to_number<int64_t>();
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(Eval("__points('chart-durations')").to_number<int64_t>(), runs);
  EXPECT_EQ(Eval("Chart.getChart('chart-changes').data.labels.length").to_number<int64_t>(), runs);
  EXPECT_EQ(Eval("Chart.getChart('chart-days').data.labels.length").to_number<int64_t>(), 30);
  EXPECT_EQ(Eval("Chart.getChart('chart-days').data.datasets.reduce((n, d) => n + d.data.reduce((a, b) => a + b, 0), 0)")
                .to_number<int64_t>(),
            runs);
  const uint64_t after_first = HeadSeq();
  Shot("overview");

  // Another run of main: three points; as of the first sync's end, two again, and a banner.
  SyncAndWait("main", 3);
  Eval("document.querySelector('#o-asof').value = '" + std::to_string(after_first) +
       "'; document.querySelector('#overview-filters button[type=submit]').click(); true");
  Eval("__waitFor(() => !document.querySelector('#o-banner').hidden && __points('chart-durations') === 2)");
  EXPECT_NE(EvalString("document.querySelector('#o-banner').textContent").find(std::to_string(after_first)), std::string::npos);
  // As of seq 0, nothing had happened yet.
  Eval("document.querySelector('#o-asof').value = '0'; document.querySelector('#overview-filters button[type=submit]').click(); true");
  Eval("__waitFor(() => __points('chart-durations') === 0 && __cardNumber('main', 'offers') === 0)");
  // A mistyped point is explained next to the field, and nothing else changes.
  Eval("document.querySelector('#o-asof').value = 'yesterday'; document.querySelector('#overview-filters button[type=submit]').click(); true");
  Eval("__waitFor(() => !document.querySelector('#o-error').hidden)");
  EXPECT_NE(EvalString("document.querySelector('#o-error').textContent").find("seq"), std::string::npos);
  Eval("document.querySelector('#o-now').click(); true");
  Eval("__waitFor(() => document.querySelector('#o-banner').hidden && __points('chart-durations') === 3)");
  EXPECT_TRUE(Eval("document.querySelector('#o-error').hidden").as_bool());

  // eMAG refuses fbe's IP: its run fails, and its card says since when it is failing.
  Faults(R"({"rules":[{"account":"fbe","fault":"invalid_ip"}]})");
  SyncAndWait("fbe", 4);
  // The overview's reads are not one snapshot (see the closing note of issue 19): a refresh
  // during the failing run's last write can show its health before its day's count; the refresh
  // its terminal event schedules shows both.
  Eval("__waitFor(() => document.querySelector('.account-card[data-account=fbe] .health-failing') && "
       "Chart.getChart('chart-days').data.datasets[2].data.at(-1) === 1)");
  EXPECT_NE(EvalString("document.querySelector('.account-card[data-account=fbe] .health').textContent").find("failing since"),
            std::string::npos);
  EXPECT_EQ(EvalString("document.querySelector('.account-card[data-account=main] .health').className"), "health health-ok");
  EXPECT_EQ(Eval("Chart.getChart('chart-days').data.datasets[2].data.at(-1)").to_number<int64_t>(), 1);  // failed
  Eval("__waitFor(() => !document.querySelector('#sync-fbe').disabled)");  // /status caught up too
  Shot("overview-failing");
}

TEST_F(OverviewTest, BothLanguagesFormatNumbersAndTimesForPeople) {
  Start();
  SyncAndWait("main", 1);
  EXPECT_EQ(EvalString("document.querySelector('.account-card[data-account=main] dd.offers').textContent"), "1,275");
  const std::string ago_en = EvalString("document.querySelector('.account-card[data-account=main] dd.last-success').textContent");
  EXPECT_TRUE(ago_en == "now" || ago_en.find(" ago") != std::string::npos) << ago_en;  // "now", "5 seconds ago"
  Eval("document.querySelector('#lang').click(); true");
  Eval("__waitFor(() => document.querySelector('.account-card[data-account=main] dd.offers').textContent === '1.275')");
  EXPECT_EQ(EvalString("document.querySelector('#tab-overview').textContent"), "Prezentare generală");
  const std::string ago = EvalString("document.querySelector('.account-card[data-account=main] dd.last-success').textContent");
  EXPECT_NE(ago.find("acum"), std::string::npos) << ago;  // "acum", "acum 5 secunde"
  EXPECT_EQ(EvalString("document.querySelector('.account-card[data-account=main] .health').textContent"), "în regulă");
  EXPECT_EQ(EvalString("Chart.getChart('chart-days').data.datasets[0].label"), "finalizată");
  // No number anywhere in scientific notation.
  EXPECT_FALSE(Eval("/\\d[eE][+-]?\\d/.test(document.querySelector('main').innerText)").as_bool());
  Shot("overview-ro");
  // The icon the page asks for is there.
  EXPECT_EQ(EvalString("fetch('/favicon.ico').then(r => r.status + ' ' + r.headers.get('Content-Type'))"), "200 image/svg+xml");
  EXPECT_EQ(EvalString("document.querySelector('link[rel=icon]').getAttribute('href')"), "/favicon.svg");
}

TEST_F(OverviewTest, AnOffersPageShowsItsChangedPriceAfterADriftTick) {
  Start();
  SyncAndWait("main", 1);
  // Drift until one of the offers the tick updated changed its price, then sync it in.
  std::string offer;
  for (int tick = 0; tick < 10 && offer.empty(); ++tick) {
    Tick("main");
    SyncAndWait("main", tick + 2);
    // The products listing is newest change first: the updated offers lead it.
    offer = EvalString(R"JS((async () => {
      const p = await __api('/api/v1/emag/products/products?account_type=main&limit=100');
      for (const o of p.data.products.filter(o => o.sync_status === 'updated')) {
        const h = await __api(`/api/v1/emag/products/offers/main/${o.emag_id}/history`);
        if (h.data.changes.some(c => c.diff.some(d => d.field === 'price'))) return String(o.emag_id);
      }
      return '';
    })())JS");
  }
  ASSERT_FALSE(offer.empty()) << "no tick changed a price";

  // Open it from the products tab, as a user would.
  ShowTab("products");
  Eval("document.querySelector('#p-search').value = ''; true");
  Eval("__waitFor(() => document.querySelector('#products-table tbody tr[data-offer=\"main/" + offer + "\"]'))");
  Eval("document.querySelector('#products-table tbody tr[data-offer=\"main/" + offer + "\"]').click(); true");
  Eval("__waitFor(() => !document.querySelector('#offer-view').hidden && document.querySelector('#offer-changes .change-updated'))");
  const std::string diff = EvalString("document.querySelector('#offer-changes .change-updated .diff-price').textContent");
  EXPECT_NE(diff.find("→"), std::string::npos) << diff;
  EXPECT_NE(diff.find("RON"), std::string::npos) << diff;
  EXPECT_NE(EvalString("location.hash"), "");
  // The record: every field eMAG sent, images as thumbnails; the chart has a point per change.
  EXPECT_GT(Eval("document.querySelectorAll('#offer-fields [data-field]').length").to_number<int64_t>(), 20);
  EXPECT_EQ(Eval("document.querySelectorAll('#offer-images img').length").to_number<int64_t>(), 2);
  EXPECT_EQ(Eval("Chart.getChart('chart-offer').data.labels.length").to_number<int64_t>(),
            Eval("document.querySelectorAll('#offer-changes > li').length").to_number<int64_t>());
  Shot("offer");
  Viewport(375);
  EXPECT_TRUE(FitsTheWidth()) << EvalString("document.documentElement.scrollWidth + ' > ' + window.innerWidth");
  Shot("offer-phone");
  Viewport(0);

  // Back returns to the products tab; a reload of the offer's address opens it again.
  Eval("document.querySelector('#offer-back').click(); true");
  Eval("__waitFor(() => document.querySelector('#offer-view').hidden && !document.querySelector('#products').hidden)");
  browser_->Go(url_ + "/#offer/main/" + offer);
  Eval(kHelpers);
  Eval("__waitFor(() => document.body.dataset.ready === '1' && document.querySelector('#offer-changes .change-updated'))");
  // An offer the log never saw says so next to the page's title.
  Eval("location.hash = '#offer/main/1'; true");
  Eval("__waitFor(() => !document.querySelector('#offer-error').hidden)");
  EXPECT_NE(EvalString("document.querySelector('#offer-error').textContent").find("no offer 1"), std::string::npos);
}

TEST_F(OverviewTest, APhoneSeesTheOverviewWithoutScrollingSideways) {
  Start();
  SyncAndWait("both", 2);
  Viewport(375);
  EXPECT_TRUE(FitsTheWidth()) << EvalString("document.documentElement.scrollWidth + ' > ' + window.innerWidth");
  // The cards stack in one column.
  EXPECT_TRUE(Eval("(() => { const c = [...document.querySelectorAll('.account-card')];"
                   " return c.length === 2 && c[0].getBoundingClientRect().left === c[1].getBoundingClientRect().left; })()")
                  .as_bool());
  Shot("overview-phone");
  // Keyboard: arrow keys move between the tabs.
  Eval("document.querySelector('#tab-overview').focus(); true");
  browser_->Call("Input.dispatchKeyEvent", {{"type", "keyDown"}, {"key", "ArrowRight"}, {"code", "ArrowRight"},
                                            {"windowsVirtualKeyCode", 39}});
  Eval("__waitFor(() => !document.querySelector('#history').hidden && document.activeElement.id === 'tab-history')");
  EXPECT_TRUE(FitsTheWidth());
}

}  // namespace
}  // namespace marketsync
