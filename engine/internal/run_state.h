#pragma once

// What the engine holds of a run while it executes it.

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/id_hash_map.h"
#include "projections/run_record.h"

namespace marketsync {

// Flags the commands and the shutdown set for a run that the engine executes.
// Shared by the run and the command paths (either may outlive the other's look-up).
struct RunFlags {
  std::atomic<bool> cancel{false};
  std::atomic<bool> interrupt{false};
  std::atomic<bool> stop{false};  // cancel || interrupt: what the page stream watches

  // Sets cancel (or interrupt) and stop, and wakes the run wherever it waits.
  void Stop(bool is_cancel) {
    (is_cancel ? cancel : interrupt) = true;
    stop = true;
    std::lock_guard lk(mu);
    if (on_stop) on_stop();
  }
  // What wakes the run (its page stream's Stop); runs at once if already stopped. Cleared with
  // nullptr; once that returns, the hook is not running and will not run.
  void SetStopHook(std::function<void()> hook) {
    std::lock_guard lk(mu);
    on_stop = std::move(hook);
    if (on_stop && stop) on_stop();
  }

 private:
  std::mutex mu;  // guards on_stop, and holds while it runs
  std::function<void()> on_stop;
};

// A run reloaded from its stream: the record and the offers its pages held. This attempt also
// notes each offer's part number as its page comes in; a run resumed after some pages were
// committed reads them from the product rows at its end instead.
struct RunState {
  RunRecord record;
  // The node executing the run: every step it appends expects owner/<run> to name it (empty:
  // no such check, for tests of the journal alone).
  std::string holder;
  // With a holder, every step also expects chain/<run> to be this count (nullopt: no row yet)
  // and sets it one higher, so the steps of a run land in the order they were prepared or not
  // at all: when one fails (a write the log refused), every step already queued behind it is
  // refused too, and no page is committed past a missing one. Prepare advances it.
  std::optional<uint64_t> chain;
  IdHashMap<bool> seen;
  std::vector<std::pair<std::string, uint64_t>> part_numbers;  // (part number, offer id)
  bool part_numbers_complete = false;  // part_numbers holds every offer in `seen`
};

}  // namespace marketsync
