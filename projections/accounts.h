#pragma once

// The accounts projection: every account the log knows, with its settings, where they came from,
// and when and by whom it was added, last changed and removed. A removed account keeps its row
// (removed: true), so its history still has a name to point at; adding the name again reuses it.
//
// Column family proj_accounts:
//   account name -> AccountRecord (payload encoding)

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/projection.h"
#include "schema/account_events.h"

namespace marketsync {

struct AccountRecord {
  std::string name;
  AccountSettings settings;
  bool removed = false;
  bool mirror_purged = false;
  int64_t added_at_us = 0;
  int64_t changed_at_us = 0;  // the last event's time (added, changed or removed)
  std::string changed_by;
  uint64_t version = 0;       // the account stream's version after the last event
  template <class V> void Visit(V&& v) {
    v("name", name);
    v("settings", settings);
    v("removed", removed);
    v("mirror_purged", mirror_purged);
    v("added_at_us", added_at_us);
    v("changed_at_us", changed_at_us);
    v("changed_by", changed_by);
    v("version", version);
  }
};

class AccountsProjection final : public Projection {
 public:
  static constexpr std::string_view kName = "accounts";
  static constexpr std::string_view kFamily = "proj_accounts";

  std::string_view name() const override { return kName; }
  std::vector<std::string> column_families() const override { return {std::string(kFamily)}; }
  Status Apply(const Envelope& event, ProjectionStore& store) override;
};

// Folds one event of an account stream into `record`. Errors: kCorruption for a payload that does
// not decode.
Status ApplyAccountEvent(AccountRecord& record, const Envelope& event);

// Every account the log knows, removed ones included, by name. Errors: kCorruption, kIOError.
Result<std::vector<AccountRecord>> ListAccounts(const KvReader& reader);
// One account; nullopt when the log never knew it. Errors: kCorruption, kIOError.
Result<std::optional<AccountRecord>> FindAccount(const KvReader& reader, std::string_view name);

}  // namespace marketsync
