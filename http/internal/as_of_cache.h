#pragma once

// The reader a query runs on: the live log, or the projections folded "as of" a point (cached,
// as folds cost a scan of the log), and rendered history pages kept while the head stands.

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "events/event_log.h"
#include "projections/all.h"

namespace marketsync::http {

// Thread safety: every method is thread-safe.
class AsOfCache {
 public:
  explicit AsOfCache(const EventLog& log) : log_(log) {}

  struct View {
    std::shared_ptr<AsOfView> as_of;  // holds the fold the reader points into (as of)
    std::shared_ptr<LogSnapshot> live;  // holds the snapshot the reader points into (live)
    const KvReader* reader = nullptr;
    uint64_t seq = 0;      // the last event the view includes
    int64_t now_us = 0;    // "now" for the view: the clock live, the last event's time as of
  };
  // The live log through one snapshot (no limit: every row a query reads is of the same head)
  // or a fold of the named projections up to `limit`. The last 8 folds
  // of settled points are kept. Errors: the fold's.
  Result<View> ViewFor(const std::optional<FoldLimit>& limit, const std::vector<std::string_view>& projections);

  // Rendered history pages by request target, valid while the log head has not moved (a
  // listing changes only when an event is appended).
  std::optional<std::string> CachedHistory(const std::string& target, uint64_t head);
  void KeepHistory(const std::string& target, uint64_t head, const std::string& body);

 private:
  const EventLog& log_;
  std::mutex folds_mu_;  // guards folds_
  std::list<std::pair<std::string, std::shared_ptr<AsOfView>>> folds_;  // most recent first
  std::mutex history_mu_;  // guards history_
  std::unordered_map<std::string, std::pair<uint64_t, std::string>> history_;
};

}  // namespace marketsync::http
