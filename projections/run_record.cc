#include "projections/run_record.h"

#include <algorithm>

#include "schema/payload_codec.h"

namespace marketsync {
namespace {

void AddError(RunRecord& r, int64_t at_us, uint32_t page, std::string message) {
  ++r.errors_total;
  if (r.errors.size() < kMaxRunErrors) r.errors.push_back({at_us, page, std::move(message)});
}

void ApplyTotals(RunRecord& r, const SyncTotals& t) {
  r.processed_items = t.processed;
  r.created_items = t.created;
  r.updated_items = t.updated;
  r.unchanged_items = t.unchanged;
  r.removed_items = t.removed;
  r.failed_items = t.failed;
  r.pages_processed = t.pages_processed;
  r.api_requests_made = t.requests;
  r.rate_limit_hits = t.rate_limit_hits;
  r.retries = t.retries;
}

// The fields SyncCompleted and SyncCompletedWithGaps share.
template <typename T>
void ApplyCompletion(RunRecord& r, const T& p, std::string_view status, int64_t at_us) {
  ApplyTotals(r, p.totals);
  r.total_items_at_end = p.total_items_at_end;
  r.count_changed = p.count_changed;
  r.duplicate_part_numbers = p.duplicate_part_numbers;
  r.status = status;
  r.completed_at_us = at_us;
}

template <Payload T>
Result<T> Decode(const Envelope& e) {
  auto r = DecodePayload<T>(e.payload_version, e.payload);
  if (!r.ok()) return r.status().WithContext("seq " + std::to_string(e.seq));
  return r;
}

// What each event of a run's stream does to its record.
void Fold(RunRecord& r, const SyncRequested& p, const Envelope& e) {
  r.id = p.run_id;
  r.group_id = p.group_id;
  r.account_type = p.account;
  r.mode = p.params.mode;
  r.operation = p.params.mode + "_sync";
  r.params = p.params;
  r.triggered_by = p.triggered_by;
  r.idempotency_key = p.idempotency_key;
  r.requested_at_us = e.recorded_at_us;
  r.status = kRunRunning;
}

void Fold(RunRecord& r, const SyncStarted& p, const Envelope& e) {
  r.attempt = p.attempt;
  if (!p.awaiting_count) {  // otherwise an earlier attempt's count stands until SyncCounted
    r.total_items = p.total_items;
    r.pages_total = p.total_pages;
  }
  if (r.started_at_us == 0) r.started_at_us = e.recorded_at_us;
  r.status = kRunRunning;
}

void Fold(RunRecord& r, const SyncCounted& p, const Envelope& /*e*/) {
  r.total_items = p.total_items;
  r.pages_total = p.total_pages;
  r.api_requests_made += p.requests;
  r.rate_limit_hits += p.rate_limit_hits;
  r.retries += p.retries;
}

void Fold(RunRecord& r, const PageCommitted& p, const Envelope& /*e*/) {
  r.processed_items += p.items - std::min(p.items, p.duplicates);
  r.created_items += p.created;
  r.updated_items += p.updated;
  r.unchanged_items += p.unchanged;
  r.duplicate_items += p.duplicates;
  ++r.pages_processed;
  r.last_page = std::max(r.last_page, p.page);
  r.api_requests_made += p.requests;
  r.rate_limit_hits += p.rate_limit_hits;
  r.retries += p.retries;
}

void Fold(RunRecord& r, const PageFailed& p, const Envelope& e) {
  if (std::find(r.pages_failed.begin(), r.pages_failed.end(), p.page) == r.pages_failed.end()) {
    r.pages_failed.push_back(p.page);
  }
  const uint64_t per_page = r.params.items_per_page == 0 ? 100 : r.params.items_per_page;
  const uint64_t before = static_cast<uint64_t>(p.page - 1) * per_page;
  r.failed_items += r.total_items > before ? std::min(per_page, r.total_items - before) : 0;
  r.last_page = std::max(r.last_page, p.page);
  r.api_requests_made += p.requests;
  r.rate_limit_hits += p.rate_limit_hits;
  r.retries += p.retries;
  AddError(r, e.recorded_at_us, p.page, p.message);
}

void Fold(RunRecord& r, const SyncCancelRequested& p, const Envelope& /*e*/) {
  r.cancel_requested = true;
  r.cancel_requested_by = p.requested_by;
}

void Fold(RunRecord& r, const SyncCancelled& p, const Envelope& e) {
  ApplyTotals(r, p.totals);
  r.status = kRunCancelled;
  r.completed_at_us = e.recorded_at_us;
}

void Fold(RunRecord& r, const SyncInterrupted& p, const Envelope& /*e*/) {
  r.status = kRunInterrupted;
  r.interrupted_reason = p.reason;
}

void Fold(RunRecord& r, const SyncResumed& p, const Envelope& /*e*/) {
  r.attempt = p.attempt;
  r.status = kRunRunning;
}

void Fold(RunRecord& r, const SyncCompleted& p, const Envelope& e) {
  ApplyCompletion(r, p, kRunCompleted, e.recorded_at_us);
}

void Fold(RunRecord& r, const SyncCompletedWithGaps& p, const Envelope& e) {
  ApplyCompletion(r, p, kRunCompletedWithGaps, e.recorded_at_us);
  r.pages_failed = p.missing_pages;
}

void Fold(RunRecord& r, const SyncFailed& p, const Envelope& e) {
  ApplyTotals(r, p.totals);
  r.error_class = p.error_class;
  r.error_message = p.message;
  AddError(r, e.recorded_at_us, 0, p.message);
  r.status = kRunFailed;
  r.completed_at_us = e.recorded_at_us;
}

template <typename T>
Status FoldAs(RunRecord& r, const Envelope& e) {
  MS_ASSIGN_OR_RETURN(T p, Decode<T>(e));
  Fold(r, p, e);
  return Status::Ok();
}

}  // namespace

double RunRecord::DurationSeconds(int64_t now_us) const {
  const int64_t from = started_at_us != 0 ? started_at_us : requested_at_us;
  const int64_t to = completed_at_us != 0 ? completed_at_us : now_us;
  return from == 0 || to < from ? 0.0 : static_cast<double>(to - from) / 1e6;
}

Status ApplyRunEvent(RunRecord& r, const Envelope& e) {
  if (!IsRunStream(e.stream_id)) return Status::Ok();
  if (r.first_seq == 0) r.first_seq = e.seq;
  r.last_seq = e.seq;
  r.last_event_at_us = e.recorded_at_us;
  switch (static_cast<EventType>(e.type)) {
    case EventType::kSyncRequested: return FoldAs<SyncRequested>(r, e);
    case EventType::kSyncStarted: return FoldAs<SyncStarted>(r, e);
    case EventType::kSyncCounted: return FoldAs<SyncCounted>(r, e);
    case EventType::kPageCommitted: return FoldAs<PageCommitted>(r, e);
    case EventType::kPageFailed: return FoldAs<PageFailed>(r, e);
    case EventType::kSyncCancelRequested: return FoldAs<SyncCancelRequested>(r, e);
    case EventType::kSyncCancelled: return FoldAs<SyncCancelled>(r, e);
    case EventType::kSyncInterrupted: return FoldAs<SyncInterrupted>(r, e);
    case EventType::kSyncResumed: return FoldAs<SyncResumed>(r, e);
    case EventType::kSyncCompleted: return FoldAs<SyncCompleted>(r, e);
    case EventType::kSyncCompletedWithGaps: return FoldAs<SyncCompletedWithGaps>(r, e);
    case EventType::kSyncFailed: return FoldAs<SyncFailed>(r, e);
    case EventType::kProductCreated:
    case EventType::kProductUpdated:
    case EventType::kProductRemoved:
    case EventType::kAccountAdded:
    case EventType::kAccountChanged:
    case EventType::kAccountRemoved:
      break;
  }
  return Status::Ok();
}

}  // namespace marketsync
