#pragma once

// One offer's history, read from its product stream: created, each update with what changed
// (old -> new for the fields people watch: price, stock, status, name), removed. Not a
// projection: the stream is the offer's history already, indexed by the log.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/event_log.h"
#include "events/projection_fold.h"
#include "schema/sync_events.h"

namespace marketsync {

// A watched field that changed, as the summaries of two consecutive events show it.
struct FieldChange {
  std::string field;  // "price" | "currency" | "stock" | "status" | "name" | "sku"
  std::string old_value;
  std::string new_value;
};

struct OfferChange {
  uint64_t seq = 0;
  int64_t recorded_at_us = 0;
  std::string run_id;
  std::string kind;                         // "created" | "updated" | "removed"
  std::vector<std::string> changed_fields;  // the offer's fields the event names (updates)
  std::vector<FieldChange> changes;         // watched fields, old -> new (updates, re-creations)
  OfferSummary summary;                     // the offer after the event (before it, for a removal)
};

struct OfferHistory {
  std::string account;
  uint64_t offer_id = 0;
  std::vector<OfferChange> changes;  // oldest first, each change of the stream up to the limit
  std::string raw_json;              // the offer as eMAG last sent it (kept after a removal)
  bool removed = false;              // the last change is a removal
};

// The changes of `account`'s offer `offer_id` up to `limit` (FoldLimit semantics: a seq and/or
// a time). Errors: kNotFound (no event of the offer up to the limit), kCorruption (a payload
// that does not decode, or an event of another offer in the stream), kIOError.
Result<OfferHistory> ReadOfferHistory(const EventLog& log, std::string_view account, uint64_t offer_id,
                                      const FoldLimit& limit);

// The watched fields that differ between two summaries, in a fixed order.
std::vector<FieldChange> DiffSummaries(const OfferSummary& before, const OfferSummary& after);

}  // namespace marketsync
