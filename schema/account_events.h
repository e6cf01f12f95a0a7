#pragma once

// Payloads of the account events (issue 16: accounts as data). An account's life is the stream
// "account-<name>": AccountAdded, AccountChanged..., AccountRemoved (and AccountAdded again if the
// name is reused). Who did it and what changed are here; the credentials never are: they live
// sealed in a store beside the log (engine/account_store.h), which can forget them.

#include <cstdint>
#include <string>
#include <vector>

#include "schema/event_type.h"

namespace marketsync {

// An account's settings as an event records them (everything but the credentials).
struct AccountSettings {
  std::string base_url;
  bool enabled = true;
  uint32_t schedule_minutes = 0;  // 0: the server's --schedule-minutes
  std::string source;             // "api": stored sealed; "environment": held in memory only
  std::string key_id;             // the secret key the stored credentials are sealed under; "" when not stored
  template <class V> void Visit(V&& v) {
    v("base_url", base_url);
    v("enabled", enabled);
    v("schedule_minutes", schedule_minutes);
    v("source", source);
    v("key_id", key_id);
  }
};

struct AccountAdded {
  static constexpr EventType kType = EventType::kAccountAdded;
  static constexpr uint16_t kVersion = 1;
  std::string name;
  AccountSettings settings;
  std::string by;  // "operator" (the API's operator token), "environment", "cli"
  template <class V> void Visit(V&& v) {
    v("name", name);
    v("settings", settings);
    v("by", by);
  }
};

struct AccountChanged {
  static constexpr EventType kType = EventType::kAccountChanged;
  static constexpr uint16_t kVersion = 1;
  std::string name;
  std::vector<std::string> changed;  // "base_url", "enabled", "schedule_minutes", "credentials", "key"
  AccountSettings settings;          // as they are after the change
  std::string by;
  template <class V> void Visit(V&& v) {
    v("name", name);
    v("changed", changed);
    v("settings", settings);
    v("by", by);
  }
};

struct AccountRemoved {
  static constexpr EventType kType = EventType::kAccountRemoved;
  static constexpr uint16_t kVersion = 1;
  std::string name;
  bool mirror_purged = false;  // its offers were removed from the mirror in the same step
  uint64_t offers_purged = 0;
  std::string by;
  template <class V> void Visit(V&& v) {
    v("name", name);
    v("mirror_purged", mirror_purged);
    v("offers_purged", offers_purged);
    v("by", by);
  }
};

}  // namespace marketsync
