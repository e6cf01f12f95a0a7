#pragma once

// EventTypeRegistry: the event types a log accepts, handed to it by its owner
// (EventLogOptions::types). The log knows no type of its own: it checks that each envelope it
// writes or reads names a registered type and a payload version that type has, and stores the
// payload as bytes.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace marketsync {

struct EventTypeSpec {
  uint16_t id = 0;               // stored in every envelope: never renumber, never reuse
  std::string name;              // "PageCommitted"
  uint16_t current_version = 1;  // payload versions 1..current_version are readable
};

// A value; const methods may be called concurrently.
class EventTypeRegistry {
 public:
  EventTypeRegistry() = default;
  // Requires ids that are unique and non-zero and versions of at least 1 (Validate says).
  explicit EventTypeRegistry(std::vector<EventTypeSpec> specs);

  // kInvalidArgument for an empty registry, a zero or repeated id, or a zero version.
  Status Validate() const;
  bool empty() const { return specs_.empty(); }
  std::span<const EventTypeSpec> all() const { return specs_; }

  // nullptr when the id or name is not registered.
  const EventTypeSpec* Find(uint16_t id) const;
  const EventTypeSpec* FindByName(std::string_view name) const;
  // The registered name, or "Unknown(<id>)".
  std::string Name(uint16_t id) const;

 private:
  std::vector<EventTypeSpec> specs_;  // in id order
  std::vector<int32_t> by_id_;        // id -> index into specs_, -1 for none (ids are few and dense)
};

}  // namespace marketsync
