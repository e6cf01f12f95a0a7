#pragma once

// SyncEngine: the commands that start and cancel syncs, and the workers that run them
// (DESIGN.md §5). Every step of a run is one synced write of the event log; a run's lease,
// idempotency key and product state land in the same writes, so a crash loses nothing that was
// acknowledged and a restart resumes what was running.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/emag/client.h"
#include "engine/sealed_credentials.h"
#include "events/event_log.h"
#include "projections/accounts.h"
#include "projections/run_record.h"
#include "schema/store_keys.h"

namespace marketsync {

// A start as the caller asked for it; the engine validates every field (SyncEngine::StartSync).
struct StartSyncRequest {
  std::string account_type;  // a configured account, or "both" for every configured account
  std::string mode = "full";  // "full" | "incremental"
  std::optional<int64_t> max_pages;  // none, or 1..1,000,000
  int64_t items_per_page = 100;      // 1..100
  bool include_inactive = false;
  std::string conflict_strategy = "emag_priority";
  std::string idempotency_key;        // optional, up to 200 bytes
  std::string triggered_by = "api";
};

struct RunRef {
  std::string run_id;
  std::string account;
};

struct StartSyncResult {
  std::string group_id;
  std::vector<RunRef> runs;
  bool replayed = false;  // an idempotency key already seen: these are the original runs
};

struct CancelResult {
  enum class Outcome : uint8_t { kRequested, kAlreadyRequested, kAlreadyFinished };
  Outcome outcome = Outcome::kRequested;
  std::string status;  // the run's status now
};

// An account as an operator adds or changes it: what is given is set, the rest stays (adding
// needs the credentials; the base URL defaults to eMAG's).
struct AccountSpec {
  std::string name;
  std::optional<Credentials> credentials;
  std::optional<std::string> base_url;
  std::optional<bool> enabled;
  std::optional<uint32_t> schedule_minutes;  // 0: the server's schedule
};

struct EngineOptions {
  // Accounts from the environment, recorded at Start with source "environment" and held in
  // memory; more are added at run time (AddAccount) and stored sealed.
  std::vector<emag::Account> accounts;
  // The key stored credentials are sealed under; without one, AddAccount refuses and a
  // database with stored credentials does not start. `previous_secret_key` opens rows sealed
  // under the key being rotated out; Start re-seals them under `secret_key`.
  std::optional<SecretKey> secret_key;
  std::optional<SecretKey> previous_secret_key;
  emag::ClientOptions client;
  uint32_t page_window = 16;  // page requests in flight per run
  // Runs executing at once (coroutines on the IoPool: a waiting run holds no thread); more
  // wait, queued in order (status "requested"). Each running account makes its own requests,
  // at most eMAG's 3 a second, so this bounds memory and connections, not threads.
  uint32_t max_runs_in_flight = 256;
  std::chrono::milliseconds run_deadline{std::chrono::minutes(30)};
  bool resume = true;         // resume interrupted runs at start-up
  uint32_t max_attempts = 3;  // attempts per run, the first included
  // This engine's name on the log, in owner/<run> rows: unique per process (empty: one is made
  // from the host name, the pid and a random number at Create).
  std::string node_id;
  // Zero: this process has the log to itself (RocksDB), so every run found unfinished at
  // Start is its own to resume. Above zero: several nodes share the log (PostgreSQL); each
  // renews its heartbeat row every third of this, takes over (and resumes) a run only once it
  // has seen its owner's heartbeat row unchanged for this long (by its own monotonic clock: no
  // two nodes' clocks are compared), and looks for such runs every half of it.
  std::chrono::milliseconds lease_ttl{0};
  // Periodic syncs of every account (full, inactive offers included); zero turns them off. An
  // account's own schedule_minutes overrides it. Accounts are spread over the interval.
  std::chrono::milliseconds schedule_interval{0};
};

// Thread safety: every method is thread-safe.
class SyncEngine {
 public:
  // Column families the log must be opened with (EventLogOptions::extra_column_families).
  static std::vector<std::string> ColumnFamilies();

  // `log` must outlive the engine and be opened read-write with ColumnFamilies().
  // Errors: kInvalidArgument for bad options (a duplicate or reserved name, a bad URL).
  static Result<std::unique_ptr<SyncEngine>> Create(EventLog& log, EngineOptions options);
  // Shuts down (see Shutdown) and joins every worker.
  virtual ~SyncEngine() = default;

  // Start-up recovery, then the workers and the scheduler. Every run without a terminal event
  // gets SyncInterrupted, then SyncResumed and runs on (a new attempt), or SyncFailed when
  // resuming is off or the attempt limit is reached.
  virtual Status Start() = 0;
  // True once Start() finished recovery.
  virtual bool ready() const = 0;

  // Validates, appends SyncRequested for each run (one per account; "both" shares a group id)
  // and answers once that is durable. Errors: kInvalidArgument (bad request, with what and
  // why), kFailedPrecondition (an account is busy: names the run holding it),
  // kUnavailable (shutting down), kIOError (the log).
  virtual Result<StartSyncResult> StartSync(const StartSyncRequest& request) = 0;
  // Appends SyncCancelRequested (once; later calls say it was already requested). A finished
  // run answers kAlreadyFinished with its status. Errors: kNotFound for an unknown run.
  virtual Result<CancelResult> CancelSync(const std::string& run_id, const std::string& requested_by) = 0;

  // The run as the log tells it. Errors: kNotFound.
  virtual Result<RunRecord> GetRun(const std::string& run_id) const = 0;
  // Blocks until the run is terminal or the timeout passes; returns the record then.
  virtual Result<RunRecord> WaitForRun(const std::string& run_id, std::chrono::milliseconds timeout) = 0;

  // Stops taking commands; running runs stop at a page boundary and record SyncInterrupted
  // (keeping their lease, so the next start resumes them). Blocks until the workers are idle.
  virtual void Shutdown() = 0;

  // Adds an account and stores its credentials sealed (AccountAdded). Errors: kInvalidArgument
  // (a bad name, URL or credentials), kFailedPrecondition (a live account of that name, or no
  // secret key: credentials cannot be stored), the log's.
  virtual Result<AccountRecord> AddAccount(const AccountSpec& spec, const std::string& by) = 0;
  // Changes what `spec` gives (AccountChanged naming the fields; nothing when nothing differs).
  // New credentials take effect for the next run. Errors: kNotFound, kInvalidArgument,
  // kFailedPrecondition (an account from the environment, or no secret key for credentials).
  virtual Result<AccountRecord> ChangeAccount(const AccountSpec& spec, const std::string& by) = 0;
  // Removes an account (AccountRemoved) and forgets its credentials; its history stays. With
  // `purge_mirror` its offers leave the mirror in the same step (ProductRemoved each). Errors:
  // kNotFound, kFailedPrecondition (a run holds the account, or it comes from the environment).
  virtual Result<AccountRecord> RemoveAccount(const std::string& name, bool purge_mirror, const std::string& by) = 0;
  // Every account the log knows, removed ones included, by name.
  virtual Result<std::vector<AccountRecord>> ListAccounts() const = 0;

  // Live accounts (enabled or not), by name.
  virtual std::vector<std::string> account_names() const = 0;
  // The account's client (for test-connection); nullptr for an unknown account.
  virtual std::shared_ptr<emag::EmagClient> client(const std::string& account) = 0;

 protected:
  SyncEngine() = default;
};

}  // namespace marketsync
