// The simulator's fault script parser (PUT /_sim/faults), and matching a request against what
// it accepted.

#include "tests/fuzz/fuzz_target.h"
#include "tools/emag-sim/faults.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsync;
  sim::FaultScript script(42);
  if (script.Load(fuzz::AsText(data, size)).ok()) {
    (void)script.Match({"main", "read", 2, 3});
    (void)script.Match({"fbe", "count", 0, 1});
    (void)script.ToJson();
  }
  return 0;
}
