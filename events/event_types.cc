#include "events/event_types.h"

#include <algorithm>

namespace marketsync {

EventTypeRegistry::EventTypeRegistry(std::vector<EventTypeSpec> specs) : specs_(std::move(specs)) {
  std::sort(specs_.begin(), specs_.end(), [](const EventTypeSpec& a, const EventTypeSpec& b) { return a.id < b.id; });
  if (!specs_.empty()) by_id_.assign(specs_.back().id + size_t{1}, -1);
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (by_id_[specs_[i].id] < 0) by_id_[specs_[i].id] = static_cast<int32_t>(i);
  }
}

Status EventTypeRegistry::Validate() const {
  if (specs_.empty()) return Status::InvalidArgument("no event types registered: the log must be told its event types");
  for (size_t i = 0; i < specs_.size(); ++i) {
    const EventTypeSpec& s = specs_[i];
    if (s.id == 0) return Status::InvalidArgument("event type " + s.name + " has id 0 (ids start at 1)");
    if (i > 0 && specs_[i - 1].id == s.id) {
      return Status::InvalidArgument("event types " + specs_[i - 1].name + " and " + s.name + " share id " +
                                     std::to_string(s.id));
    }
    if (s.current_version == 0) return Status::InvalidArgument("event type " + s.name + " has payload version 0");
  }
  return Status::Ok();
}

const EventTypeSpec* EventTypeRegistry::Find(uint16_t id) const {
  if (id >= by_id_.size() || by_id_[id] < 0) return nullptr;
  return &specs_[static_cast<size_t>(by_id_[id])];
}

const EventTypeSpec* EventTypeRegistry::FindByName(std::string_view name) const {
  for (const auto& s : specs_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string EventTypeRegistry::Name(uint16_t id) const {
  if (const EventTypeSpec* s = Find(id)) return s->name;
  return "Unknown(" + std::to_string(id) + ")";
}

}  // namespace marketsync
