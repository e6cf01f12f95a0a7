#pragma once

// RunRecord: everything the log says about one sync run, folded from its `run-<id>` stream.
// The history projection stores these; the engine folds the same way to resume a run.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/envelope.h"
#include "base/status.h"
#include "schema/run_enums.h"
#include "schema/stream_ids.h"
#include "schema/sync_events.h"

namespace marketsync {

// Stable status names, as the API and the seed's page show them.
inline constexpr std::string_view kRunRunning = ToString(RunStatus::kRunning);
inline constexpr std::string_view kRunCompleted = ToString(RunStatus::kCompleted);
inline constexpr std::string_view kRunCompletedWithGaps = ToString(RunStatus::kCompletedWithGaps);
inline constexpr std::string_view kRunFailed = ToString(RunStatus::kFailed);
inline constexpr std::string_view kRunCancelled = ToString(RunStatus::kCancelled);
inline constexpr std::string_view kRunInterrupted = ToString(RunStatus::kInterrupted);

// Most errors a record keeps; errors_total counts them all.
inline constexpr size_t kMaxRunErrors = 20;

struct RunError {
  int64_t at_us = 0;
  uint32_t page = 0;  // 0: not about one page
  std::string message;
  template <class V> void Visit(V&& v) {
    v("at_us", at_us);
    v("page", page);
    v("message", message);
  }
};

struct RunRecord {
  std::string id;
  std::string group_id;
  std::string account_type;
  std::string operation;  // "full_sync" | "incremental_sync"
  std::string mode;
  std::string status;     // kRun*
  int64_t requested_at_us = 0;
  int64_t started_at_us = 0;    // first SyncStarted
  int64_t completed_at_us = 0;  // terminal event; 0 while not finished
  uint64_t total_items = 0;     // product_offer/count of the latest attempt
  uint64_t processed_items = 0; // distinct offers committed
  uint64_t created_items = 0;
  uint64_t updated_items = 0;
  uint64_t unchanged_items = 0;
  uint64_t removed_items = 0;
  uint64_t failed_items = 0;    // offers on pages that failed (estimated from the page size)
  uint64_t duplicate_items = 0; // offers seen again on a later page (shifted offsets)
  uint32_t pages_total = 0;
  uint32_t pages_processed = 0;
  std::vector<uint32_t> pages_failed;
  uint32_t last_page = 0;       // highest page committed or failed
  uint64_t api_requests_made = 0;
  uint64_t rate_limit_hits = 0;
  uint64_t retries = 0;
  uint32_t attempt = 0;
  std::vector<RunError> errors;
  uint64_t errors_total = 0;
  std::string triggered_by;
  SyncParams params;
  std::string idempotency_key;
  bool cancel_requested = false;
  std::string cancel_requested_by;
  std::string error_class;      // failed runs
  std::string error_message;
  std::string interrupted_reason;
  uint64_t total_items_at_end = 0;
  bool count_changed = false;
  std::vector<DuplicatePartNumber> duplicate_part_numbers;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  int64_t last_event_at_us = 0;

  bool terminal() const {
    const std::optional<RunStatus> s = ParseRunStatus(status);
    return s && IsTerminal(*s);
  }
  // Seconds from start (or request) to the terminal event, or to `now_us` while running.
  double DurationSeconds(int64_t now_us) const;

  template <class V> void Visit(V&& v) {
    v("id", id);
    v("group_id", group_id);
    v("account_type", account_type);
    v("operation", operation);
    v("mode", mode);
    v("status", status);
    v("requested_at_us", requested_at_us);
    v("started_at_us", started_at_us);
    v("completed_at_us", completed_at_us);
    v("total_items", total_items);
    v("processed_items", processed_items);
    v("created_items", created_items);
    v("updated_items", updated_items);
    v("unchanged_items", unchanged_items);
    v("removed_items", removed_items);
    v("failed_items", failed_items);
    v("duplicate_items", duplicate_items);
    v("pages_total", pages_total);
    v("pages_processed", pages_processed);
    v("pages_failed", pages_failed);
    v("last_page", last_page);
    v("api_requests_made", api_requests_made);
    v("rate_limit_hits", rate_limit_hits);
    v("retries", retries);
    v("attempt", attempt);
    v("errors", errors);
    v("errors_total", errors_total);
    v("triggered_by", triggered_by);
    v("sync_params", params);
    v("idempotency_key", idempotency_key);
    v("cancel_requested", cancel_requested);
    v("cancel_requested_by", cancel_requested_by);
    v("error_class", error_class);
    v("error_message", error_message);
    v("interrupted_reason", interrupted_reason);
    v("total_items_at_end", total_items_at_end);
    v("count_changed", count_changed);
    v("duplicate_part_numbers", duplicate_part_numbers);
    v("first_seq", first_seq);
    v("last_seq", last_seq);
    v("last_event_at_us", last_event_at_us);
  }
};

// Folds one event of the run's stream into the record. Events of other streams are ignored.
// Errors: kCorruption when a payload does not decode.
Status ApplyRunEvent(RunRecord& record, const Envelope& event);

// The status a terminal event ends a run with (completed, completed_with_gaps, failed,
// cancelled); empty for any other event type.
constexpr std::string_view TerminalStatusOf(EventType type) {
  switch (type) {
    case EventType::kSyncCompleted: return kRunCompleted;
    case EventType::kSyncCompletedWithGaps: return kRunCompletedWithGaps;
    case EventType::kSyncFailed: return kRunFailed;
    case EventType::kSyncCancelled: return kRunCancelled;
    default: return {};
  }
}

}  // namespace marketsync
