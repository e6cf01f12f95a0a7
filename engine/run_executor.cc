#include "engine/internal/run_executor.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine/offer_fingerprint.h"
#include "engine/internal/product_rows.h"
#include "schema/payload_codec.h"
#include "schema/store_keys.h"
#include "schema/stream_ids.h"

namespace marketsync {
namespace {

// What the catalog shows of an offer (carried by the product events).
// Fills *s (assigning into its strings, so a reused summary allocates little); takes the
// offer's name, which the offer no longer needs.
void SetSummary(OfferSummary* s, emag::Offer& offer) {
  s->part_number.assign(offer.part_number);
  s->name = std::move(offer.name);
  s->sale_price.clear();
  if (offer.sale_price) s->sale_price = offer.sale_price->ToString();
  s->currency.assign(offer.currency);
  s->stock = offer.general_stock;
  if (s->stock == 0) {
    for (const auto& w : offer.stock) s->stock += w.value;
  }
  s->status = offer.status;
}

// What the log and the index know of a page's offers before they are compared: the same text
// is the same offer, so each offer's raw hash is checked against the index, and only offers
// whose text changed read their stored state (one MultiGet); new offers have none.
struct PageLookup {
  std::vector<RawHash> raw_hashes;
  std::vector<std::optional<RawHashIndex::Hash>> indexed;
  std::vector<bool> text_changed;
  std::vector<std::optional<std::string>> changed_states;  // one per text_changed offer
};

Result<PageLookup> LookUp(const EventLog& log, const RawHashIndex& index, const std::string& account,
                          const std::vector<emag::Offer>& offers) {
  PageLookup out;
  out.raw_hashes.resize(offers.size());
  for (size_t i = 0; i < offers.size(); ++i) out.raw_hashes[i] = RawTextHash(offers[i].raw_json);
  out.indexed = index.Lookup(account, offers);
  out.text_changed.resize(offers.size());
  std::vector<std::string> changed_keys;
  for (size_t i = 0; i < offers.size(); ++i) {
    out.text_changed[i] = out.indexed[i] && *out.indexed[i] != out.raw_hashes[i];
    if (out.text_changed[i]) changed_keys.push_back(ProductKey(account, offers[i].id));
  }
  MS_ASSIGN_OR_RETURN(out.changed_states, log.MultiGet(kProductsFamily, changed_keys));
  return out;
}

// Part numbers held by several offers, in part number order, each with its ids ascending.
std::vector<DuplicatePartNumber> Duplicates(std::vector<std::pair<std::string, uint64_t>> part_numbers) {
  std::sort(part_numbers.begin(), part_numbers.end());
  std::vector<DuplicatePartNumber> duplicates;
  for (size_t i = 0, j = 0; i < part_numbers.size(); i = j) {
    for (j = i + 1; j < part_numbers.size() && part_numbers[j].first == part_numbers[i].first; ++j) {
    }
    if (j - i < 2) continue;
    DuplicatePartNumber d{part_numbers[i].first, {}};
    for (size_t k = i; k < j; ++k) d.offer_ids.push_back(part_numbers[k].second);
    duplicates.push_back(std::move(d));
  }
  return duplicates;
}

}  // namespace

ErrorClass RunExecutor::ClassOf(const Status& s) {
  switch (s.code()) {
    case Status::Code::kPermissionDenied: return ErrorClass::kAuth;
    case Status::Code::kDeadlineExceeded: return ErrorClass::kDeadline;
    case Status::Code::kUnavailable: return ErrorClass::kRetryable;
    default: return ErrorClass::kFatal;
  }
}

Task<Status> RunExecutor::Execute(RunState st, RunFlags& active) {
  RunRecord& r = st.record;
  if (r.terminal()) co_return Status::Ok();
  extra_requests_ = 0;
  if (auto stop = StopStep(st, active)) co_return co_await WriteNow(st, std::move(*stop));
  // One node's index goes stale when another node syncs the account: an offer it remembers at
  // hash H, changed since by the other node, would be taken for unchanged when H comes back.
  if (options_.shared_log) raw_hashes_.Forget(r.account_type);
  MS_CO_RETURN_IF_ERROR(raw_hashes_.Load(journal_.log(), r.account_type));
  Plan plan;
  plan.per_page = r.params.items_per_page == 0 ? 100 : r.params.items_per_page;
  plan.last_page = r.params.max_pages == 0 ? emag::PageStream::kOpenEnded : r.params.max_pages;
  emag::OfferFilter filter;
  if (!r.params.include_inactive) filter.status = 1;
  const uint32_t first_page = r.last_page + 1;
  const uint32_t before_count = PagesBeforeCount(r, first_page, plan.per_page);
  MS_CO_RETURN_IF_ERROR(co_await WriteNow(st, BeginStep(st, first_page, plan.per_page)));

  // The count goes ahead of the first page request; pages commit as they come, before it answers.
  emag::CallControl control{&active.stop, std::chrono::steady_clock::now() + options_.run_deadline, std::nullopt, nullptr};
  emag::PageStreamOptions so;
  so.first = first_page;
  so.last = plan.last_page;
  so.items_per_page = plan.per_page;
  so.window = options_.page_window;
  so.count = true;
  so.last_before_count = before_count;
  emag::PageStream stream(client_, filter, so, control);
  active.SetStopHook([&stream] { stream.Stop(); });  // a cancel wakes the run wherever it waits
  Status fatal;
  Status taken = co_await TakePages(st, stream, active, plan, &fatal);
  active.SetStopHook(nullptr);
  MS_CO_RETURN_IF_ERROR(taken);
  if (!fatal.ok()) {
    co_return co_await WriteNow(st, RunJournal::FailedStep(st, extra_requests_, ClassOf(fatal), fatal.message()));
  }
  if (auto stop = StopStep(st, active)) co_return co_await WriteNow(st, std::move(*stop));
  if (!plan.counted) {  // the stream hands the count out before it ends, unless stopped
    co_return co_await WriteNow(
        st, RunJournal::FailedStep(st, extra_requests_, ErrorClass::kFatal, "product_offer/count never answered"));
  }
  MS_CO_ASSIGN_OR_RETURN(RunStep last, CompleteStep(st, extra_requests_, plan));
  co_return co_await WriteNow(st, std::move(last));
}

void RunExecutor::Write(RunState& st, std::vector<RunStep> items, std::function<void(Status)> done) {
  auto prepared = std::make_shared<RunJournal::Prepared>(RunJournal::Prepare(st, std::move(items)));
  std::vector<Step> steps = std::move(prepared->steps);
  writer_.Submit(std::move(steps), [this, &st, prepared, done = std::move(done)](std::vector<Result<AppendResult>> results) {
    done(journal_.Fold(st, *prepared, std::move(results)));
  });
}

Task<Status> RunExecutor::WriteNow(RunState& st, RunStep step) {
  co_return co_await AwaitCallback<Status>([&](auto done) {
    std::vector<RunStep> one;
    one.push_back(std::move(step));
    Write(st, std::move(one), std::move(done));
  });
}

uint32_t RunExecutor::PagesBeforeCount(const RunRecord& r, uint32_t first_page, uint32_t per_page) const {
  const uint64_t mirrored = raw_hashes_.Size(r.account_type);
  if (mirrored == 0 && r.pages_total == 0) return emag::PageStream::kOpenEnded;  // the window bounds it
  const uint64_t known = std::max<uint64_t>((mirrored + per_page - 1) / per_page, r.pages_total);
  return static_cast<uint32_t>(std::min<uint64_t>(std::max<uint64_t>(known + 1, first_page), emag::PageStream::kOpenEnded));
}

RunStep RunExecutor::BeginStep(RunState& st, uint32_t first_page, uint32_t per_page) {
  RunRecord& r = st.record;
  st.part_numbers_complete = st.seen.size() == 0;
  SyncStarted started;
  started.attempt = std::max<uint32_t>(r.attempt, 1);
  started.items_per_page = per_page;
  started.awaiting_count = true;
  spdlog::info("run {} started: account {}, attempt {}, from page {}", r.id, r.account_type, started.attempt,
               first_page);
  return {{MakeEvent(started)}, Step{}};
}

std::vector<NewEvent> RunExecutor::Counted(RunState& st, const emag::FetchedCount& fetched, Plan& plan) {
  const RunRecord& r = st.record;
  const uint64_t items = fetched.result->items;
  const uint64_t total_pages = (items + plan.per_page - 1) / plan.per_page;
  st.seen.Reserve(st.seen.size() + items);  // no rehashing as the rest of the pages come in
  if (st.part_numbers_complete) st.part_numbers.reserve(items);
  plan.counted = true;
  plan.count_items = items;
  plan.limited = r.params.max_pages != 0 && r.params.max_pages < total_pages;
  plan.last_page = std::min(plan.last_page, static_cast<uint32_t>(std::min<uint64_t>(total_pages, UINT32_MAX)));
  SyncCounted ev;
  ev.total_items = items;
  ev.total_pages = static_cast<uint32_t>(std::min<uint64_t>(total_pages, UINT32_MAX));
  ev.requests = fetched.stats.requests;
  ev.rate_limit_hits = fetched.stats.rate_limit_hits;
  ev.retries = fetched.stats.retries;
  spdlog::info("run {} counted: account {}, {} offers in {} pages", r.id, r.account_type, items, total_pages);
  return {MakeEvent(ev)};
}

namespace {
Task<Status> PushStep(StepPipeline& pipeline, RunStep step) {
  co_return co_await AwaitCallback<Status>([&](auto ready) { pipeline.Push(std::move(step), std::move(ready)); });
}
}  // namespace

Task<Status> RunExecutor::TakePages(RunState& st, emag::PageStream& stream, RunFlags& active, Plan& plan, Status* fatal) {
  StepPipeline pipeline([this, &st](std::vector<RunStep> steps, StepPipeline::Callback done) {
    Write(st, std::move(steps), std::move(done));
  });
  Status s;
  while (s.ok() && !active.stop && fatal->ok()) {
    std::optional<emag::PageStream::Item> item = co_await AwaitCallback<std::optional<emag::PageStream::Item>>(
        [&](auto done) { stream.AsyncNext(std::move(done)); });
    if (!item) break;
    if (auto* count = std::get_if<emag::FetchedCount>(&*item)) {
      if (count->result.ok()) {
        RunStep counted;
        counted.run_events = Counted(st, *count, plan);
        s = co_await PushStep(pipeline, std::move(counted));
        continue;
      }
      extra_requests_ += count->stats.requests;
      if (count->result.status().code() == Status::Code::kCancelled) continue;  // the flags say why
      *fatal = count->result.status();
      continue;
    }
    s = co_await TakePage(st, std::get<emag::FetchedPage>(*item), stream, plan, pipeline, fatal);
  }
  stream.Stop();
  // Always drained: the writer's callbacks fold into `st`.
  Status drained = co_await AwaitCallback<Status>([&](auto done) { pipeline.Drain(std::move(done)); });
  co_return s.ok() ? drained : s;
}

Task<Status> RunExecutor::TakePage(RunState& st, emag::FetchedPage& page, emag::PageStream& stream, Plan& plan,
                                   StepPipeline& pipeline, Status* fatal) {
  if (!page.result.ok()) {
    const Status& s = page.result.status();
    if (s.code() == Status::Code::kCancelled) co_return Status::Ok();  // the flags say why
    if (s.code() == Status::Code::kDeadlineExceeded || emag::IsFatalEmagError(s)) {
      *fatal = s;
      co_return Status::Ok();
    }
    PageFailed pf;
    pf.page = page.page;
    pf.error_class = std::string(ToString(ErrorClass::kRetryable));
    pf.message = s.message();
    pf.requests = page.stats.requests;
    pf.rate_limit_hits = page.stats.rate_limit_hits;
    pf.retries = page.stats.retries;
    RunStep failed;  // built apart: g++ 12 cannot co_await over a braced initializer
    failed.run_events.push_back(MakeEvent(pf));
    co_return co_await PushStep(pipeline, std::move(failed));
  }
  RunStep step;
  MS_CO_RETURN_IF_ERROR(PreparePage(st, page, &step.run_events, &step.step));
  MS_CO_RETURN_IF_ERROR(co_await PushStep(pipeline, std::move(step)));
  if (page.result->offers.size() < plan.per_page && page.page < plan.last_page) {
    plan.last_page = page.page;  // the catalogue ends here (or shrank during the run)
    stream.SetLastPage(plan.last_page);
  }
  co_return Status::Ok();
}

std::optional<RunStep> RunExecutor::StopStep(const RunState& st, const RunFlags& active) const {
  if (active.cancel || st.record.cancel_requested) return RunJournal::CancelledStep(st, extra_requests_);
  if (active.interrupt) return RunJournal::InterruptStep(st, "shutdown");
  return std::nullopt;
}

Status RunExecutor::PreparePage(RunState& st, emag::FetchedPage& page, std::vector<NewEvent>* run_events, Step* out) {
  const RunRecord& r = st.record;
  PageCommitted pc;
  pc.page = page.page;
  pc.items = static_cast<uint32_t>(page.result->offers.size());
  pc.bytes = page.result->bytes;
  pc.requests = page.stats.requests;
  pc.rate_limit_hits = page.stats.rate_limit_hits;
  pc.retries = page.stats.retries;
  pc.latency_us = page.stats.latency_us;
  Step step;
  std::vector<emag::Offer>& offers = page.result->offers;
  MS_ASSIGN_OR_RETURN(PageLookup known, LookUp(journal_.log(), raw_hashes_, r.account_type, offers));
  pc.offer_ids.reserve(offers.size());
  size_t next_changed = 0;
  // Payloads reused offer after offer (their strings keep their buffers).
  ProductCreated created;
  created.account = r.account_type;
  created.run_id = r.id;
  ProductUpdated updated;
  updated.account = r.account_type;
  updated.run_id = r.id;
  for (size_t i = 0; i < offers.size(); ++i) {
    emag::Offer& offer = offers[i];
    const std::optional<std::string> none;
    const std::optional<std::string>& stored = known.text_changed[i] ? known.changed_states[next_changed++] : none;
    pc.offer_ids.push_back(offer.id);
    if (!st.seen.Insert(offer.id, true)) {
      ++pc.duplicates;
      continue;
    }
    if (st.part_numbers_complete && !offer.part_number.empty()) st.part_numbers.emplace_back(offer.part_number, offer.id);
    if (known.indexed[i] && !known.text_changed[i]) {
      ++pc.unchanged;
      continue;
    }
    if (known.indexed[i] && !stored) {
      return Status::Corruption("product state of offer " + std::to_string(offer.id) + " is indexed but gone");
    }
    const std::string key = ProductKey(r.account_type, offer.id);
    const std::string_view raw_hash(known.raw_hashes[i].data(), known.raw_hashes[i].size());
    ProductState state;
    if (stored) {
      MS_ASSIGN_OR_RETURN(state, DecodeProductState(*stored));
    }
    OfferFingerprint fp = Fingerprint(offer);
    if (stored && state.content_hash == fp.content_hash) {
      ++pc.unchanged;
      state.raw_hash = raw_hash;  // remember the new spelling
      step.writes.push_back({std::string(kProductsFamily), key, EncodeProductState(state)});
      continue;
    }
    NewEvent ev;
    if (!stored) {
      created.offer_id = offer.id;
      created.content_hash = ToHex(fp.content_hash);
      SetSummary(&created.summary, offer);
      created.raw_json = std::move(offer.raw_json);  // the page is done with it
      ev = MakeEvent(created);
      ++pc.created;
    } else {
      updated.offer_id = offer.id;
      updated.content_hash = ToHex(fp.content_hash);
      updated.changed_fields = ChangedFields(state.field_hashes, fp.field_hashes);
      SetSummary(&updated.summary, offer);
      updated.raw_json = std::move(offer.raw_json);
      ev = MakeEvent(updated);
      ++pc.updated;
    }
    step.writes.push_back({std::string(kProductsFamily), key,
                           EncodeProductState({raw_hash, fp.content_hash, offer.part_number, fp.field_hashes, r.id})});
    step.streams.push_back({ProductStreamId(r.account_type, offer.id), kAnyVersion, {std::move(ev)}});
  }
  run_events->push_back(MakeEvent(pc));
  *out = std::move(step);
  return Status::Ok();
}

Result<RunStep> RunExecutor::CompleteStep(RunState& st, uint64_t extra_requests, const Plan& plan) {
  RunRecord& r = st.record;
  Step step = RunJournal::ReleaseStep(r);
  // Products of the account not seen in this run, and part numbers held by several offers.
  const bool may_remove = r.mode == ToString(SyncMode::kFull) && r.params.include_inactive && !plan.limited &&
                          r.pages_failed.empty();
  uint64_t removed = 0;
  std::vector<DuplicatePartNumber> duplicates;
  MS_RETURN_IF_ERROR(CollectUnseen(st, may_remove, step, removed, duplicates));
  const uint64_t seen = st.seen.size();
  const bool count_changed = r.pages_failed.empty() && !plan.limited && seen != plan.count_items;
  if (!r.pages_failed.empty()) {
    SyncCompletedWithGaps ev;
    ev.totals = RunJournal::Totals(r, extra_requests, removed);
    ev.missing_pages = r.pages_failed;
    ev.total_items_at_end = seen;
    ev.count_changed = count_changed;
    ev.duplicate_part_numbers = std::move(duplicates);
    spdlog::warn("run {} completed with gaps: {} pages missing", r.id, ev.missing_pages.size());
    return RunStep{{MakeEvent(ev)}, std::move(step)};
  }
  SyncCompleted ev;
  ev.totals = RunJournal::Totals(r, extra_requests, removed);
  ev.total_items_at_end = seen;
  ev.count_changed = count_changed;
  ev.duplicate_part_numbers = std::move(duplicates);
  spdlog::info("run {} completed: {} created, {} updated, {} unchanged, {} removed", r.id, ev.totals.created,
               ev.totals.updated, ev.totals.unchanged, removed);
  return RunStep{{MakeEvent(ev)}, std::move(step)};
}

Status RunExecutor::CollectUnseen(RunState& st, bool may_remove, Step& step, uint64_t& removed,
                                  std::vector<DuplicatePartNumber>& duplicates) {
  const RunRecord& r = st.record;
  std::vector<std::pair<std::string, uint64_t>> part_numbers;  // (part number, offer id) seen
  auto remove = [&](uint64_t offer_id) {
    ProductRemoved ev;
    ev.account = r.account_type;
    ev.offer_id = offer_id;
    ev.run_id = r.id;
    step.streams.push_back({ProductStreamId(r.account_type, offer_id), kAnyVersion, {MakeEvent(ev)}});
    step.writes.push_back({std::string(kProductsFamily), ProductKey(r.account_type, offer_id), std::nullopt});
    ++removed;
  };
  // Every page of the run came in this attempt: the part numbers are noted, and the rows the
  // run did not see are the index's ids it did not see (no scan of the rows). Otherwise (a
  // resumed run, an index forgotten meanwhile) the rows say.
  Result<std::vector<uint64_t>> unseen = Status::NotFound("part numbers not noted");
  if (st.part_numbers_complete) unseen = raw_hashes_.IdsNotIn(r.account_type, st.seen);
  if (unseen.ok()) {
    part_numbers = std::move(st.part_numbers);
    if (may_remove) {
      for (uint64_t offer_id : *unseen) remove(offer_id);
    }
  } else {
    part_numbers.reserve(st.seen.size());
    MS_RETURN_IF_ERROR(
        ForEachProductRow(journal_.log(), r.account_type, [&](uint64_t offer_id, std::string_view row) -> Status {
          if (st.seen.Find(offer_id) != nullptr) {
            MS_ASSIGN_OR_RETURN(std::string_view part_number, StoredPartNumber(row));
            if (!part_number.empty()) part_numbers.emplace_back(part_number, offer_id);
          } else if (may_remove) {
            remove(offer_id);
          }
          return Status::Ok();
        }));
  }
  duplicates = Duplicates(std::move(part_numbers));
  return Status::Ok();
}

}  // namespace marketsync
