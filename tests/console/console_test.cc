// The web console end to end: marketsyncd --demo as a child process, headless Chromium over the
// DevTools protocol, clicks and reads like a user. A screenshot of the history tab is left in
// the build tree (tests/artifacts/history.png).

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <regex>

#include "tests/testutil/browser.h"
#include "tests/testutil/child_process.h"
#include "tests/testutil/temp_dir.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

// Helpers the tests evaluate in the page.
constexpr const char* kHelpers = R"JS(
window.__waitFor = async (fn, ms = 45000) => {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { const v = fn(); if (v) return v; } catch (e) { last = e; }
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error('timed out waiting for ' + fn.toString() + (last ? ' (' + last + ')' : ''));
};
window.__row = () => document.querySelector('#history-table tbody tr');
window.__cell = (row, cls) => row.querySelector('td.' + cls).textContent;
true
)JS";

class ConsoleTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--demo", "--data", dir_.Sub("data"), "--listen", "127.0.0.1:0"};
    for (auto& a : extra) args.push_back(std::move(a));
    server_ = std::make_unique<testing::ChildProcess>(MARKETSYNCD, args);
    const std::regex listening(R"(listening on (http://127\.0\.0\.1:\d+))");
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (url_.empty() && std::chrono::steady_clock::now() < deadline) {
      for (const auto& line : server_->ReadLines(std::chrono::steady_clock::now() + 200ms)) {
        std::smatch m;
        if (std::regex_search(line, m, listening)) url_ = m[1];
      }
    }
    ASSERT_FALSE(url_.empty()) << "marketsyncd did not start";
    browser_ = std::make_unique<testing::Browser>(dir_.Sub("profile"));
    Open();
  }
  void Open() {
    browser_->Go(url_ + "/");
    Eval(kHelpers);
    Eval("__waitFor(() => document.body.dataset.ready === '1')");
  }
  json::value Eval(const std::string& js) { return browser_->Eval(js); }
  std::string EvalString(const std::string& js) {
    json::value v = Eval(js);
    return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
  }
  void TearDown() override {
    browser_.reset();
    if (server_) {
      server_->Kill();
      server_->Wait();
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::ChildProcess> server_;
  std::unique_ptr<testing::Browser> browser_;
  std::string url_;
};

TEST_F(ConsoleTest, SyncMainTwiceAndTheButtonFollowsTheServer) {
  StartServer();
  // Click: the button turns disabled because the server says main is running, and progress shows.
  Eval("document.querySelector('#sync-main').click(); true");
  Eval("__waitFor(() => document.querySelector('#progress .progress'))");
  EXPECT_TRUE(Eval("document.querySelector('#sync-main').disabled").as_bool());
  EXPECT_TRUE(Eval("document.querySelector('#sync-both').disabled").as_bool());
  EXPECT_FALSE(Eval("document.querySelector('#sync-fbe').disabled").as_bool());
  EXPECT_NE(EvalString("document.querySelector('#progress .progress-text').textContent").find("page"), std::string::npos);
  // Still disabled after a reload, while the run is active (the state is the server's).
  Open();
  if (Eval("document.querySelector('#progress .progress') !== null").as_bool()) {
    EXPECT_TRUE(Eval("document.querySelector('#sync-main').disabled").as_bool());
  }
  // The run lands in the history with every offer created.
  Eval("__waitFor(() => __row() && __row().querySelector('.badge').classList.contains('st-completed'))");
  EXPECT_EQ(EvalString("__cell(__row(), 'created')"), "1275");
  // The buttons follow /status, which the console may have fetched just before the run ended
  // (it reloads status, then history, after each event): they come back with the refresh the
  // terminal event schedules.
  Eval("__waitFor(() => !document.querySelector('#sync-main').disabled)");
  EXPECT_FALSE(Eval("document.querySelector('#sync-main').disabled").as_bool());
  // Again: nothing changed upstream, so everything is unchanged.
  Eval("document.querySelector('#sync-main').click(); true");
  Eval("__waitFor(() => document.querySelectorAll('#history-table tbody tr').length === 2 && "
       "__row().querySelector('.badge').classList.contains('st-completed'))");
  EXPECT_EQ(EvalString("__cell(__row(), 'unchanged')"), "1275");
  EXPECT_EQ(EvalString("__cell(__row(), 'created')"), "0");
  // Romanian labels.
  Eval("document.querySelector('#lang').click(); true");
  EXPECT_EQ(EvalString("document.querySelector('#tab-history').textContent"), "Istoric Sincronizări");
  EXPECT_EQ(EvalString("document.querySelector('#sync-main').textContent"), "Sincronizare MAIN");
  EXPECT_EQ(EvalString("document.querySelector('#sync-both').textContent"), "Sincronizare AMBELE");
  Eval("document.querySelector('#lang').click(); true");

  const std::filesystem::path artifacts = std::filesystem::path(ARTIFACTS_DIR);
  std::filesystem::create_directories(artifacts);
  browser_->Screenshot((artifacts / "history.png").string());
  EXPECT_GT(std::filesystem::file_size(artifacts / "history.png"), 10'000u);

  // Keyboard: a history row takes focus and Enter opens its timeline.
  Eval("__row().focus(); true");
  browser_->Call("Input.dispatchKeyEvent", {{"type", "keyDown"}, {"key", "Enter"}, {"code", "Enter"},
                                            {"windowsVirtualKeyCode", 13}});
  browser_->Call("Input.dispatchKeyEvent", {{"type", "keyUp"}, {"key", "Enter"}, {"code", "Enter"},
                                            {"windowsVirtualKeyCode", 13}});
  Eval("__waitFor(() => document.querySelector('#timeline').open && document.querySelectorAll('#tl-events li').length > 3)");
  Eval("document.querySelector('#timeline').close(); true");

  // A phone: the page does not scroll sideways (wide tables scroll inside their box).
  browser_->Call("Emulation.setDeviceMetricsOverride",
                 {{"width", 390}, {"height", 844}, {"deviceScaleFactor", 2}, {"mobile", true}});
  Eval("new Promise(r => setTimeout(() => r(true), 300))");
  EXPECT_TRUE(Eval("document.documentElement.scrollWidth <= window.innerWidth").as_bool())
      << EvalString("document.documentElement.scrollWidth + ' > ' + window.innerWidth");
  browser_->Screenshot((artifacts / "history-phone.png").string());
}

TEST_F(ConsoleTest, CancelFromTheTimeline) {
  StartServer({"--demo-offers", "4000", "--demo-latency-ms", "400", "--page-window", "1"});
  Eval("document.querySelector('#sync-fbe').click(); true");
  Eval("__waitFor(() => __row() && __row().querySelector('.badge').classList.contains('st-running'))");
  Eval("__row().click(); true");
  Eval("__waitFor(() => document.querySelector('#timeline').open && !document.querySelector('#tl-cancel').hidden)");
  // Its events arrive live.
  Eval("__waitFor(() => [...document.querySelectorAll('#tl-events li')].some(li => li.textContent.includes('PageCommitted')))");
  Eval("document.querySelector('#tl-cancel').click(); true");
  Eval("__waitFor(() => document.querySelector('#tl-title .badge').classList.contains('st-cancelled'))");
  Eval("document.querySelector('#timeline').close(); true");
  Eval("__waitFor(() => __row().querySelector('.badge').classList.contains('st-cancelled'))");
  EXPECT_FALSE(Eval("document.querySelector('#sync-fbe').disabled").as_bool());
}

TEST_F(ConsoleTest, AsOfAnEarlierPointAndProductSearch) {
  StartServer();
  Eval("document.querySelector('#sync-main').click(); true");
  Eval("__waitFor(() => __row() && __row().querySelector('.badge').classList.contains('st-completed'))");
  const std::string head_after_first = EvalString("document.querySelector('#head').textContent");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(head_after_first, m, std::regex(R"(seq (\d+))")));
  const std::string first_seq = m[1];
  Eval("document.querySelector('#sync-fbe').click(); true");
  Eval("__waitFor(() => document.querySelectorAll('#history-table tbody tr').length === 2 && "
       "__row().querySelector('.badge').classList.contains('st-completed'))");
  // As of the end of the first run: one run, as it stood then.
  Eval("document.querySelector('#h-asof').value = '" + first_seq + "'; document.querySelector('#history-filters button[type=submit]').click(); true");
  Eval("__waitFor(() => !document.querySelector('#asof-banner').hidden && document.querySelectorAll('#history-table tbody tr').length === 1)");
  EXPECT_NE(EvalString("document.querySelector('#asof-banner').textContent").find(first_seq), std::string::npos);
  EXPECT_EQ(EvalString("__row().children[1].textContent"), "main");
  // As of seq 0: nothing yet.
  Eval("document.querySelector('#h-asof').value = '0'; document.querySelector('#history-filters button[type=submit]').click(); true");
  Eval("__waitFor(() => !document.querySelector('#history-empty').hidden)");
  Eval("document.querySelector('#h-now').click(); true");
  Eval("__waitFor(() => document.querySelectorAll('#history-table tbody tr').length === 2)");

  // Products: a known SKU of the demo catalogue.
  Eval("document.querySelector('#tab-products').click(); true");
  Eval("__waitFor(() => document.querySelectorAll('#products-table tbody tr').length === 50)");
  const std::string sku = EvalString("document.querySelector('#products-table tbody tr td.sku').textContent");
  ASSERT_FALSE(sku.empty());
  Eval("document.querySelector('#p-search').value = '" + sku + "'; document.querySelector('#product-filters button[type=submit]').click(); true");
  Eval("__waitFor(() => document.querySelectorAll('#products-table tbody tr').length >= 1 && "
       "[...document.querySelectorAll('#products-table tbody td.sku')].every(td => td.textContent.toLowerCase().includes('" + sku + "'.toLowerCase())))");
  EXPECT_NE(EvalString("document.querySelector('#p-page').textContent").find("of"), std::string::npos);
}

}  // namespace
}  // namespace marketsync
