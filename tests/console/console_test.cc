// The web console end to end: sync buttons that follow the server, the history with its
// timeline and as-of, cancelling from the timeline, product search. marketsyncd --demo as a
// child process, headless Chromium clicking and reading like a user.

#include "tests/console/console_fixture.h"

namespace marketsync {
namespace {

TEST_F(ConsoleTest, SyncMainTwiceAndTheButtonFollowsTheServer) {
  StartServer();
  ShowTab("history");
  // Click: the button turns disabled because the server says main is running, and progress shows.
  Eval("document.querySelector('#sync-main').click(); true");
  Eval("__waitFor(() => document.querySelector('#progress .progress'))");
  EXPECT_TRUE(Eval("document.querySelector('#sync-main').disabled").as_bool());
  EXPECT_TRUE(Eval("document.querySelector('#sync-both').disabled").as_bool());
  EXPECT_FALSE(Eval("document.querySelector('#sync-fbe').disabled").as_bool());
  EXPECT_NE(EvalString("document.querySelector('#progress .progress-text').textContent").find("page"), std::string::npos);
  // Still disabled after a reload, while the run is active (the state is the server's).
  Open();
  ShowTab("history");
  if (Eval("document.querySelector('#progress .progress') !== null").as_bool()) {
    EXPECT_TRUE(Eval("document.querySelector('#sync-main').disabled").as_bool());
  }
  // The run lands in the history with every offer created.
  Eval("__waitFor(() => __row() && __row().querySelector('.badge').classList.contains('st-completed'))");
  EXPECT_EQ(EvalString("__cell(__row(), 'created')"), "1,275");  // en-GB
  // The buttons follow /status, which the console may have fetched just before the run ended
  // (it reloads status, then history, after each event): they come back with the refresh the
  // terminal event schedules.
  Eval("__waitFor(() => !document.querySelector('#sync-main').disabled)");
  EXPECT_FALSE(Eval("document.querySelector('#sync-main').disabled").as_bool());
  // Again: nothing changed upstream, so everything is unchanged.
  Eval("document.querySelector('#sync-main').click(); true");
  Eval("__waitFor(() => document.querySelectorAll('#history-table tbody tr').length === 2 && "
       "__row().querySelector('.badge').classList.contains('st-completed'))");
  EXPECT_EQ(EvalString("__cell(__row(), 'unchanged')"), "1,275");
  EXPECT_EQ(EvalString("__cell(__row(), 'created')"), "0");
  // Romanian labels.
  Eval("document.querySelector('#lang').click(); true");
  EXPECT_EQ(EvalString("document.querySelector('#tab-history').textContent"), "Istoric Sincronizări");
  EXPECT_EQ(EvalString("document.querySelector('#sync-main').textContent"), "Sincronizare MAIN");
  EXPECT_EQ(EvalString("document.querySelector('#sync-both').textContent"), "Sincronizare AMBELE");
  Eval("__waitFor(() => __cell(__row(), 'unchanged') === '1.275')");  // ro-RO groups with a dot
  Eval("document.querySelector('#lang').click(); true");
  Eval("__waitFor(() => __cell(__row(), 'unchanged') === '1,275')");
  Shot("history");

  // Keyboard: a history row takes focus and Enter opens its timeline.
  Eval("__row().focus(); true");
  browser_->Call("Input.dispatchKeyEvent", {{"type", "keyDown"}, {"key", "Enter"}, {"code", "Enter"},
                                            {"windowsVirtualKeyCode", 13}});
  browser_->Call("Input.dispatchKeyEvent", {{"type", "keyUp"}, {"key", "Enter"}, {"code", "Enter"},
                                            {"windowsVirtualKeyCode", 13}});
  Eval("__waitFor(() => document.querySelector('#timeline').open && document.querySelectorAll('#tl-events li').length > 3)");
  Shot("timeline");
  Eval("document.querySelector('#timeline').close(); true");

  // A phone: the page does not scroll sideways (wide tables scroll inside their box).
  Viewport(375);
  EXPECT_TRUE(FitsTheWidth()) << EvalString("document.documentElement.scrollWidth + ' > ' + window.innerWidth");
  Shot("history-phone");
}

TEST_F(ConsoleTest, CancelFromTheTimeline) {
  StartServer({"--demo-offers", "4000", "--demo-latency-ms", "400", "--page-window", "1"});
  ShowTab("history");
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
  // The button follows /status, which the refresh may have read a moment before the run ended
  // (status, then history): the refresh the terminal event schedules brings it back.
  Eval("__waitFor(() => !document.querySelector('#sync-fbe').disabled)");
  EXPECT_FALSE(Eval("document.querySelector('#sync-fbe').disabled").as_bool());
}

TEST_F(ConsoleTest, AsOfAnEarlierPointAndProductSearch) {
  StartServer();
  ShowTab("history");
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
  ShowTab("products");
  Eval("__waitFor(() => document.querySelectorAll('#products-table tbody tr').length === 50)");
  const std::string sku = EvalString("document.querySelector('#products-table tbody tr td.sku').textContent");
  ASSERT_FALSE(sku.empty());
  Eval("document.querySelector('#p-search').value = '" + sku + "'; document.querySelector('#product-filters button[type=submit]').click(); true");
  Eval("__waitFor(() => document.querySelectorAll('#products-table tbody tr').length >= 1 && "
       "[...document.querySelectorAll('#products-table tbody td.sku')].every(td => td.textContent.toLowerCase().includes('" + sku + "'.toLowerCase())))");
  EXPECT_NE(EvalString("document.querySelector('#p-page').textContent").find("of"), std::string::npos);
  Shot("products");
}

}  // namespace
}  // namespace marketsync
