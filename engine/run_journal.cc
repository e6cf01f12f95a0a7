#include "engine/internal/run_journal.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "base/clock.h"
#include "schema/payload_codec.h"
#include "schema/store_keys.h"
#include "schema/stream_ids.h"

namespace marketsync {

Result<RunState> RunJournal::Load(const std::string& run_id, bool with_seen) const {
  if (run_id.empty() || run_id.size() > 64) return Status::NotFound("no run " + run_id);
  // The chain before the events: a step landing in between makes this attempt's first step
  // refused (the run stops and is resumed again), never a page committed twice.
  MS_ASSIGN_OR_RETURN(std::optional<std::string> chain, log_.Get(EventLog::kMetaFamily, ChainKey(run_id)));
  MS_ASSIGN_OR_RETURN(std::vector<Envelope> events, log_.ReadStream(RunStreamId(run_id)));
  if (events.empty()) return Status::NotFound("no run " + run_id);
  RunState state;
  if (chain) {
    uint64_t n = 0;
    const auto [p, ec] = std::from_chars(chain->data(), chain->data() + chain->size(), n);
    if (ec != std::errc() || p != chain->data() + chain->size()) {
      return Status::Corruption("run " + run_id + ": its chain row is not a count");
    }
    state.chain = n;
  }
  for (const auto& e : events) {
    MS_RETURN_IF_ERROR(ApplyRunEvent(state.record, e));
    if (with_seen && e.type == static_cast<uint16_t>(EventType::kPageCommitted)) {
      MS_ASSIGN_OR_RETURN(PageCommitted p, DecodePayload<PageCommitted>(e.payload_version, e.payload));
      for (uint64_t id : p.offer_ids) state.seen.Insert(id, true);
    }
  }
  return state;
}

Status RunJournal::Append(RunState& state, std::vector<NewEvent> run_events, Step step) {
  std::vector<RunStep> one;
  one.push_back({std::move(run_events), std::move(step)});
  return AppendAll(state, std::move(one));
}

Status RunJournal::AppendAll(RunState& state, std::vector<RunStep> items) {
  Prepared prepared = Prepare(state, std::move(items));
  std::vector<Result<AppendResult>> results = log_.AppendAll(std::move(prepared.steps));
  return Fold(state, prepared, std::move(results));
}

RunJournal::Prepared RunJournal::Prepare(RunState& state, std::vector<RunStep> items) {
  const std::string stream = RunStreamId(state.record.id);
  Prepared out;
  out.run_events.reserve(items.size());
  out.steps.reserve(items.size());
  out.product_changes.reserve(items.size());
  for (auto& item : items) {
    out.run_events.push_back(item.run_events);
    out.product_changes.push_back(RawHashIndex::ChangesOf(item.step));
    item.step.correlation_id = stream;
    if (!state.holder.empty()) {  // fencing: refused once another node took the run over
      const std::string meta(EventLog::kMetaFamily);
      item.step.expect.push_back({meta, OwnerKey(state.record.id), state.holder});
      // The chain (RunState::chain), moved on unless the step drops it (ReleaseStep).
      const std::string chain_key = ChainKey(state.record.id);
      item.step.expect.push_back({meta, chain_key,
                                  state.chain ? std::optional<std::string>(std::to_string(*state.chain)) : std::nullopt});
      state.chain = state.chain.value_or(0) + 1;
      const bool drops = std::any_of(item.step.writes.begin(), item.step.writes.end(),
                                     [&](const auto& w) { return w.column_family == meta && w.key == chain_key; });
      if (!drops) item.step.writes.push_back({meta, chain_key, std::to_string(*state.chain)});
    }
    item.step.streams.insert(item.step.streams.begin(), StreamAppend{stream, kAnyVersion, std::move(item.run_events)});
    out.steps.push_back(std::move(item.step));
  }
  return out;
}

Status RunJournal::Fold(RunState& state, Prepared& prepared, std::vector<Result<AppendResult>> results) {
  const std::string stream = RunStreamId(state.record.id);
  for (size_t i = 0; i < results.size() && i < prepared.run_events.size(); ++i) {
    MS_RETURN_IF_ERROR(results[i].status());
    raw_hashes_.Apply(prepared.product_changes[i]);
    uint64_t seq = results[i]->first_seq;
    for (auto& ne : prepared.run_events[i]) {
      Envelope e;
      e.seq = seq++;
      e.stream_id = stream;
      e.type = ne.type;
      e.payload_version = ne.payload_version;
      e.payload = std::move(ne.payload);
      e.recorded_at_us = NowUs();
      MS_RETURN_IF_ERROR(ApplyRunEvent(state.record, e));
    }
  }
  return Status::Ok();
}

SyncTotals RunJournal::Totals(const RunRecord& r, uint64_t extra_requests, uint64_t removed) {
  SyncTotals t;
  t.processed = r.processed_items;
  t.created = r.created_items;
  t.updated = r.updated_items;
  t.unchanged = r.unchanged_items;
  t.removed = removed;
  t.failed = r.failed_items;
  t.pages_processed = r.pages_processed;
  t.pages_failed = static_cast<uint32_t>(r.pages_failed.size());
  t.requests = r.api_requests_made + extra_requests;
  t.rate_limit_hits = r.rate_limit_hits;
  t.retries = r.retries;
  return t;
}

Step RunJournal::ReleaseStep(const RunRecord& r) {
  Step step;
  step.expect.push_back({std::string(EventLog::kMetaFamily), LeaseKey(r.account_type), r.id});
  step.writes.push_back({std::string(EventLog::kMetaFamily), LeaseKey(r.account_type), std::nullopt});
  step.writes.push_back({std::string(EventLog::kMetaFamily), OwnerKey(r.id), std::nullopt});
  step.writes.push_back({std::string(EventLog::kMetaFamily), ChainKey(r.id), std::nullopt});
  return step;
}

RunStep RunJournal::CancelledStep(const RunState& st, uint64_t extra_requests) {
  SyncCancelled ev;
  ev.page_reached = st.record.last_page;
  ev.items_committed = st.record.processed_items;
  ev.totals = Totals(st.record, extra_requests, 0);
  spdlog::info("run {} cancelled at page {}", st.record.id, ev.page_reached);
  return {{MakeEvent(ev)}, ReleaseStep(st.record)};
}

RunStep RunJournal::FailedStep(const RunState& st, uint64_t extra_requests, ErrorClass error_class,
                               std::string message) {
  SyncFailed ev;
  ev.totals = Totals(st.record, extra_requests, 0);
  ev.error_class = std::string(ToString(error_class));
  ev.message = std::move(message);
  spdlog::warn("run {} failed ({}): {}", st.record.id, ev.error_class, ev.message);
  return {{MakeEvent(ev)}, ReleaseStep(st.record)};
}

RunStep RunJournal::InterruptStep(const RunState& st, std::string reason) {
  SyncInterrupted ev;
  ev.last_committed_page = st.record.last_page;
  ev.reason = std::move(reason);
  spdlog::info("run {} interrupted after page {} ({})", st.record.id, ev.last_committed_page, ev.reason);
  return {{MakeEvent(ev)}, Step{}};
}

Status RunJournal::FinishFailed(RunState& st, uint64_t extra_requests, ErrorClass error_class, std::string message) {
  RunStep step = FailedStep(st, extra_requests, error_class, std::move(message));
  return Append(st, std::move(step.run_events), std::move(step.step));
}

}  // namespace marketsync
