#pragma once

// Folding the log into projections held in memory, and comparing projection contents. One fold
// serves three users: rebuild (fold, then write the rows out), verify (fold into scratch space
// and compare digests with the live rows) and "as of" (fold up to a point, then query the
// memory as if it were the live log).

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event_log.h"
#include "events/projection.h"

namespace marketsync {

// Projection rows in memory: a hash map per column family for the fold (point reads and
// writes are what projections do), and a sorted view built on the first scan after a write.
// A ProjectionStore to fold into and a KvReader to query.
// Thread safety: writes from one thread; once writes stop, any number of threads may read
// (each family's sorted view is built under that family's lock, so families sort in parallel).
class MemoryStore final : public ProjectionStore, public KvReader {
 public:
  using Row = std::pair<const std::string, std::string>;
  // Looks keys up by string_view, with no std::string made per lookup.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Family {
    std::unordered_map<std::string, std::string, Hash, std::equal_to<>> rows;
    std::vector<const Row*> sorted;  // valid when !dirty
    bool dirty = false;
    std::mutex sort_mu;  // guards sorted and dirty while readers build the view
  };

  // Declares a column family (empty). Reads of undeclared families fail like the log's do.
  void AddFamily(std::string_view cf);

  Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key) override;
  Status Put(std::string_view cf, std::string_view key, std::string_view value) override;
  Status Delete(std::string_view cf, std::string_view key) override;

  Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key) const override;
  Result<std::unique_ptr<KvIterator>> Scan(std::string_view cf) const override;

  // The rows of a family in key order (empty for an undeclared one). Valid until the next write.
  const std::vector<const Row*>& SortedRows(std::string_view cf) const;
  // Rows in every family.
  size_t size() const;

 private:
  Result<Family*> Find(std::string_view cf);
  const Family* FindConst(std::string_view cf) const;
  void Sort(const Family& f) const;

  std::map<std::string, Family, std::less<>> families_;
};

// Where a fold stops: after `to_seq` (nullopt = the head; 0 = before the first event) and before
// the first event recorded after `to_time_us` (nullopt = no time limit), whichever comes first.
struct FoldLimit {
  std::optional<uint64_t> to_seq;
  std::optional<int64_t> to_time_us;
};

struct FoldResult {
  uint64_t last_seq = 0;          // the last event folded (0: none)
  int64_t last_recorded_at_us = 0;
  uint64_t events = 0;
};

// Called now and then during a fold with the last seq folded.
using FoldProgress = std::function<void(uint64_t seq)>;

// Folds the log's events 1..limit into `projections`, writing to `store` (which gets each
// projection's families declared). Errors: kCorruption (an event that does not decode), or
// the first projection error, named with its seq.
Result<FoldResult> FoldLog(const EventLog& log, const std::vector<Projection*>& projections,
                           MemoryStore& store, const FoldLimit& limit = {},
                           const FoldProgress& progress = {});

// A canonical digest of the rows of `families` (SHA-256 over each family's name, then every
// key and value in key order, each length-prefixed), as 64 hex digits.
Result<std::string> DigestFamilies(const KvReader& reader, const std::vector<std::string>& families);

// The first row where two readers differ across `families`, in family then key order.
struct RowDifference {
  std::string family;
  std::string key;  // raw bytes
  std::string what; // "missing in live", "missing in rebuilt", "values differ"
};
Result<std::optional<RowDifference>> FirstDifference(const KvReader& live, const KvReader& rebuilt,
                                                     const std::vector<std::string>& families);

// Printable form of a raw key: printable ASCII kept, other bytes as \xNN.
std::string PrintableKey(std::string_view key);

}  // namespace marketsync
