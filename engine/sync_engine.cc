#include "engine/sync_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "engine/emag/page_stream.h"
#include "engine/emag/response_parser.h"
#include "engine/offer_fingerprint.h"
#include "events/id_hash_map.h"
#include "events/key_coding.h"
#include "events/payload_codec.h"
#include "events/sync_events.h"
#include "events/thread_name.h"
#include "projections/catalog.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kLeasePrefix = "lease/";
constexpr std::string_view kIdempotencyPrefix = "idempotency/";
// Written once the product state has been derived from the log (RestoreProductState).
constexpr std::string_view kProductStateDerivedKey = "product_state_derived_at";
constexpr size_t kMaxIdempotencyKey = 200;

std::string LeaseKey(std::string_view account) { return std::string(kLeasePrefix) + std::string(account); }
std::string IdempotencyKey(std::string_view key) { return std::string(kIdempotencyPrefix) + std::string(key); }

// engine_products keys: account, a zero byte, the offer id (8 bytes big-endian).
std::string ProductKey(std::string_view account, uint64_t offer_id) {
  std::string k(account);
  k.push_back('\0');
  PutFixed64BE(&k, offer_id);
  return k;
}

// Calls fn(offer_id, row) for each of the account's engine_products rows, in offer id order;
// fn returns a Status. Errors: the scan's, or the first of fn's.
template <typename Fn>
Status ForEachProductRow(const EventLog& log, std::string_view account, Fn fn) {
  MS_ASSIGN_OR_RETURN(auto it, log.Scan(kProductsFamily));
  std::string prefix(account);
  prefix.push_back('\0');
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != prefix.size() + 8) continue;
    MS_RETURN_IF_ERROR(fn(GetFixed64BE(it->key().data() + prefix.size()), it->value()));
  }
  return it->status();
}

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

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What an idempotency key maps to.
struct IdempotencyRecord {
  std::string group_id;
  std::vector<std::string> run_ids;
  std::vector<std::string> accounts;
  template <class V> void Visit(V&& v) {
    v("group_id", group_id);
    v("run_ids", run_ids);
    v("accounts", accounts);
  }
};

// Flags the commands and the shutdown set for a run that a worker executes.
// Shared by the worker job and the command paths (either may outlive the other's look-up).
struct ActiveRun {
  std::atomic<bool> cancel{false};
  std::atomic<bool> interrupt{false};
  std::atomic<bool> stop{false};  // cancel || interrupt: what the page stream watches
};

// The raw-text hash of every offer in engine_products, per account, in memory: the one field a
// sync needs for every offer ("the same text as last time?"), answered without a database
// read (a page's MultiGet was most of a re-sync's own work). An account is loaded by a scan of
// its rows on its first run in this process, and then kept equal to the family by applying the
// product rows of each step once that step is durable; an offer absent here is absent there.
// Steps that are not yet durable are not seen, which a run never needs: it reads each offer
// once (RunState::seen), and runs of one account do not overlap. Thread safety: internally
// locked (a run's pipeline thread applies while its run thread looks up).
class RawHashIndex {
 public:
  // A RawTextHash: two different texts share it with probability ~2^-128, far below any other
  // failure.
  using Hash = RawHash;
  // The index's form of a stored raw hash (the first 16 bytes of its slot; a row older than
  // version 3 holds a SHA-256 there, which matches no text's RawTextHash).
  static Hash Truncate(std::string_view raw_hash) {
    Hash h{};
    std::copy_n(raw_hash.begin(), std::min(raw_hash.size(), h.size()), h.begin());
    return h;
  }

  // Loads the account's hashes unless they are loaded. Errors: the scan's, kCorruption for a
  // malformed row.
  Status Load(const EventLog& log, const std::string& account) {
    {
      std::lock_guard lk(mu_);
      if (accounts_.contains(account)) return Status::Ok();
    }
    IdHashMap<Hash> hashes;
    MS_RETURN_IF_ERROR(ForEachProductRow(log, account, [&](uint64_t offer_id, std::string_view row) -> Status {
      MS_ASSIGN_OR_RETURN(std::string_view raw_hash, StoredRawHash(row));
      hashes.Set(offer_id, Truncate(raw_hash));
      return Status::Ok();
    }));
    std::lock_guard lk(mu_);
    accounts_.try_emplace(account, std::move(hashes));
    return Status::Ok();
  }

  // The stored hash of each offer (nullopt: no row). Requires Load(account).
  std::vector<std::optional<Hash>> Lookup(const std::string& account, const std::vector<emag::Offer>& offers) const {
    std::vector<std::optional<Hash>> out(offers.size());
    std::lock_guard lk(mu_);
    auto a = accounts_.find(account);
    if (a == accounts_.end()) return out;
    for (size_t i = 0; i < offers.size(); ++i) {
      if (const Hash* h = a->second.Find(offers[i].id)) out[i] = *h;
    }
    return out;
  }

  // The product rows a durable step wrote.
  struct Change {
    std::string account;
    uint64_t offer_id = 0;
    std::optional<Hash> raw_hash;  // nullopt: the row was deleted
  };
  static std::vector<Change> ChangesOf(const Step& step) {
    std::vector<Change> out;
    for (const auto& w : step.writes) {
      if (w.column_family != kProductsFamily || w.key.size() < 9 || w.key[w.key.size() - 9] != '\0') continue;
      Change c{w.key.substr(0, w.key.size() - 9), GetFixed64BE(w.key.data() + w.key.size() - 8), std::nullopt};
      if (w.value) {
        auto raw_hash = StoredRawHash(*w.value);
        if (!raw_hash.ok()) continue;  // the engine wrote it: cannot happen
        c.raw_hash = Truncate(*raw_hash);
      }
      out.push_back(std::move(c));
    }
    return out;
  }
  void Apply(const std::vector<Change>& changes) {
    std::lock_guard lk(mu_);
    for (const Change& c : changes) {
      auto a = accounts_.find(c.account);
      if (a == accounts_.end()) continue;  // not loaded: its next Load reads the row
      if (c.raw_hash) {
        a->second.Set(c.offer_id, *c.raw_hash);
      } else {
        a->second.Erase(c.offer_id);
      }
    }
  }

