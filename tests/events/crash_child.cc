// Appends forever and prints the last seq of each step once Append has returned, one per line.
// Killed with SIGKILL by crash_test.cc.
//
//   crash_child DB_PATH SEED

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "events/event_log.h"
#include "tests/testutil/log_fixtures.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_child DB_PATH SEED\n");
    return 2;
  }
  marketsync::EventLogOptions options = marketsync::testing::TestLogOptions();
  options.projections.push_back(std::make_unique<marketsync::testing::CountingProjection>());
  auto log = marketsync::EventLog::Open(argv[1], std::move(options));
  if (!log.ok()) {
    std::fprintf(stderr, "crash_child: %s\n", log.status().ToString().c_str());
    return 1;
  }
  std::mt19937 rng(static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10)));
  for (uint64_t i = 0;; ++i) {
    const std::string stream = "run-" + std::to_string(rng() % 5);
    auto r = (*log)->Append(marketsync::testing::MakeStep(stream, 1 + rng() % 3, 50 + rng() % 400));
    if (!r.ok()) {
      std::fprintf(stderr, "crash_child: %s\n", r.status().ToString().c_str());
      return 1;
    }
    std::printf("%llu\n", static_cast<unsigned long long>(r->last_seq));
    std::fflush(stdout);
  }
}
