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

#include "base/clock.h"
#include "base/thread_name.h"
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

bool ValidAccountName(std::string_view name) {
  if (name.empty() || name.size() > 32 || name == "both") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// The engine: commands in, runs out to a worker pool (one RunExecutor per run job), recovery
// and the scheduler at Start. The rules of each part live in their own files (commands.h,
// run_executor.h, recovery.h, scheduler.h); this class holds them together.
class Engine final : public SyncEngine {
 public:
  Engine(EventLog& log, EngineOptions options) : log_(log), options_(std::move(options)), journal_(log, raw_hashes_) {}

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
    MS_RETURN_IF_ERROR(RestoreProductState(log_, raw_hashes_));
    RecoveryOptions recovery;
    recovery.resume = options_.resume;
    recovery.max_attempts = options_.max_attempts;
    recovery.configured = [this](const std::string& account) { return clients_.contains(account); };
    recovery.launch = [this](const std::string& run_id) { Launch(run_id); };
    MS_RETURN_IF_ERROR(RecoverRuns(journal_, recovery));
    ready_ = true;
    if (options_.schedule_interval > 0ms) {
      std::lock_guard lk(mu_);
      if (!shutting_down_) scheduler_ = std::make_unique<Scheduler>(options_.schedule_interval, [this] { ScheduledSyncs(); });
    }
    return Status::Ok();
  }

  bool ready() const override { return ready_.load(); }

  Result<StartSyncResult> StartSync(const StartSyncRequest& request) override {
    MS_ASSIGN_OR_RETURN(std::vector<std::string> accounts, ValidateStartSync(request, names_));
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

  std::vector<std::string> account_names() const override { return names_; }

  emag::EmagClient* client(const std::string& account) override {
    auto it = clients_.find(account);
    return it == clients_.end() ? nullptr : it->second.get();
  }

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
    auto client = clients_.find(state.record.account_type);
    if (client == clients_.end()) {
      return Status::FailedPrecondition("account " + state.record.account_type + " is not configured");
    }
    RunExecutor executor(journal_, raw_hashes_, *client->second, {options_.page_window, options_.run_deadline});
    return executor.Execute(std::move(state), active);
  }

  void ScheduledSyncs() {
    for (const auto& account : names_) {
      StartSyncRequest req;
      req.account_type = account;
      req.mode = ToString(SyncMode::kFull);
      req.include_inactive = true;
      req.triggered_by = "scheduler";
      auto r = StartSync(req);
      if (!r.ok()) spdlog::info("scheduled sync of {} skipped: {}", account, r.status().message());
    }
  }

  EventLog& log_;
  EngineOptions options_;
  RawHashIndex raw_hashes_;
  mutable RunJournal journal_;
  std::map<std::string, std::unique_ptr<emag::EmagClient>> clients_;
  std::vector<std::string> names_;
  std::unique_ptr<boost::asio::thread_pool> pool_;
  std::atomic<bool> ready_{false};

  std::mutex mu_;  // guards active_, started_, shutting_down_, scheduler_
  std::condition_variable changed_cv_;  // a run ended, or shutting down
  std::map<std::string, std::shared_ptr<RunFlags>> active_;
  bool started_ = false;
  bool shutting_down_ = false;
  std::unique_ptr<Scheduler> scheduler_;

  std::mutex id_mu_;  // guards id_rng_
  std::mt19937_64 id_rng_{std::random_device{}()};
};

}  // namespace

std::vector<std::string> SyncEngine::ColumnFamilies() { return {std::string(kProductsFamily)}; }

Result<std::unique_ptr<SyncEngine>> SyncEngine::Create(EventLog& log, EngineOptions options) {
  auto engine = std::make_unique<Engine>(log, std::move(options));
  MS_RETURN_IF_ERROR(engine->Init());
  return std::unique_ptr<SyncEngine>(std::move(engine));
}

}  // namespace marketsync