  // The account's offers that have a row but are not in `seen`, ascending (the order of a
  // scan of the rows). kNotFound when the account is not loaded.
  Result<std::vector<uint64_t>> IdsNotIn(const std::string& account, const IdHashMap<bool>& seen) const {
    std::vector<uint64_t> out;
    {
      std::lock_guard lk(mu_);
      auto a = accounts_.find(account);
      if (a == accounts_.end()) return Status::NotFound("account " + account + " is not loaded");
      a->second.ForEach([&](uint64_t id, const Hash&) {
        if (seen.Find(id) == nullptr) out.push_back(id);
      });
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Forgets every account (the family was written some other way).
  void Clear() {
    std::lock_guard lk(mu_);
    accounts_.clear();
  }

 private:
  mutable std::mutex mu_;  // guards accounts_
  std::map<std::string, IdHashMap<Hash>, std::less<>> accounts_;
};

// A run reloaded from its stream: the record and the offers its pages held. This attempt also
// notes each offer's part number as its page comes in; a run resumed after some pages were
// committed reads them from the product rows at its end instead.
struct RunState {
  RunRecord record;
  IdHashMap<bool> seen;
  std::vector<std::pair<std::string, uint64_t>> part_numbers;  // (part number, offer id)
  bool part_numbers_complete = false;  // part_numbers holds every offer in `seen`
};

// The events a step appends to its run's stream, and the rest of the step.
struct RunStep {
  std::vector<NewEvent> run_events;
  Step step;
};

// Appends a run's page steps in order on a thread of its own, so that preparing the next pages
// (product state reads, fingerprints) overlaps the synced writes, and the steps that queue up
// meanwhile share one write (each still its own atomic step). At most kDepth steps wait. After
// a failed append it takes no more steps and reports that failure.
class StepPipeline {
 public:
  static constexpr size_t kDepth = 8;
  using AppendFn = std::function<Status(std::vector<RunStep>)>;
  explicit StepPipeline(AppendFn append) : append_(std::move(append)), thread_([this] { Loop(); }) {}
  ~StepPipeline() {
    Drain().IgnoreError();  // the caller already saw any failure through Push or Drain
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  StepPipeline(const StepPipeline&) = delete;
  StepPipeline& operator=(const StepPipeline&) = delete;

  Status Push(std::vector<NewEvent> run_events, Step step) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return queue_.size() < kDepth || !error_.ok(); });
    if (!error_.ok()) return error_;
    queue_.push_back({std::move(run_events), std::move(step)});
    cv_.notify_all();
    return Status::Ok();
  }
  // Waits until every pushed step is written; the first failure, if any.
  Status Drain() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return (queue_.empty() && !busy_) || !error_.ok(); });
    return error_;
  }

 private:
  void Loop() {
    SetThreadName("ms-steps");
    while (true) {
      std::vector<RunStep> batch;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        while (!queue_.empty()) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        busy_ = true;
      }
      Status s = append_(std::move(batch));
      {
        std::lock_guard lk(mu_);
        busy_ = false;
        if (!s.ok() && error_.ok()) {
          error_ = s;
          queue_.clear();
        }
      }
      cv_.notify_all();
    }
  }

  AppendFn append_;
  std::mutex mu_;  // guards queue_, busy_, stop_, error_
  std::condition_variable cv_;
  std::deque<RunStep> queue_;
  bool busy_ = false;
  bool stop_ = false;
  Status error_;
  std::thread thread_;  // last: starts after the rest is built
};

