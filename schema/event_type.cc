#include "schema/event_type.h"

#include <array>
#include <boost/json/serialize.hpp>

#include "schema/account_events.h"
#include "schema/payload_codec.h"
#include "schema/sync_events.h"
#include "schema/visit_json.h"

namespace marketsync {
namespace {

template <Payload T>
Result<std::string> PayloadToJson(uint16_t version, std::string_view bytes) {
  MS_ASSIGN_OR_RETURN(T payload, DecodePayload<T>(version, bytes));
  return boost::json::serialize(JsonObjectOf(payload, FieldsOfVersion<T>(version)));
}

template <Payload T>
constexpr EventTypeInfo Info(std::string_view name) {
  return EventTypeInfo{T::kType, name, T::kVersion, &PayloadToJson<T>};
}

// In id order; FindEventType relies on it.
constexpr std::array kTypes = {
    Info<SyncRequested>("SyncRequested"),
    Info<SyncStarted>("SyncStarted"),
    Info<PageCommitted>("PageCommitted"),
    Info<PageFailed>("PageFailed"),
    Info<ProductCreated>("ProductCreated"),
    Info<ProductUpdated>("ProductUpdated"),
    Info<ProductRemoved>("ProductRemoved"),
    Info<SyncCancelRequested>("SyncCancelRequested"),
    Info<SyncCancelled>("SyncCancelled"),
    Info<SyncInterrupted>("SyncInterrupted"),
    Info<SyncResumed>("SyncResumed"),
    Info<SyncCompleted>("SyncCompleted"),
    Info<SyncCompletedWithGaps>("SyncCompletedWithGaps"),
    Info<SyncFailed>("SyncFailed"),
    Info<SyncCounted>("SyncCounted"),
    Info<AccountAdded>("AccountAdded"),
    Info<AccountChanged>("AccountChanged"),
    Info<AccountRemoved>("AccountRemoved"),
};

constexpr bool IdsAreDense() {
  for (size_t i = 0; i < kTypes.size(); ++i) {
    if (static_cast<size_t>(kTypes[i].type) != i + 1) return false;
  }
  return true;
}
static_assert(IdsAreDense(), "kTypes must list every EventType in id order, starting at 1");

}  // namespace

std::span<const EventTypeInfo> AllEventTypes() { return kTypes; }

const EventTypeRegistry& SyncEventTypes() {
  static const EventTypeRegistry registry = [] {
    std::vector<EventTypeSpec> specs;
    for (const auto& info : kTypes) {
      specs.push_back({static_cast<uint16_t>(info.type), std::string(info.name), info.current_version});
    }
    return EventTypeRegistry(std::move(specs));
  }();
  return registry;
}

const EventTypeInfo* FindEventType(uint16_t id) {
  if (id == 0 || id > kTypes.size()) return nullptr;
  return &kTypes[id - 1];
}

const EventTypeInfo* FindEventTypeByName(std::string_view name) {
  for (const auto& info : kTypes) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::string EventTypeName(uint16_t id) {
  if (const EventTypeInfo* info = FindEventType(id)) return std::string(info->name);
  return "Unknown(" + std::to_string(id) + ")";
}

}  // namespace marketsync
