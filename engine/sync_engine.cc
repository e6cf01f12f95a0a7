#include "engine/sync_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "base/clock.h"
#include "base/thread_name.h"
#include "engine/internal/account_book.h"
#include "engine/internal/commands.h"
#include "engine/internal/raw_hash_index.h"
#include "engine/internal/recovery.h"
#include "engine/internal/run_executor.h"
#include "engine/internal/run_journal.h"
#include "engine/internal/scheduler.h"
#include "schema/run_id.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;

// How often the scheduler looks for accounts whose sync is due (or the server's interval, when
// shorter): an account's own schedule is honoured to within this.
constexpr std::chrono::milliseconds kScheduleTick = std::chrono::minutes(1);

// The engine: commands in, runs out to a worker pool (one RunExecutor per run job), recovery
// and the scheduler at Start. The rules of each part live in their own files (commands.h,
// run_executor.h, recovery.h, scheduler.h); this class holds them together.
class Engine final : public SyncEngine {
 public:
  Engine(EventLog& log, EngineOptions options)
      : log_(log), options_(std::move(options)), journal_(log, raw_hashes_), book_(log, raw_hashes_, options_) {}

  ~Engine() override {
    Shutdown();
    if (pool_) pool_->join();
  }

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
    pool_ = std::make_unique<boost::asio::thread_pool>(options_.max_runs_in_flight);
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
    RecoveryOptions recovery;
    recovery.resume = options_.resume;
    recovery.max_attempts = options_.max_attempts;
    recovery.configured = [this](const std::string& account) { return book_.Client(account) != nullptr; };
    recovery.launch = [this](const std::string& run_id) { Launch(run_id); };
    MS_RETURN_IF_ERROR(RecoverRuns(journal_, recovery));
    ready_ = true;
    {
      std::lock_guard lk(mu_);
      const auto tick = options_.schedule_interval > 0ms ? std::min(options_.schedule_interval, kScheduleTick) : kScheduleTick;
      if (!shutting_down_) scheduler_ = std::make_unique<Scheduler>(tick, [this] { ScheduledSyncs(); });
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
    auto appended = log_.Append(StartStep(request, accounts, result.group_id, run_ids));
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
    {
      std::lock_guard lk(mu_);
      if (shutting_down_) return;
      shutting_down_ = true;
      for (auto& [id, run] : active_) {
        run->interrupt = true;
        run->stop = true;
      }
      scheduler = std::move(scheduler_);
    }
    changed_cv_.notify_all();
    scheduler.reset();  // stops and joins it (its tick may be starting syncs: they are refused)
    std::unique_lock lk(mu_);
    changed_cv_.wait(lk, [&] { return active_.empty(); });
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
  std::string NewId() {
    std::lock_guard lk(id_mu_);
    return FormatRunId(NowUs(), static_cast<uint32_t>(id_rng_()));
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
    auto active = std::make_shared<RunFlags>();
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

  Status Execute(const std::string& run_id, RunFlags& active) {
    MS_ASSIGN_OR_RETURN(RunState state, journal_.Load(run_id, true));
    if (state.record.terminal()) return Status::Ok();
    std::shared_ptr<emag::EmagClient> client = book_.Client(state.record.account_type);
    if (client == nullptr) {
      return Status::FailedPrecondition("account " + state.record.account_type + " is not configured");
    }
    RunExecutor executor(journal_, raw_hashes_, *client, {options_.page_window, options_.run_deadline});
    return executor.Execute(std::move(state), active);
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
  std::unique_ptr<boost::asio::thread_pool> pool_;
  std::atomic<bool> ready_{false};

  std::mutex mu_;  // guards active_, started_, shutting_down_, scheduler_, next_scheduled_
  std::condition_variable changed_cv_;  // a run ended, or shutting down
  std::map<std::string, std::shared_ptr<RunFlags>> active_;
  bool started_ = false;
  bool shutting_down_ = false;
  std::unique_ptr<Scheduler> scheduler_;
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
