#include "engine/sync_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include <fmt/format.h>
#include <unistd.h>

#include "base/clock.h"
#include "engine/emag/io_pool.h"
#include "engine/internal/account_book.h"
#include "engine/internal/commands.h"
#include "engine/internal/coro.h"
#include "engine/internal/raw_hash_index.h"
#include "engine/internal/recovery.h"
#include "engine/internal/run_executor.h"
#include "engine/internal/run_journal.h"
#include "engine/internal/scheduler.h"
#include "engine/internal/step_writer.h"
#include "schema/run_id.h"
#include "schema/store_keys.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;

// How often the scheduler looks for accounts whose sync is due (or the server's interval, when
// shorter): an account's own schedule is honoured to within this.
constexpr std::chrono::milliseconds kScheduleTick = std::chrono::minutes(1);

// The engine: commands in, runs out as coroutines on its run pool (one RunExecutor per run job,
// at most max_runs_in_flight at once, the rest queued in order), their steps through one
// StepWriter, recovery and the scheduler at Start. The rules of each part live in their own
// files (commands.h, run_executor.h, recovery.h, scheduler.h); this class holds them together.
class Engine final : public SyncEngine {
 public:
  Engine(EventLog& log, EngineOptions options)
      : log_(log), options_(std::move(options)), journal_(log, raw_hashes_), book_(log, raw_hashes_, options_),
        writer_([this](std::vector<Step> steps) { return log_.AppendAll(std::move(steps)); }) {}

  ~Engine() override { Shutdown(); }

  // The seed accounts are checked here; they are recorded (and stored ones read) at Start.
  Status Init() {
    std::set<std::string> names;
    for (auto& account : options_.accounts) {
      MS_RETURN_IF_ERROR(CheckAccountName(account.name));
      if (!names.insert(account.name).second) return Status::InvalidArgument("account " + account.name + " is configured twice");
      MS_RETURN_IF_ERROR(emag::EmagClient::Create(account, options_.client).status());
    }
    if (options_.max_attempts == 0) options_.max_attempts = 1;
    if (options_.max_runs_in_flight == 0) return Status::InvalidArgument("max_runs_in_flight must be at least 1");
    if (options_.node_id.empty()) options_.node_id = DefaultNodeId();
    return Status::Ok();
  }

  Status Start() override {
    {
      std::lock_guard lk(mu_);
      if (started_) return Status::Ok();
      started_ = true;
    }
    MS_RETURN_IF_ERROR(RestoreProductState(log_, raw_hashes_));
    MS_RETURN_IF_ERROR(book_.Load());
    if (options_.lease_ttl > 0ms) MS_RETURN_IF_ERROR(Beat());  // alive before it takes any run
    MS_RETURN_IF_ERROR(RecoverRuns(journal_, Recovery()));
    ready_ = true;
    {
      std::lock_guard lk(mu_);
      const auto tick = options_.schedule_interval > 0ms ? std::min(options_.schedule_interval, kScheduleTick) : kScheduleTick;
      if (!shutting_down_) scheduler_ = std::make_unique<Scheduler>(tick, [this] { ScheduledSyncs(); });
      if (!shutting_down_ && options_.lease_ttl > 0ms) {
        liveness_ = std::make_unique<Scheduler>(std::max<std::chrono::milliseconds>(options_.lease_ttl / 3, 10ms),
                                                [this] { KeepAlive(); });
      }
    }
    return Status::Ok();
  }

  bool ready() const override { return ready_.load(); }