bool ValidAccountName(std::string_view name) {
  if (name.empty() || name.size() > 32 || name == "both") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

class Engine final : public SyncEngine {
 public:
  Engine(EventLog& log, EngineOptions options) : log_(log), options_(std::move(options)) {}

  ~Engine() override {
    Shutdown();
    if (pool_) pool_->join();
  }

  Status Init() {
    if (options_.accounts.empty()) return Status::InvalidArgument("no accounts configured");
    for (auto& account : options_.accounts) {
      if (!ValidAccountName(account.name)) {
        return Status::InvalidArgument("account name \"" + account.name +
                                       "\" must be 1-32 characters of a-z, 0-9, _ or -, and not \"both\"");
      }
      if (clients_.contains(account.name)) return Status::InvalidArgument("account " + account.name + " is configured twice");
      MS_ASSIGN_OR_RETURN(auto client, emag::EmagClient::Create(account, options_.client));
      clients_.emplace(account.name, std::move(client));
      names_.push_back(account.name);
    }
    if (options_.max_attempts == 0) options_.max_attempts = 1;
    pool_ = std::make_unique<boost::asio::thread_pool>(std::max<size_t>(2, clients_.size() + 1));
    return Status::Ok();
  }

  Status Start() override {
    {
      std::lock_guard lk(mu_);
      if (started_) return Status::Ok();
      started_ = true;
    }
    MS_RETURN_IF_ERROR(RestoreProductState());
    MS_RETURN_IF_ERROR(Recover());
    ready_ = true;
    if (options_.schedule_interval > 0ms) scheduler_ = std::thread([this] { ScheduleLoop(); });
    return Status::Ok();
  }

  bool ready() const override { return ready_.load(); }

  Result<StartSyncResult> StartSync(const StartSyncRequest& request) override {
    MS_ASSIGN_OR_RETURN(std::vector<std::string> accounts, Validate(request));
    {
      std::lock_guard lk(mu_);
      if (shutting_down_) return Status::Unavailable("the engine is shutting down and takes no new syncs");
    }
    if (!request.idempotency_key.empty()) {
      MS_ASSIGN_OR_RETURN(auto replay, Replay(request.idempotency_key));
      if (replay) return *replay;
    }
    MS_RETURN_IF_ERROR(RefuseBusy(accounts));

    StartSyncResult result;
    result.group_id = NewId();
    Step step;
    step.correlation_id = "start-" + result.group_id;
    SyncParams params;
    params.mode = request.mode;
    params.max_pages = request.max_pages.value_or(0);
    params.items_per_page = request.items_per_page;
    params.include_inactive = request.include_inactive;
    params.conflict_strategy = request.conflict_strategy;
    IdempotencyRecord idem;
    idem.group_id = result.group_id;
    for (const auto& account : accounts) {
      SyncRequested ev;
      ev.run_id = NewId();
      ev.group_id = result.group_id;
      ev.account = account;
      ev.params = params;
      ev.triggered_by = request.triggered_by;
      ev.idempotency_key = request.idempotency_key;
      step.streams.push_back({RunStreamId(ev.run_id), kNoStream, {MakeEvent(ev)}});
      step.expect.push_back({std::string(EventLog::kMetaFamily), LeaseKey(account), std::nullopt});
      step.writes.push_back({std::string(EventLog::kMetaFamily), LeaseKey(account), ev.run_id});
      result.runs.push_back({ev.run_id, account});
      idem.run_ids.push_back(ev.run_id);
      idem.accounts.push_back(account);
    }
    if (!request.idempotency_key.empty()) {
      step.expect.push_back({std::string(EventLog::kMetaFamily), IdempotencyKey(request.idempotency_key), std::nullopt});
      step.writes.push_back({std::string(EventLog::kMetaFamily), IdempotencyKey(request.idempotency_key), EncodeFields(idem)});
    }
    auto appended = log_.Append(std::move(step));
    if (!appended.ok()) {
      if (appended.status().IsFailedPrecondition()) {
        // Lost a race: the same key, or another start for one of these accounts.
        if (!request.idempotency_key.empty()) {
          MS_ASSIGN_OR_RETURN(auto replay, Replay(request.idempotency_key));
          if (replay) return *replay;
        }
        MS_RETURN_IF_ERROR(RefuseBusy(accounts));
      }
      return appended.status();
    }
    for (const auto& run : result.runs) {
      spdlog::info("run {} requested: account {}, {} sync, triggered by {}", run.run_id, run.account, request.mode,
                   request.triggered_by);
      Launch(run.run_id);
    }
    return result;
  }

  Result<CancelResult> CancelSync(const std::string& run_id, const std::string& requested_by) override {
    for (int tries = 0; tries < 3; ++tries) {
      MS_ASSIGN_OR_RETURN(RunRecord record, GetRun(run_id));
      if (record.terminal()) return CancelResult{CancelResult::Outcome::kAlreadyFinished, record.status};
      if (record.cancel_requested) {
        SignalCancel(run_id);
        return CancelResult{CancelResult::Outcome::kAlreadyRequested, record.status};
      }
      SyncCancelRequested ev;
      ev.requested_by = requested_by;
      Step step;
      step.correlation_id = "cancel-" + run_id;
      step.streams.push_back({RunStreamId(run_id), kAnyVersion, {MakeEvent(ev)}});
      // Only while the run still holds its account: not on top of its terminal step.
      step.expect.push_back({std::string(EventLog::kMetaFamily), LeaseKey(record.account_type), run_id});
      auto r = log_.Append(std::move(step));
      if (r.ok()) {
        spdlog::info("run {} cancel requested by {}", run_id, requested_by);
        SignalCancel(run_id);
        return CancelResult{CancelResult::Outcome::kRequested, record.status};
      }
      if (!r.status().IsFailedPrecondition()) return r.status();
      // The run finished meanwhile: look again.
    }
    return Status::Unavailable("run " + run_id + " changed state while cancelling; try again");
  }

  Result<RunRecord> GetRun(const std::string& run_id) const override {
    MS_ASSIGN_OR_RETURN(RunState state, LoadRun(run_id, false));
    return state.record;
  }

  Result<RunRecord> WaitForRun(const std::string& run_id, std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      {
        // While the run is on this engine's workers it ends by leaving active_: wait for that
        // instead of reading its stream again every few milliseconds (a long run's stream is
        // thousands of events, and the reads took CPU from the run itself).
        std::unique_lock lk(mu_);
        changed_cv_.wait_until(lk, deadline, [&] { return !active_.contains(run_id) || shutting_down_; });
      }
      MS_ASSIGN_OR_RETURN(RunRecord record, GetRun(run_id));
      if (record.terminal() || std::chrono::steady_clock::now() >= deadline) return record;
      std::unique_lock lk(mu_);
      changed_cv_.wait_for(lk, 50ms);
    }
  }

  void Shutdown() override {
    {
      std::lock_guard lk(mu_);
      if (shutting_down_) return;
      shutting_down_ = true;
      for (auto& [id, run] : active_) {
        run->interrupt = true;
        run->stop = true;
      }
    }
    changed_cv_.notify_all();
    if (scheduler_.joinable()) scheduler_.join();
    std::unique_lock lk(mu_);
    changed_cv_.wait(lk, [&] { return active_.empty(); });
  }

  std::vector<std::string> account_names() const override { return names_; }

  emag::EmagClient* client(const std::string& account) override {
    auto it = clients_.find(account);
    return it == clients_.end() ? nullptr : it->second.get();
  }

 private:
  std::string NewId() {
    std::lock_guard lk(id_mu_);
    // Sortable by time: 16 hex digits of microseconds, then 8 random. The history projection's
    // time-range listing relies on this prefix (projections/history.cc).
    return fmt::format("{:016x}{:08x}", static_cast<uint64_t>(NowUs()), static_cast<uint32_t>(id_rng_()));
  }

  Result<std::vector<std::string>> Validate(const StartSyncRequest& r) const {
    std::vector<std::string> accounts;
    if (r.account_type.empty()) return Status::InvalidArgument("account_type is required: one of " + AccountList());
    if (r.account_type == "both") {
      accounts = names_;
    } else if (clients_.contains(r.account_type)) {
      accounts.push_back(r.account_type);
    } else {
      return Status::InvalidArgument("unknown account_type \"" + r.account_type + "\": one of " + AccountList());
    }
    if (r.mode != "full" && r.mode != "incremental") {
      return Status::InvalidArgument("mode must be \"full\" or \"incremental\", not \"" + r.mode + "\"");
    }
    if (r.max_pages && *r.max_pages < 1) {
      return Status::InvalidArgument("max_pages must be at least 1 (leave it out for no limit)");
    }
    if (r.items_per_page < 1 || r.items_per_page > 100) {
      return Status::InvalidArgument("items_per_page must be 1..100 (eMAG pages hold at most 100 offers)");
    }
    if (r.conflict_strategy != "emag_priority") {
      return Status::InvalidArgument("conflict_strategy \"" + r.conflict_strategy +
                                     "\" is not supported: marketsync pulls from eMAG into a read-only mirror, "
                                     "so eMAG's data always wins; use \"emag_priority\"");
    }
    if (r.idempotency_key.size() > kMaxIdempotencyKey) {
      return Status::InvalidArgument("the idempotency key is longer than " + std::to_string(kMaxIdempotencyKey) + " bytes");
    }
    for (char c : r.idempotency_key) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
        return Status::InvalidArgument("the idempotency key must be printable");
      }
    }
    if (r.triggered_by.empty() || r.triggered_by.size() > 100) {
      return Status::InvalidArgument("triggered_by must be 1..100 bytes");
    }
    return accounts;
  }

  std::string AccountList() const {
    std::string out;
    for (const auto& n : names_) out += (out.empty() ? "" : ", ") + n;
    return out + " or both";
  }

  Result<std::optional<StartSyncResult>> Replay(const std::string& key) const {
    MS_ASSIGN_OR_RETURN(auto stored, log_.Get(EventLog::kMetaFamily, IdempotencyKey(key)));
    if (!stored) return std::optional<StartSyncResult>();
    MS_ASSIGN_OR_RETURN(IdempotencyRecord idem, DecodeFields<IdempotencyRecord>(*stored, "idempotency record"));
    StartSyncResult r;
    r.group_id = idem.group_id;
    r.replayed = true;
    for (size_t i = 0; i < idem.run_ids.size() && i < idem.accounts.size(); ++i) r.runs.push_back({idem.run_ids[i], idem.accounts[i]});
    return std::optional<StartSyncResult>(std::move(r));
  }

  Status RefuseBusy(const std::vector<std::string>& accounts) const {
    for (const auto& account : accounts) {
      MS_ASSIGN_OR_RETURN(auto holder, log_.Get(EventLog::kMetaFamily, LeaseKey(account)));
      if (holder) {
        return Status::FailedPrecondition("account " + account + " is busy: run " + *holder +
                                          " is syncing it (cancel that run or wait for it to finish)");
      }
    }
    return Status::Ok();
  }

  void SignalCancel(const std::string& run_id) {
    std::lock_guard lk(mu_);
    auto it = active_.find(run_id);
    if (it != active_.end()) {
      it->second->cancel = true;
      it->second->stop = true;
    }
  }

  // Queues the run on the worker pool.
  void Launch(const std::string& run_id) {
    auto active = std::make_shared<ActiveRun>();
    {
      std::lock_guard lk(mu_);
      if (shutting_down_) {
        active->interrupt = true;
        active->stop = true;
      }
      active_[run_id] = active;
    }
    boost::asio::post(*pool_, [this, run_id, active] {
      SetThreadName("ms-run");
      Status s = Execute(run_id, *active);
      if (!s.ok()) spdlog::error("run {} stopped: {}", run_id, s.ToString());
      {
        std::lock_guard lk(mu_);
        active_.erase(run_id);
      }
      changed_cv_.notify_all();
    });
  }

  Result<RunState> LoadRun(const std::string& run_id, bool with_seen) const {
    if (run_id.empty() || run_id.size() > 64) return Status::NotFound("no run " + run_id);
    MS_ASSIGN_OR_RETURN(std::vector<Envelope> events, log_.ReadStream(RunStreamId(run_id)));
    if (events.empty()) return Status::NotFound("no run " + run_id);
    RunState state;
    for (const auto& e : events) {
      MS_RETURN_IF_ERROR(ApplyRunEvent(state.record, e));
      if (with_seen && e.type == static_cast<uint16_t>(EventType::kPageCommitted)) {
        MS_ASSIGN_OR_RETURN(PageCommitted p, DecodePayload<PageCommitted>(e.payload_version, e.payload));
        for (uint64_t id : p.offer_ids) state.seen.Insert(id, true);
      }
    }
    return state;
  }

  // Appends events to the run stream (plus whatever else the step carries) and folds them into
  // the record, so the record stays what the log says.
  Status AppendRunStep(RunState& state, std::vector<NewEvent> run_events, Step step) {
    std::vector<RunStep> one;
    one.push_back({std::move(run_events), std::move(step)});
    return AppendRunSteps(state, std::move(one));
  }

  // Several steps of the run, in order, usually in one synced write (each still atomic).
  Status AppendRunSteps(RunState& state, std::vector<RunStep> items) {
    const std::string stream = RunStreamId(state.record.id);
    std::vector<std::vector<NewEvent>> copies;
    std::vector<Step> steps;
    copies.reserve(items.size());
    steps.reserve(items.size());
    std::vector<std::vector<RawHashIndex::Change>> product_changes;
    product_changes.reserve(items.size());
    for (auto& item : items) {
      copies.push_back(item.run_events);
      product_changes.push_back(RawHashIndex::ChangesOf(item.step));
      item.step.correlation_id = "run-" + state.record.id;
      item.step.streams.insert(item.step.streams.begin(), StreamAppend{stream, kAnyVersion, std::move(item.run_events)});
      steps.push_back(std::move(item.step));
    }
    std::vector<Result<AppendResult>> results = log_.AppendAll(std::move(steps));
    for (size_t i = 0; i < results.size(); ++i) {
      MS_RETURN_IF_ERROR(results[i].status());
      raw_hashes_.Apply(product_changes[i]);
      uint64_t seq = results[i]->first_seq;
      for (auto& ne : copies[i]) {
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

  SyncTotals Totals(const RunRecord& r, uint64_t extra_requests, uint64_t removed) const {
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

  // The terminal step's own writes: release the account.
  Step ReleaseStep(const RunRecord& r) const {
    Step step;
    step.expect.push_back({std::string(EventLog::kMetaFamily), LeaseKey(r.account_type), r.id});
    step.writes.push_back({std::string(EventLog::kMetaFamily), LeaseKey(r.account_type), std::nullopt});
    return step;
  }

  Status FinishCancelled(RunState& st, uint64_t extra_requests) {
    SyncCancelled ev;
    ev.page_reached = st.record.last_page;
    ev.items_committed = st.record.processed_items;
    ev.totals = Totals(st.record, extra_requests, 0);
    spdlog::info("run {} cancelled at page {}", st.record.id, ev.page_reached);
    return AppendRunStep(st, {MakeEvent(ev)}, ReleaseStep(st.record));
  }

  Status FinishFailed(RunState& st, uint64_t extra_requests, std::string error_class, std::string message) {
    SyncFailed ev;
    ev.totals = Totals(st.record, extra_requests, 0);
    ev.error_class = std::move(error_class);
    ev.message = std::move(message);
    spdlog::warn("run {} failed ({}): {}", st.record.id, ev.error_class, ev.message);
    return AppendRunStep(st, {MakeEvent(ev)}, ReleaseStep(st.record));
  }

  // Records a stop at a page boundary; the lease stays, so the next start resumes the run.
  Status Interrupt(RunState& st, std::string reason) {
    SyncInterrupted ev;
    ev.last_committed_page = st.record.last_page;
    ev.reason = std::move(reason);
    spdlog::info("run {} interrupted after page {} ({})", st.record.id, ev.last_committed_page, ev.reason);
    return AppendRunStep(st, {MakeEvent(ev)}, Step{});
  }

  Status StopIfAsked(RunState& st, const ActiveRun& active, uint64_t extra_requests, bool* stopped) {
    *stopped = true;
    if (active.cancel || st.record.cancel_requested) return FinishCancelled(st, extra_requests);
    if (active.interrupt) return Interrupt(st, "shutdown");
    *stopped = false;
    return Status::Ok();
  }

  // The step of one fetched page: its PageCommitted and the changed products. Reads only the
  // run's id and account of the record (the pipeline may be folding other fields meanwhile).
  Status PreparePage(RunState& st, emag::FetchedPage& page, std::vector<NewEvent>* run_events, Step* out) {
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
    // The same text is the same offer: each offer's raw hash against the index. Only offers
    // whose text changed read their stored state (one MultiGet); new offers have none.
    std::vector<RawHash> raw_hashes(offers.size());
    for (size_t i = 0; i < offers.size(); ++i) raw_hashes[i] = RawTextHash(offers[i].raw_json);
    const std::vector<std::optional<RawHashIndex::Hash>> indexed = raw_hashes_.Lookup(r.account_type, offers);
    std::vector<bool> text_changed(offers.size());
    std::vector<std::string> changed_keys;
    for (size_t i = 0; i < offers.size(); ++i) {
      text_changed[i] = indexed[i] && *indexed[i] != raw_hashes[i];
      if (text_changed[i]) changed_keys.push_back(ProductKey(r.account_type, offers[i].id));
    }
    MS_ASSIGN_OR_RETURN(auto changed_states, log_.MultiGet(kProductsFamily, changed_keys));
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
      const std::optional<std::string>& stored = text_changed[i] ? changed_states[next_changed++] : none;
      pc.offer_ids.push_back(offer.id);
      if (!st.seen.Insert(offer.id, true)) {
        ++pc.duplicates;
        continue;
      }
      if (st.part_numbers_complete && !offer.part_number.empty()) st.part_numbers.emplace_back(offer.part_number, offer.id);
      if (indexed[i] && !text_changed[i]) {
        ++pc.unchanged;
        continue;
      }
      if (indexed[i] && !stored) return Status::Corruption("product state of offer " + std::to_string(offer.id) + " is indexed but gone");
      const std::string key = ProductKey(r.account_type, offer.id);
      const std::string_view raw_hash(raw_hashes[i].data(), raw_hashes[i].size());
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

  // The end of a run that read every page it was to read.
  Status Complete(RunState& st, uint64_t extra_requests, uint64_t count_items, bool limited) {
    RunRecord& r = st.record;
    Step step = ReleaseStep(r);
    // Products of the account not seen in this run, and part numbers held by several offers.
    const bool may_remove = r.mode == "full" && r.params.include_inactive && !limited && r.pages_failed.empty();
    std::vector<std::pair<std::string, uint64_t>> part_numbers;  // (part number, offer id) seen
    uint64_t removed = 0;
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
      MS_RETURN_IF_ERROR(ForEachProductRow(log_, r.account_type, [&](uint64_t offer_id, std::string_view row) -> Status {
        if (st.seen.Find(offer_id) != nullptr) {
          MS_ASSIGN_OR_RETURN(std::string_view part_number, StoredPartNumber(row));
          if (!part_number.empty()) part_numbers.emplace_back(part_number, offer_id);
        } else if (may_remove) {
          remove(offer_id);
        }
        return Status::Ok();
      }));
    }
    // Part numbers held by several offers, in part number order, each with its ids ascending.
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
    const uint64_t seen = st.seen.size();
    const bool count_changed = r.pages_failed.empty() && !limited && seen != count_items;
    if (!r.pages_failed.empty()) {
      SyncCompletedWithGaps ev;
      ev.totals = Totals(r, extra_requests, removed);
      ev.missing_pages = r.pages_failed;
      ev.total_items_at_end = seen;
      ev.count_changed = count_changed;
      ev.duplicate_part_numbers = std::move(duplicates);
      spdlog::warn("run {} completed with gaps: {} pages missing", r.id, ev.missing_pages.size());
      return AppendRunStep(st, {MakeEvent(ev)}, std::move(step));
    }
    SyncCompleted ev;
    ev.totals = Totals(r, extra_requests, removed);
    ev.total_items_at_end = seen;
    ev.count_changed = count_changed;
    ev.duplicate_part_numbers = std::move(duplicates);
    spdlog::info("run {} completed: {} created, {} updated, {} unchanged, {} removed", r.id, ev.totals.created,
                 ev.totals.updated, ev.totals.unchanged, removed);
    return AppendRunStep(st, {MakeEvent(ev)}, std::move(step));
  }

  Status Execute(const std::string& run_id, ActiveRun& active) {
    MS_ASSIGN_OR_RETURN(RunState st, LoadRun(run_id, true));
    RunRecord& r = st.record;
    if (r.terminal()) return Status::Ok();
    uint64_t extra_requests = 0;
    bool stopped = false;
    MS_RETURN_IF_ERROR(StopIfAsked(st, active, extra_requests, &stopped));
    if (stopped) return Status::Ok();
    emag::EmagClient* client = clients_.at(r.account_type).get();
    MS_RETURN_IF_ERROR(raw_hashes_.Load(log_, r.account_type));
    const uint32_t per_page = r.params.items_per_page == 0 ? 100 : r.params.items_per_page;
    emag::OfferFilter filter;
    if (!r.params.include_inactive) filter.status = 1;
    const uint32_t first_page = r.last_page + 1;
    const uint32_t attempt = std::max<uint32_t>(r.attempt, 1);
    emag::CallControl control{&active.stop, std::chrono::steady_clock::now() + options_.run_deadline};
    const uint32_t limit = r.params.max_pages == 0 ? emag::PageStream::kOpenEnded : r.params.max_pages;

    // The count runs beside the first page requests, so its latency is hidden.
    emag::PageStream stream(*client, filter, first_page, limit, per_page, options_.page_window, control);
    emag::CallStats count_stats;
    Result<emag::OfferCount> count = client->Count(filter, &count_stats, control);
    extra_requests += count_stats.requests;
    if (!count.ok()) {
      stream.Stop();
      MS_RETURN_IF_ERROR(StopIfAsked(st, active, extra_requests, &stopped));
      if (stopped) return Status::Ok();
      return FinishFailed(st, extra_requests, Class(count.status()), count.status().message());
    }
    const uint64_t total_pages = (count->items + per_page - 1) / per_page;
    st.seen.Reserve(st.seen.size() + count->items);  // no rehashing as the pages come in
    st.part_numbers_complete = st.seen.size() == 0;
    if (st.part_numbers_complete) st.part_numbers.reserve(count->items);
    const bool limited = r.params.max_pages != 0 && r.params.max_pages < total_pages;
    uint32_t last_page = static_cast<uint32_t>(std::min<uint64_t>(total_pages, limit));
    stream.SetLastPage(last_page);
    SyncStarted started;
    started.attempt = attempt;
    started.total_items = count->items;
    started.total_pages = static_cast<uint32_t>(total_pages);
    started.items_per_page = per_page;
    spdlog::info("run {} started: account {}, attempt {}, {} offers in {} pages, from page {}", r.id,
                 r.account_type, attempt, count->items, total_pages, first_page);
    MS_RETURN_IF_ERROR(AppendRunStep(st, {MakeEvent(started)}, Step{}));

    Status stop_reason;  // set when the run must end early: failed
    std::string fail_class;
    {
      StepPipeline pipeline([&](std::vector<RunStep> steps) { return AppendRunSteps(st, std::move(steps)); });
      while (!active.stop) {
        std::optional<emag::FetchedPage> page = stream.Next();
        if (!page) break;
        if (!page->result.ok()) {
          const Status& s = page->result.status();
          if (s.code() == Status::Code::kCancelled) continue;  // the flags say why
          if (s.code() == Status::Code::kDeadlineExceeded || emag::IsFatalEmagError(s)) {
            stream.Stop();
            stop_reason = s;
            fail_class = Class(s);
            break;
          }
          PageFailed pf;
          pf.page = page->page;
          pf.error_class = "retryable";
          pf.message = s.message();
          pf.requests = page->stats.requests;
          pf.rate_limit_hits = page->stats.rate_limit_hits;
          pf.retries = page->stats.retries;
          MS_RETURN_IF_ERROR(pipeline.Push({MakeEvent(pf)}, Step{}));
          continue;
        }
        std::vector<NewEvent> events;
        Step step;
        MS_RETURN_IF_ERROR(PreparePage(st, *page, &events, &step));
        MS_RETURN_IF_ERROR(pipeline.Push(std::move(events), std::move(step)));
        if (page->result->offers.size() < per_page && page->page < last_page) {
          last_page = page->page;  // the catalogue shrank during the run
          stream.SetLastPage(last_page);
        }
      }
      stream.Stop();
      MS_RETURN_IF_ERROR(pipeline.Drain());
    }
    if (!stop_reason.ok()) return FinishFailed(st, extra_requests, fail_class, stop_reason.message());
    MS_RETURN_IF_ERROR(StopIfAsked(st, active, extra_requests, &stopped));
    if (stopped) return Status::Ok();
    return Complete(st, extra_requests, count->items, limited);
  }

  static std::string Class(const Status& s) {
    switch (s.code()) {
      case Status::Code::kPermissionDenied: return "auth";
      case Status::Code::kDeadlineExceeded: return "deadline";
      case Status::Code::kUnavailable: return "retryable";
      default: return "fatal";
    }
  }

  // A log with product events but no product state (imported from an export, or the state's
  // family lost): the state is derived again from each offer's last event, so the next sync
  // tells created from updated from unchanged as the original database would have.
  // A marker says it was done, so a state that is empty for good reasons (no run has
  // committed an offer yet, or every offer was removed) does not cost a scan of the log at
  // every start.
  Status RestoreProductState() {
    if (log_.Head().seq == 0) return Status::Ok();
    {
      MS_ASSIGN_OR_RETURN(auto it, log_.Scan(kProductsFamily));
      it->SeekToFirst();
      MS_RETURN_IF_ERROR(it->status());
      if (it->Valid()) return Status::Ok();
    }
    MS_ASSIGN_OR_RETURN(auto derived, log_.Get(EventLog::kMetaFamily, kProductStateDerivedKey));
    if (derived) return Status::Ok();
    const Step done{"restore-product-state", {}, {{std::string(EventLog::kMetaFamily), std::string(kProductStateDerivedKey),
                                                   std::to_string(log_.Head().seq)}}, {}};
    // Pass 1: the last event of every offer that still exists.
    std::map<std::string, uint64_t> last;  // product key -> seq
    for (auto it = log_.Read(1); it->Valid(); it->Next()) {
      const Envelope& e = it->envelope();
      const auto type = static_cast<EventType>(e.type);
      if (type != EventType::kProductCreated && type != EventType::kProductUpdated && type != EventType::kProductRemoved) continue;
      constexpr std::string_view kPrefix = "product-";
      const size_t dash = e.stream_id.rfind('-');
      if (!e.stream_id.starts_with(kPrefix) || dash == std::string::npos || dash < kPrefix.size()) continue;
      const std::string account = e.stream_id.substr(kPrefix.size(), dash - kPrefix.size());
      const uint64_t offer_id = std::strtoull(e.stream_id.c_str() + dash + 1, nullptr, 10);
      const std::string key = ProductKey(account, offer_id);
      if (type == EventType::kProductRemoved) {
        last.erase(key);
      } else {
        last[key] = e.seq;
      }
    }
    if (last.empty()) return log_.Append(done).status();
    spdlog::info("restoring the product state of {} offers from the log", last.size());
    // Pass 2: fingerprint each offer's last raw JSON, as a sync would have; one forward scan
    // from the first of those events, not a look-up each.
    std::vector<std::pair<uint64_t, std::string>> wanted;  // (seq, product key), seq order
    wanted.reserve(last.size());
    for (const auto& [key, seq] : last) wanted.emplace_back(seq, key);
    std::sort(wanted.begin(), wanted.end());
    Step step;
    step.correlation_id = "restore-product-state";
    auto it = log_.Read(wanted.front().first);
    for (const auto& [seq, key] : wanted) {
      while (it->Valid() && it->envelope().seq < seq) it->Next();
      if (!it->Valid() || it->envelope().seq != seq) {
        return it->status().ok() ? Status::Corruption("product event at seq " + std::to_string(seq) + " is gone") : it->status();
      }
      const Envelope& e = it->envelope();
      std::string raw_json, run_id;
      if (e.type == static_cast<uint16_t>(EventType::kProductCreated)) {
        MS_ASSIGN_OR_RETURN(ProductCreated p, DecodePayload<ProductCreated>(e.payload_version, e.payload));
        raw_json = std::move(p.raw_json);
        run_id = std::move(p.run_id);
      } else {
        MS_ASSIGN_OR_RETURN(ProductUpdated p, DecodePayload<ProductUpdated>(e.payload_version, e.payload));
        raw_json = std::move(p.raw_json);
        run_id = std::move(p.run_id);
      }
      MS_ASSIGN_OR_RETURN(emag::OfferPage page, emag::ParseReadResponse(R"({"isError":false,"messages":[],"results":[)" + raw_json + "]}"));
      if (page.offers.size() != 1) return Status::Corruption("product event at seq " + std::to_string(seq) + " holds no offer");
      ProductState state;
      const RawHash raw_hash = RawTextHash(raw_json);
      state.raw_hash.assign(raw_hash.data(), raw_hash.size());
      OfferFingerprint fp = Fingerprint(page.offers[0]);
      state.content_hash = std::move(fp.content_hash);
      state.field_hashes = std::move(fp.field_hashes);
      state.part_number = page.offers[0].part_number;
      state.last_run_id = std::move(run_id);
      step.writes.push_back({std::string(kProductsFamily), key, EncodeProductState(state)});
      if (step.writes.size() == 2000) {
        MS_RETURN_IF_ERROR(log_.Append(std::move(step)).status());
        step = Step{};
        step.correlation_id = "restore-product-state";
      }
    }
    step.writes.push_back(done.writes.front());  // the marker lands with the last rows
    raw_hashes_.Clear();  // written around it: the next run of each account loads again
    return log_.Append(std::move(step)).status();
  }

  Status Recover() {
    MS_ASSIGN_OR_RETURN(auto it, log_.Scan(EventLog::kMetaFamily));
    std::vector<std::pair<std::string, std::string>> leases;
    for (it->Seek(kLeasePrefix); it->Valid() && it->key().starts_with(kLeasePrefix); it->Next()) {
      leases.emplace_back(std::string(it->key().substr(kLeasePrefix.size())), std::string(it->value()));
    }
    MS_RETURN_IF_ERROR(it->status());
    it.reset();
    for (const auto& [account, run_id] : leases) {
      MS_ASSIGN_OR_RETURN(RunState st, LoadRun(run_id, false));
      RunRecord& r = st.record;
      if (r.terminal()) {
        // Cannot happen (the terminal step releases the lease), but never leave an account stuck.
        Step release = ReleaseStep(r);
        MS_RETURN_IF_ERROR(log_.Append(std::move(release)).status());
        continue;
      }
      std::vector<NewEvent> events;
      if (r.status != kRunInterrupted) {
        SyncInterrupted ev;
        ev.last_committed_page = r.last_page;
        ev.reason = "found unfinished at start-up";
        events.push_back(MakeEvent(ev));
      }
      if (!clients_.contains(account)) {
        MS_RETURN_IF_ERROR(AppendRunStep(st, std::move(events), Step{}));
        MS_RETURN_IF_ERROR(FinishFailed(st, 0, "config", "account " + account + " is no longer configured"));
        continue;
      }
      if (!options_.resume || r.attempt >= options_.max_attempts) {
        MS_RETURN_IF_ERROR(AppendRunStep(st, std::move(events), Step{}));
        MS_RETURN_IF_ERROR(FinishFailed(st, 0, "interrupted",
                                        !options_.resume ? "interrupted, and resuming is switched off"
                                                         : "interrupted after " + std::to_string(r.attempt) +
                                                               " attempts, the limit"));
        continue;
      }
      SyncResumed resumed;
      resumed.attempt = r.attempt + 1;
      resumed.from_page = r.last_page + 1;
      events.push_back(MakeEvent(resumed));
      MS_RETURN_IF_ERROR(AppendRunStep(st, std::move(events), Step{}));
      spdlog::info("run {} resumed: attempt {}, from page {}", run_id, resumed.attempt, resumed.from_page);
      Launch(run_id);
    }
    return Status::Ok();
  }

  void ScheduleLoop() {
    std::mt19937_64 rng(std::random_device{}());
    const auto interval = options_.schedule_interval;
    // A jittered first offset, so scheduled syncs do not start on round clock times.
    auto next = std::chrono::steady_clock::now() + interval +
                std::chrono::milliseconds(static_cast<int64_t>(rng() % static_cast<uint64_t>(std::max<int64_t>(1, interval.count() / 10))));
    while (true) {
      {
        std::unique_lock lk(mu_);
        if (changed_cv_.wait_until(lk, next, [&] { return shutting_down_; })) return;
      }
      for (const auto& account : names_) {
        StartSyncRequest req;
        req.account_type = account;
        req.mode = "full";
        req.include_inactive = true;
        req.triggered_by = "scheduler";
        auto r = StartSync(req);
        if (!r.ok()) spdlog::info("scheduled sync of {} skipped: {}", account, r.status().message());
      }
      next += interval;
    }
  }

  EventLog& log_;
  EngineOptions options_;
  std::map<std::string, std::unique_ptr<emag::EmagClient>> clients_;
  std::vector<std::string> names_;
  std::unique_ptr<boost::asio::thread_pool> pool_;
  std::atomic<bool> ready_{false};

  std::mutex mu_;  // guards active_, started_, shutting_down_
  std::condition_variable changed_cv_;  // a run ended, or shutting down
  std::map<std::string, std::shared_ptr<ActiveRun>> active_;
  bool started_ = false;
  bool shutting_down_ = false;
  std::thread scheduler_;

  std::mutex id_mu_;  // guards id_rng_
  std::mt19937_64 id_rng_{std::random_device{}()};
  RawHashIndex raw_hashes_;
};

}  // namespace

std::vector<std::string> SyncEngine::ColumnFamilies() { return {std::string(kProductsFamily)}; }

Result<std::unique_ptr<SyncEngine>> SyncEngine::Create(EventLog& log, EngineOptions options) {
  auto engine = std::make_unique<Engine>(log, std::move(options));
  MS_RETURN_IF_ERROR(engine->Init());
  return std::unique_ptr<SyncEngine>(std::move(engine));
}

}  // namespace marketsync
