#pragma once

// The console's browser tests share this: marketsyncd --demo as a child process (its eMAG
// simulator's address read from its log), headless Chromium over the DevTools protocol, and
// helpers evaluated in the page. Screenshots go to build/tests/artifacts/.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <regex>

#include "tests/testutil/browser.h"
#include "tests/testutil/child_process.h"
#include "tests/testutil/temp_dir.h"

namespace marketsync {

using namespace std::chrono_literals;
namespace json = boost::json;

// Helpers the tests evaluate in the page.
inline constexpr const char* kHelpers = R"JS(
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
    const std::regex simulator(R"(simulator at (http://127\.0\.0\.1:\d+))");
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (url_.empty() && std::chrono::steady_clock::now() < deadline) {
      for (const auto& line : server_->ReadLines(std::chrono::steady_clock::now() + 200ms)) {
        std::smatch m;
        if (std::regex_search(line, m, listening)) url_ = m[1];
        if (std::regex_search(line, m, simulator)) sim_url_ = m[1];
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

  // Writes build/tests/artifacts/<name>.png and checks it holds a picture.
  void Shot(const std::string& name) {
    const std::filesystem::path artifacts(ARTIFACTS_DIR);
    std::filesystem::create_directories(artifacts);
    const std::filesystem::path file = artifacts / (name + ".png");
    browser_->Screenshot(file.string());
    EXPECT_GT(std::filesystem::file_size(file), 10'000u) << file;
  }
  // A phone's viewport (or back to the default desktop one with width 0).
  void Viewport(int width, int height = 844) {
    if (width == 0) {
      browser_->Call("Emulation.clearDeviceMetricsOverride");
    } else {
      browser_->Call("Emulation.setDeviceMetricsOverride",
                     {{"width", width}, {"height", height}, {"deviceScaleFactor", 2}, {"mobile", true}});
    }
    Eval("new Promise(r => setTimeout(() => r(true), 300))");
  }
  // Clicks a tab and waits until its panel shows.
  void ShowTab(const std::string& tab) {
    Eval("document.querySelector('#tab-" + tab + "').click(); true");
    Eval("__waitFor(() => !document.querySelector('#" + tab + "').hidden)");
  }
  bool FitsTheWidth() { return Eval("document.documentElement.scrollWidth <= window.innerWidth").as_bool(); }

  testing::TempDir dir_;
  std::unique_ptr<testing::ChildProcess> server_;
  std::unique_ptr<testing::Browser> browser_;
  std::string url_;
  std::string sim_url_;  // the demo's eMAG simulator (its /_sim control routes)
};

}  // namespace marketsync
