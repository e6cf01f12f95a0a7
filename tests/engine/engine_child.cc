// The engine in a process of its own, for engine_crash_test.cc, which kills it with SIGKILL.
//
//   engine_child DB BASE_URL drive    start syncs of both accounts forever, printing
//                                      "started <run id>" once each start is durable
//   engine_child DB BASE_URL finish   recover, let every unfinished run end, run one last
//                                      clean sync of both accounts, print "done", exit 0
//   engine_child DB BASE_URL one      start one full sync of "main", print "started <run id>",
//                                      then "pages <n>" each time more of its pages are durable
//   engine_child DB BASE_URL recover  recover, let every unfinished run end, print "done", exit 0

#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>
#include <thread>

#include "tests/testutil/engine_fixture.h"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: engine_child DB BASE_URL drive|finish|one|recover\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  const std::string mode = argv[3];
  auto log = marketsync::testing::OpenEngineLog(argv[1]);
  if (!log.ok()) {
    std::fprintf(stderr, "engine_child: %s\n", log.status().ToString().c_str());
    return 1;
  }
  marketsync::EngineOptions options = marketsync::testing::EngineFor(std::string(argv[2]));
  auto engine = marketsync::SyncEngine::Create(**log, options);
  if (!engine.ok() || !(*engine)->Start().ok()) {
    std::fprintf(stderr, "engine_child: cannot start the engine\n");
    return 1;
  }
  marketsync::StartSyncRequest request;
  request.account_type = "both";
  request.include_inactive = true;
  request.triggered_by = "crash-test";
  auto wait_idle = [&] {
    // Every lease released: nothing left running.
    for (int i = 0; i < 6000; ++i) {
      auto it = (*log)->Scan("meta");
      bool busy = false;
      for ((*it)->Seek("lease/"); (*it)->Valid() && (*it)->key().starts_with("lease/"); (*it)->Next()) busy = true;
      if (!busy) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  };
  if (mode == "recover") {
    if (!wait_idle()) return 1;
    std::printf("done\n");
    std::fflush(stdout);
    return 0;
  }
  if (mode == "one") {
    request.account_type = "main";
    auto started = (*engine)->StartSync(request);
    if (!started.ok()) return 1;
    const std::string id = started->runs[0].run_id;
    std::printf("started %s\n", id.c_str());
    std::fflush(stdout);
    uint32_t printed = 0;
    while (true) {
      auto r = (*engine)->GetRun(id);  // the record folds each step once it is durable
      if (r.ok() && r->pages_processed > printed) {
        printed = r->pages_processed;
        std::printf("pages %u\n", printed);
        std::fflush(stdout);
      }
      std::this_thread::sleep_for(5ms);
    }
  }
  if (mode == "finish") {
    if (!wait_idle()) return 1;
    auto started = (*engine)->StartSync(request);
    if (!started.ok()) return 1;
    for (const auto& run : started->runs) {
      auto r = (*engine)->WaitForRun(run.run_id, 120s);
      if (!r.ok() || r->status != marketsync::kRunCompleted) {
        std::fprintf(stderr, "engine_child: final run %s ended %s\n", run.run_id.c_str(), r.ok() ? r->status.c_str() : "?");
        return 1;
      }
    }
    std::printf("done\n");
    std::fflush(stdout);
    return 0;
  }
  while (true) {
    auto started = (*engine)->StartSync(request);
    if (started.ok()) {
      for (const auto& run : started->runs) std::printf("started %s\n", run.run_id.c_str());
      std::fflush(stdout);
      for (const auto& run : started->runs) (*engine)->WaitForRun(run.run_id, 120s).status().IgnoreError();
    } else {
      std::this_thread::sleep_for(10ms);  // busy with a resumed run
    }
  }
}
