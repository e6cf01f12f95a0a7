#pragma once

// Every projection of the product, and "as of" folds of them. The server, the CLI and the tests
// register the same list, so a database always carries the same read models.

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "events/event_log.h"
#include "events/projection_fold.h"

namespace marketsync {

// history, status, catalog, stats: fresh instances, in that order.
std::vector<std::unique_ptr<Projection>> MakeAllProjections();
// The names MakeAllProjections registers, in order.
std::vector<std::string_view> AllProjectionNames();

// Projection rows as they stood at a point of the log, held in memory; query them with the
// same functions as the live log (they take a KvReader).
struct AsOfView {
  MemoryStore store;
  FoldResult fold;  // fold.last_seq: the last event the view includes
};

// Folds the log up to `limit` into fresh instances of the named projections (empty = all).
// Errors: kInvalidArgument (an unknown projection name), fold errors.
Result<std::unique_ptr<AsOfView>> FoldAsOf(const EventLog& log, const FoldLimit& limit,
                                           const std::vector<std::string_view>& names = {});

}  // namespace marketsync
