#pragma once

// What the engine holds of a run while it executes it.

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/id_hash_map.h"
#include "projections/run_record.h"

namespace marketsync {

// Flags the commands and the shutdown set for a run that a worker executes.
// Shared by the worker job and the command paths (either may outlive the other's look-up).
struct RunFlags {
  std::atomic<bool> cancel{false};
  std::atomic<bool> interrupt{false};
  std::atomic<bool> stop{false};  // cancel || interrupt: what the page stream watches
};

// A run reloaded from its stream: the record and the offers its pages held. This attempt also
// notes each offer's part number as its page comes in; a run resumed after some pages were
// committed reads them from the product rows at its end instead.
struct RunState {
  RunRecord record;
  IdHashMap<bool> seen;
  std::vector<std::pair<std::string, uint64_t>> part_numbers;  // (part number, offer id)
  bool part_numbers_complete = false;  // part_numbers holds every offer in `seen`
};

}  // namespace marketsync
