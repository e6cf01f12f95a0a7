#pragma once

// The accounts the engine syncs, as data (issue 16): their settings folded from the account
// streams (with ApplyAccountEvent, as the accounts projection folds them, so the engine needs no
// projection), their credentials sealed in `engine_credentials` (never in
// the log), and a client per enabled account. Accounts come from two places:
//   - the environment (EngineOptions::accounts): recorded as AccountAdded/Changed/Removed at
//     Load, with source "environment"; their credentials stay in memory and are never stored;
//     the API cannot change them;
//   - the API: AddAccount/ChangeAccount/RemoveAccount, stored sealed under the operator's key.
// Each command is one step (event + sealed row + conditions), so the settings, the credentials
// and the history never disagree.
//
// Thread safety: every method is thread-safe. Commands are serialised; lookups take a shared
// snapshot of the clients, so a run keeps the client it started with when the account changes.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/emag/client.h"
#include "engine/internal/raw_hash_index.h"
#include "engine/sealed_credentials.h"
#include "engine/sync_engine.h"
#include "events/event_log.h"
#include "projections/accounts.h"

namespace marketsync {

// ok for 1-32 characters of a-z, 0-9, _ or -, other than "both"; else kInvalidArgument saying so.
Status CheckAccountName(std::string_view name);

class AccountBook {
 public:
  AccountBook(EventLog& log, RawHashIndex& raw_hashes, const EngineOptions& options);

  // Reads the stored accounts and opens their credentials (re-sealing those under the previous
  // key), then records the environment's accounts. Errors: kFailedPrecondition when stored
  // credentials need a key the engine was not given (names the key ids, never a key), or an
  // account is both in the environment and stored; the log's errors. The seed accounts' names
  // were checked by the engine's Create. Nothing is written when it fails.
  Status Load();

  Result<AccountRecord> Add(const AccountSpec& spec, const std::string& by);
  Result<AccountRecord> Change(const AccountSpec& spec, const std::string& by);
  Result<AccountRecord> Remove(const std::string& name, bool purge_mirror, const std::string& by);
  // Every account the log knows, removed ones included. Errors: the log's.
  Result<std::vector<AccountRecord>> List() const;

  // The client of a live account (enabled or not); nullptr when there is none.
  std::shared_ptr<emag::EmagClient> Client(const std::string& name) const;
  // Live accounts in name order; with `enabled_only`, those a start may use.
  std::vector<std::string> Names(bool enabled_only) const;
  bool Enabled(const std::string& name) const;
  // The account's own schedule (0: the server's).
  uint32_t ScheduleMinutes(const std::string& name) const;

 private:
  struct Live {
    AccountSettings settings;
    std::shared_ptr<emag::EmagClient> client;
  };

  Status LoadStored(const std::vector<AccountRecord>& records, Step& step, std::map<std::string, Live>& next);
  Status SeedEnvironment(const std::vector<AccountRecord>& records, Step& step, std::map<std::string, Live>& next);
  Status Append(Step step);
  Result<AccountRecord> Record(const std::string& name) const;
  // The account folded from its stream; nullopt when it never existed.
  Result<std::optional<AccountRecord>> Find(const std::string& name) const;
  Result<std::shared_ptr<emag::EmagClient>> NewClient(const std::string& name, const Credentials& c,
                                                      const std::string& base_url) const;
  Status PurgeMirror(const std::string& name, Step& step, uint64_t* offers) const;

  EventLog& log_;
  RawHashIndex& raw_hashes_;
  const EngineOptions& options_;

  std::mutex command_mu_;   // one account command at a time (read, append, apply)
  mutable std::mutex mu_;   // guards live_
  std::map<std::string, Live> live_;
};

}  // namespace marketsync
