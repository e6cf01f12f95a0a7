#pragma once

// The sync domain's event types: type id <-> name <-> payload codec. Every event type is added
// here and in event_type.cc, and nowhere else. SyncEventTypes() is the same list as the
// generic log takes it (EventLogOptions::types).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "events/event_types.h"

namespace marketsync {

// Stored ids: never renumber, never reuse.
enum class EventType : uint16_t {
  kSyncRequested = 1,
  kSyncStarted = 2,
  kPageCommitted = 3,
  kPageFailed = 4,
  kProductCreated = 5,
  kProductUpdated = 6,
  kProductRemoved = 7,
  kSyncCancelRequested = 8,
  kSyncCancelled = 9,
  kSyncInterrupted = 10,
  kSyncResumed = 11,
  kSyncCompleted = 12,
  kSyncCompletedWithGaps = 13,
  kSyncFailed = 14,
  kSyncCounted = 15,
  kAccountAdded = 16,
  kAccountChanged = 17,
  kAccountRemoved = 18,
};

struct EventTypeInfo {
  EventType type;
  std::string_view name;        // "PageCommitted"
  uint16_t current_version;     // the payload version this build writes
  // Renders a stored payload of the given version as a JSON object.
  // Errors: kCorruption for bytes that do not decode or a version newer than current_version.
  Result<std::string> (*payload_to_json)(uint16_t version, std::string_view payload);
};

// The registry every sync log is opened with: each type's id, name and current version.
const EventTypeRegistry& SyncEventTypes();

// Every registered type, in id order.
std::span<const EventTypeInfo> AllEventTypes();
// nullptr when the id or name is not registered.
const EventTypeInfo* FindEventType(uint16_t id);
const EventTypeInfo* FindEventTypeByName(std::string_view name);

inline bool IsRegisteredEventType(uint16_t id) { return FindEventType(id) != nullptr; }
// The registered name, or "Unknown(<id>)".
std::string EventTypeName(uint16_t id);

}  // namespace marketsync
