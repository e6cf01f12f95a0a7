#pragma once

// Payloads of the sync events (DESIGN.md §4). Each lists its fields once in Visit; see
// payload_codec.h for how that list is encoded and rendered. Field order is stored order:
// append new fields at the end under a new kVersion, never reorder.

#include <cstdint>
#include <string>
#include <vector>

#include "schema/event_type.h"

namespace marketsync {

// The parameters a run was requested with.
struct SyncParams {
  std::string mode;               // "full" | "incremental"
  uint32_t max_pages = 0;         // 0 = no limit
  uint32_t items_per_page = 100;  // 1..100
  bool include_inactive = false;
  std::string conflict_strategy;  // "emag_priority"
  template <class V> void Visit(V&& v) {
    v("mode", mode);
    v("max_pages", max_pages);
    v("items_per_page", items_per_page);
    v("include_inactive", include_inactive);
    v("conflict_strategy", conflict_strategy);
  }
};

// What a run did so far, carried by its terminal event.
struct SyncTotals {
  uint64_t processed = 0;
  uint64_t created = 0;
  uint64_t updated = 0;
  uint64_t unchanged = 0;
  uint64_t removed = 0;
  uint64_t failed = 0;
  uint32_t pages_processed = 0;
  uint32_t pages_failed = 0;
  uint64_t requests = 0;
  uint64_t rate_limit_hits = 0;
  uint64_t retries = 0;
  template <class V> void Visit(V&& v) {
    v("processed", processed);
    v("created", created);
    v("updated", updated);
    v("unchanged", unchanged);
    v("removed", removed);
    v("failed", failed);
    v("pages_processed", pages_processed);
    v("pages_failed", pages_failed);
    v("requests", requests);
    v("rate_limit_hits", rate_limit_hits);
    v("retries", retries);
  }
};

// One part_number held by several offers of one account.
struct DuplicatePartNumber {
  std::string part_number;
  std::vector<uint64_t> offer_ids;
  template <class V> void Visit(V&& v) {
    v("part_number", part_number);
    v("offer_ids", offer_ids);
  }
};

struct SyncRequested {
  static constexpr EventType kType = EventType::kSyncRequested;
  static constexpr uint16_t kVersion = 1;
  std::string run_id;
  std::string group_id;
  std::string account;
  SyncParams params;
  std::string triggered_by;
  std::string idempotency_key;  // empty when none was given
  template <class V> void Visit(V&& v) {
    v("run_id", run_id);
    v("group_id", group_id);
    v("account", account);
    v("params", params);
    v("triggered_by", triggered_by);
    v("idempotency_key", idempotency_key);
  }
};

// An attempt begins. Since v2 it is written before product_offer/count answers (awaiting_count,
// totals 0) and SyncCounted brings the totals; v1 events carried them (awaiting_count false).
struct SyncStarted {
  static constexpr EventType kType = EventType::kSyncStarted;
  static constexpr uint16_t kVersion = 2;
  static constexpr size_t kFieldsByVersion[] = {4, 5};  // v2 added awaiting_count
  uint32_t attempt = 1;
  uint64_t total_items = 0;  // from product_offer/count, unless awaiting_count
  uint32_t total_pages = 0;
  uint32_t items_per_page = 0;
  bool awaiting_count = false;  // v2: the totals come in SyncCounted (v1 events: false)
  template <class V> void Visit(V&& v) {
    v("attempt", attempt);
    v("total_items", total_items);
    v("total_pages", total_pages);
    v("items_per_page", items_per_page);
    v("awaiting_count", awaiting_count);
  }
};

// product_offer/count answered for this attempt (its pages may already be committing).
struct SyncCounted {
  static constexpr EventType kType = EventType::kSyncCounted;
  static constexpr uint16_t kVersion = 1;
  uint64_t total_items = 0;
  uint32_t total_pages = 0;
  uint32_t requests = 0;  // what the count cost, retries included
  uint32_t rate_limit_hits = 0;
  uint32_t retries = 0;
  template <class V> void Visit(V&& v) {
    v("total_items", total_items);
    v("total_pages", total_pages);
    v("requests", requests);
    v("rate_limit_hits", rate_limit_hits);
    v("retries", retries);
  }
};

struct PageCommitted {
  static constexpr EventType kType = EventType::kPageCommitted;
  static constexpr uint16_t kVersion = 1;
  uint32_t page = 0;
  uint32_t items = 0;
  uint64_t bytes = 0;
  uint32_t created = 0;
  uint32_t updated = 0;
  uint32_t unchanged = 0;
  uint32_t duplicates = 0;  // offers already seen earlier in this run (shifted offsets)
  uint32_t requests = 0;
  uint32_t rate_limit_hits = 0;
  uint32_t retries = 0;
  uint64_t latency_us = 0;
  std::vector<uint64_t> offer_ids;  // the offers this page held, in order (duplicates included)
  template <class V> void Visit(V&& v) {
    v("page", page);
    v("items", items);
    v("bytes", bytes);
    v("created", created);
    v("updated", updated);
    v("unchanged", unchanged);
    v("duplicates", duplicates);
    v("requests", requests);
    v("rate_limit_hits", rate_limit_hits);
    v("retries", retries);
    v("latency_us", latency_us);
    v("offer_ids", offer_ids);
  }
};

struct PageFailed {
  static constexpr EventType kType = EventType::kPageFailed;
  static constexpr uint16_t kVersion = 1;
  uint32_t page = 0;
  std::string error_class;  // "retryable" | "fatal"
  std::string message;
  uint32_t requests = 0;
  uint32_t rate_limit_hits = 0;
  uint32_t retries = 0;
  template <class V> void Visit(V&& v) {
    v("page", page);
    v("error_class", error_class);
    v("message", message);
    v("requests", requests);
    v("rate_limit_hits", rate_limit_hits);
    v("retries", retries);
  }
};

// What the catalog shows of an offer, taken from the parsed offer when the event is written,
// so read models need not parse raw_json (payload version 2 of the product events).
struct OfferSummary {
  std::string part_number;  // the seller's SKU
  std::string name;
  std::string sale_price;   // decimal as eMAG sent it ("42.0168"); empty when absent
  std::string currency;
  int64_t stock = 0;        // general_stock, or the sum over warehouses when that is 0
  int64_t status = 0;       // 0 inactive, 1 active, 2 end of life
  template <class V> void Visit(V&& v) {
    v("part_number", part_number);
    v("name", name);
    v("sale_price", sale_price);
    v("currency", currency);
    v("stock", stock);
    v("status", status);
  }
};

struct ProductCreated {
  static constexpr EventType kType = EventType::kProductCreated;
  static constexpr uint16_t kVersion = 2;
  static constexpr size_t kFieldsByVersion[] = {5, 6};  // v2 added summary
  std::string account;
  uint64_t offer_id = 0;
  std::string run_id;
  std::string content_hash;  // hex SHA-256 of the offer's canonical form
  std::string raw_json;      // the offer exactly as eMAG sent it
  OfferSummary summary;      // v2; empty in v1 events
  template <class V> void Visit(V&& v) {
    v("account", account);
    v("offer_id", offer_id);
    v("run_id", run_id);
    v("content_hash", content_hash);
    v("raw_json", raw_json);
    v("summary", summary);
  }
};

struct ProductUpdated {
  static constexpr EventType kType = EventType::kProductUpdated;
  static constexpr uint16_t kVersion = 2;
  static constexpr size_t kFieldsByVersion[] = {6, 7};  // v2 added summary
  std::string account;
  uint64_t offer_id = 0;
  std::string run_id;
  std::string content_hash;
  std::vector<std::string> changed_fields;
  std::string raw_json;
  OfferSummary summary;  // v2; empty in v1 events
  template <class V> void Visit(V&& v) {
    v("account", account);
    v("offer_id", offer_id);
    v("run_id", run_id);
    v("content_hash", content_hash);
    v("changed_fields", changed_fields);
    v("raw_json", raw_json);
    v("summary", summary);
  }
};

struct ProductRemoved {
  static constexpr EventType kType = EventType::kProductRemoved;
  static constexpr uint16_t kVersion = 1;
  std::string account;
  uint64_t offer_id = 0;
  std::string run_id;
  template <class V> void Visit(V&& v) {
    v("account", account);
    v("offer_id", offer_id);
    v("run_id", run_id);
  }
};

struct SyncCancelRequested {
  static constexpr EventType kType = EventType::kSyncCancelRequested;
  static constexpr uint16_t kVersion = 1;
  std::string requested_by;
  template <class V> void Visit(V&& v) { v("requested_by", requested_by); }
};

struct SyncCancelled {
  static constexpr EventType kType = EventType::kSyncCancelled;
  static constexpr uint16_t kVersion = 1;
  uint32_t page_reached = 0;
  uint64_t items_committed = 0;
  SyncTotals totals;
  template <class V> void Visit(V&& v) {
    v("page_reached", page_reached);
    v("items_committed", items_committed);
    v("totals", totals);
  }
};

struct SyncInterrupted {
  static constexpr EventType kType = EventType::kSyncInterrupted;
  static constexpr uint16_t kVersion = 1;
  uint32_t last_committed_page = 0;
  std::string reason;  // "shutdown" | "found unfinished at start-up" | "its node (…) stopped beating"
  template <class V> void Visit(V&& v) {
    v("last_committed_page", last_committed_page);
    v("reason", reason);
  }
};

struct SyncResumed {
  static constexpr EventType kType = EventType::kSyncResumed;
  static constexpr uint16_t kVersion = 1;
  uint32_t attempt = 0;
  uint32_t from_page = 0;
  template <class V> void Visit(V&& v) {
    v("attempt", attempt);
    v("from_page", from_page);
  }
};

struct SyncCompleted {
  static constexpr EventType kType = EventType::kSyncCompleted;
  static constexpr uint16_t kVersion = 1;
  SyncTotals totals;
  uint64_t total_items_at_end = 0;  // product_offer/count when the run ended
  bool count_changed = false;
  std::vector<DuplicatePartNumber> duplicate_part_numbers;
  template <class V> void Visit(V&& v) {
    v("totals", totals);
    v("total_items_at_end", total_items_at_end);
    v("count_changed", count_changed);
    v("duplicate_part_numbers", duplicate_part_numbers);
  }
};

struct SyncCompletedWithGaps {
  static constexpr EventType kType = EventType::kSyncCompletedWithGaps;
  static constexpr uint16_t kVersion = 1;
  SyncTotals totals;
  std::vector<uint32_t> missing_pages;
  uint64_t total_items_at_end = 0;
  bool count_changed = false;
  std::vector<DuplicatePartNumber> duplicate_part_numbers;
  template <class V> void Visit(V&& v) {
    v("totals", totals);
    v("missing_pages", missing_pages);
    v("total_items_at_end", total_items_at_end);
    v("count_changed", count_changed);
    v("duplicate_part_numbers", duplicate_part_numbers);
  }
};

struct SyncFailed {
  static constexpr EventType kType = EventType::kSyncFailed;
  static constexpr uint16_t kVersion = 1;
  SyncTotals totals;
  std::string error_class;
  std::string message;
  template <class V> void Visit(V&& v) {
    v("totals", totals);
    v("error_class", error_class);
    v("message", message);
  }
};

}  // namespace marketsync