  Result<StartSyncResult> StartSync(const StartSyncRequest& request) override {
    if (request.account_type != "both" && book_.Client(request.account_type) != nullptr &&
        !book_.Enabled(request.account_type)) {
      return Status::FailedPrecondition("account " + request.account_type + " is disabled: enable it to sync it");
    }
    MS_ASSIGN_OR_RETURN(std::vector<std::string> accounts, ValidateStartSync(request, book_.Names(true)));
    {
      std::lock_guard lk(mu_);
      if (shutting_down_) return Status::Unavailable("the engine is shutting down and takes no new syncs");
    }
    if (!request.idempotency_key.empty()) {
      MS_ASSIGN_OR_RETURN(auto replay, ReplayIdempotencyKey(log_, request.idempotency_key));
      if (replay) return *replay;
    }
    MS_RETURN_IF_ERROR(RefuseBusy(log_, accounts));

    StartSyncResult result;
    result.group_id = NewId();
    std::vector<std::string> run_ids;
    for (const auto& account : accounts) {
      run_ids.push_back(NewId());
      result.runs.push_back({run_ids.back(), account});
    }
    // Runs being started count as running here until launched: a scan for orphaned runs
    // must not take over a run whose start step just landed.
    Starting starting(*this, run_ids);
    auto appended = log_.Append(StartStep(request, accounts, result.group_id, run_ids, options_.node_id));
    if (!appended.ok()) {
      if (appended.status().IsFailedPrecondition()) {
        // Lost a race: the same key, or another start for one of these accounts.
        if (!request.idempotency_key.empty()) {
          MS_ASSIGN_OR_RETURN(auto replay, ReplayIdempotencyKey(log_, request.idempotency_key));
          if (replay) return *replay;
        }
        MS_RETURN_IF_ERROR(RefuseBusy(log_, accounts));
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
      auto r = log_.Append(CancelStep(record, requested_by));
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
    MS_ASSIGN_OR_RETURN(RunState state, journal_.Load(run_id, false));
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
    std::unique_ptr<Scheduler> scheduler;
    std::vector<std::pair<std::string, std::shared_ptr<RunFlags>>> queued;
    {
      std::lock_guard lk(mu_);
      if (shutting_down_) return;
      shutting_down_ = true;
      for (auto& [id, run] : active_) run->Stop(false);
      // Queued runs start now, only to record their interruption.
      for (auto& id : queued_) queued.emplace_back(id, active_[id]);
      running_ += queued_.size();
      queued_.clear();
      scheduler = std::move(scheduler_);
    }
    for (auto& [id, flags] : queued) Spawn(id, flags);
    changed_cv_.notify_all();
    scheduler.reset();  // stops and joins it (its tick may be starting syncs: they are refused)
    std::unique_ptr<Scheduler> liveness;
    {
      std::unique_lock lk(mu_);
      changed_cv_.wait(lk, [&] { return active_.empty(); });
      liveness = std::move(liveness_);
    }
    liveness.reset();
    if (options_.lease_ttl > 0ms && started_) {
      // Gone: the other nodes may take this node's interrupted runs at once, not after the ttl.
      Step gone;
      gone.writes.push_back({std::string(EventLog::kMetaFamily), HeartbeatKey(options_.node_id), std::nullopt});
      if (Status s = log_.Append(std::move(gone)).status(); !s.ok()) spdlog::warn("heartbeat not withdrawn: {}", s.ToString());
    }
  }

  Result<AccountRecord> AddAccount(const AccountSpec& spec, const std::string& by) override {
    return book_.Add(spec, by);
  }

  Result<AccountRecord> ChangeAccount(const AccountSpec& spec, const std::string& by) override {
    return book_.Change(spec, by);
  }

  Result<AccountRecord> RemoveAccount(const std::string& name, bool purge_mirror, const std::string& by) override {
    return book_.Remove(name, purge_mirror, by);
  }

  Result<std::vector<AccountRecord>> ListAccounts() const override { return book_.List(); }

  std::vector<std::string> account_names() const override { return book_.Names(false); }

  std::shared_ptr<emag::EmagClient> client(const std::string& account) override { return book_.Client(account); }

 private:
  // Marks runs as starting for its life (RecoveryOptions::running_here counts them).
  class Starting {
   public:
    Starting(Engine& engine, const std::vector<std::string>& run_ids) : engine_(engine), run_ids_(run_ids) {
      std::lock_guard lk(engine_.mu_);
      engine_.starting_.insert(run_ids_.begin(), run_ids_.end());
    }
    ~Starting() {
      std::lock_guard lk(engine_.mu_);
      for (const auto& id : run_ids_) engine_.starting_.erase(id);
    }
    Starting(const Starting&) = delete;
    Starting& operator=(const Starting&) = delete;

   private:
    Engine& engine_;
    const std::vector<std::string> run_ids_;
  };

  static std::string DefaultNodeId() {
    char host[256] = {};
    (void)::gethostname(host, sizeof host - 1);
    std::random_device rd;
    return fmt::format("{}-{}-{:08x}", host, ::getpid(), rd());
  }

  RecoveryOptions Recovery() {
    RecoveryOptions recovery;
    recovery.resume = options_.resume;
    recovery.max_attempts = options_.max_attempts;
    recovery.configured = [this](const std::string& account) { return book_.Client(account) != nullptr; };
    recovery.launch = [this](const std::string& run_id) { Launch(run_id); };
    recovery.holder = options_.node_id;
    recovery.lease_ttl = options_.lease_ttl;
    recovery.watch = &heartbeats_;
    recovery.running_here = [this](const std::string& run_id) {
      std::lock_guard lk(mu_);
      return active_.contains(run_id) || starting_.contains(run_id);
    };
    return recovery;
  }

  // This node's heartbeat: alive until now + lease_ttl.
  Status Beat() {
    Step beat;
    beat.writes.push_back({std::string(EventLog::kMetaFamily), HeartbeatKey(options_.node_id),
                           std::to_string(NowUs() + std::chrono::duration_cast<std::chrono::microseconds>(options_.lease_ttl).count())});
    return log_.Append(std::move(beat)).status();
  }

  // Several nodes on one log: beat, and now and then take over the runs of nodes that stopped.
  void KeepAlive() {
    if (Status s = Beat(); !s.ok()) spdlog::warn("heartbeat not written: {}", s.ToString());
    const auto now = std::chrono::steady_clock::now();
    if (now < next_takeover_scan_) return;
    next_takeover_scan_ = now + options_.lease_ttl / 2;
    RecoveryOptions scan = Recovery();
    scan.while_serving = true;
    if (Status s = RecoverRuns(journal_, scan); !s.ok()) spdlog::warn("looking for orphaned runs: {}", s.ToString());
  }

  std::string NewId() {
    std::lock_guard lk(id_mu_);
    return FormatRunId(NowUs(), static_cast<uint32_t>(id_rng_()));
  }

  void SignalCancel(const std::string& run_id) {
    std::lock_guard lk(mu_);
    auto it = active_.find(run_id);
    if (it != active_.end()) it->second->Stop(true);
  }

  // Starts the run, or queues it while max_runs_in_flight runs are going.
  void Launch(const std::string& run_id) {
    auto active = std::make_shared<RunFlags>();
    {
      std::lock_guard lk(mu_);
      if (shutting_down_) active->Stop(false);
      active_[run_id] = active;
      if (running_ >= options_.max_runs_in_flight && !shutting_down_) {
        queued_.push_back(run_id);
        return;
      }
      ++running_;
    }
    Spawn(run_id, active);
  }

  void Spawn(const std::string& run_id, std::shared_ptr<RunFlags> active) {
    boost::asio::co_spawn(runs_.context(), RunJob(run_id, std::move(active)), [](std::exception_ptr) {});
  }

  // One run, then the next queued one. Never throws: an exception is a stopped run, logged.
  Task<void> RunJob(std::string run_id, std::shared_ptr<RunFlags> active) {
    Status s;
    try {
      s = co_await Execute(run_id, *active);
    } catch (const std::exception& e) {
      s = Status::Internal(e.what());
    }
    if (!s.ok()) spdlog::error("run {} stopped: {}", run_id, s.ToString());
    std::string next;
    std::shared_ptr<RunFlags> next_flags;
    {
      std::lock_guard lk(mu_);
      active_.erase(run_id);
      if (!queued_.empty()) {
        next = std::move(queued_.front());
        queued_.pop_front();
        next_flags = active_[next];
      } else {
        --running_;
      }
    }
    changed_cv_.notify_all();
    if (next_flags) Spawn(next, std::move(next_flags));
  }

  Task<Status> Execute(const std::string& run_id, RunFlags& active) {
    MS_CO_ASSIGN_OR_RETURN(RunState state, journal_.Load(run_id, true));
    if (state.record.terminal()) co_return Status::Ok();
    state.holder = options_.node_id;
    std::shared_ptr<emag::EmagClient> client = book_.Client(state.record.account_type);
    if (client == nullptr) {
      co_return Status::FailedPrecondition("account " + state.record.account_type + " is not configured");
    }
    RunExecutor executor(journal_, raw_hashes_, writer_, *client, {options_.page_window, options_.run_deadline, options_.lease_ttl.count() > 0});
    co_return co_await executor.Execute(std::move(state), active);
  }

  // Starts a full sync of each enabled account whose time has come: first at a point of its
  // interval (its own, else the server's) that its name picks, plus up to a tenth of jitter, so
  // many accounts spread over the interval instead of starting together; then every interval.
  void ScheduledSyncs() {
    const auto now = std::chrono::steady_clock::now();
    for (const auto& account : book_.Names(true)) {
      const uint32_t own = book_.ScheduleMinutes(account);
      const std::chrono::milliseconds interval = own > 0 ? std::chrono::minutes(own) : options_.schedule_interval;
      if (interval <= 0ms) continue;
      {
        std::lock_guard lk(mu_);
        auto [it, fresh] = next_scheduled_.try_emplace(account, now + Spread(account, interval));
        if (fresh || now < it->second) continue;
        it->second = now + interval;
      }
      StartSyncRequest req;
      req.account_type = account;
      req.mode = ToString(SyncMode::kFull);
      req.include_inactive = true;
      req.triggered_by = "scheduler";
      auto r = StartSync(req);
      if (!r.ok()) spdlog::info("scheduled sync of {} skipped: {}", account, r.status().message());
    }
  }

  // Where in `interval` an account's first scheduled sync falls: a point its name picks, plus a
  // random jitter of up to a tenth of the interval.
  std::chrono::milliseconds Spread(const std::string& account, std::chrono::milliseconds interval) {
    const auto span = static_cast<uint64_t>(std::max<int64_t>(1, interval.count()));
    std::lock_guard lk(id_mu_);
    const uint64_t jitter = id_rng_() % std::max<uint64_t>(1, span / 10);
    return std::chrono::milliseconds(static_cast<int64_t>((std::hash<std::string>()(account) + jitter) % span));
  }

  EventLog& log_;
  EngineOptions options_;
  RawHashIndex raw_hashes_;
  mutable RunJournal journal_;
  AccountBook book_;
  StepWriter writer_;
  // The runs' own threads. Preparing pages is CPU work; on the IoPool it queued ahead of the
  // network's handlers, whose reactor then ran seconds apart at 1,000 accounts (answers sat
  // unread in their sockets, connections were held, more were opened). A little nicer than the
  // IoPool, so the network's schedule goes on while pages wait to be prepared (accounts_bench,
  // 1,000 accounts: 80 s -> 65 s, 5,274 -> 4,066 requests). Last: joined first.
  emag::IoPool runs_{emag::DefaultIoThreads(), "ms-run", 5};
  std::atomic<bool> ready_{false};

  // guards active_, queued_, running_, started_, shutting_down_, scheduler_, next_scheduled_
  std::mutex mu_;
  std::condition_variable changed_cv_;  // a run ended, or shutting down
  std::map<std::string, std::shared_ptr<RunFlags>> active_;  // running or queued
  std::set<std::string> starting_;  // their start step being appended, not launched yet
  HeartbeatWatch heartbeats_;  // other nodes' heartbeat rows, as this node saw them change
  std::deque<std::string> queued_;  // launched, waiting for one of max_runs_in_flight
  uint32_t running_ = 0;
  bool started_ = false;
  bool shutting_down_ = false;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<Scheduler> liveness_;  // KeepAlive, with lease_ttl above zero
  std::chrono::steady_clock::time_point next_takeover_scan_{};  // KeepAlive's thread only
  std::map<std::string, std::chrono::steady_clock::time_point> next_scheduled_;

  std::mutex id_mu_;  // guards id_rng_
  std::mt19937_64 id_rng_{std::random_device{}()};
};

}  // namespace

std::vector<std::string> SyncEngine::ColumnFamilies() {
  return {std::string(kProductsFamily), std::string(kCredentialsFamily)};
}

Result<std::unique_ptr<SyncEngine>> SyncEngine::Create(EventLog& log, EngineOptions options) {
  auto engine = std::make_unique<Engine>(log, std::move(options));
  MS_RETURN_IF_ERROR(engine->Init());
  return std::unique_ptr<SyncEngine>(std::move(engine));
}

}  // namespace marketsync
