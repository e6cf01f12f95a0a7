#pragma once

// --demo: the eMAG simulator embedded in the server process, with accounts main and fbe. Only
// demo.cc knows the simulator.

#include <memory>
#include <vector>

#include "base/status.h"
#include "engine/emag/client.h"

namespace marketsync::marketsyncd {

// A running demo simulator; stops when destroyed.
class Demo {
 public:
  // Starts the simulator on a free loopback port. Errors: kUnavailable (it did not start).
  static Result<std::unique_ptr<Demo>> Start(uint32_t offers, uint32_t latency_ms);
  virtual ~Demo() = default;
  // The demo accounts, pointed at the simulator.
  virtual std::vector<emag::Account> accounts() const = 0;
  virtual void Stop() = 0;

 protected:
  Demo() = default;
};

}  // namespace marketsync::marketsyncd
