#pragma once

// StreamVersions: the event log writer's map from stream id to the stream's last version, for
// every stream it has read or appended to. A first sync appends to a hundred thousand new
// product streams; a node-based map of strings took two allocations and a few cache misses
// for each. This one is flat: ids are copied into one byte arena, entries sit in one vector,
// and a FlatIndex finds them. Entries are never removed one by one, only all at once. Thread
// safety: none (the writer's).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/internal/flat_index.h"

namespace marketsync {

class StreamVersions {
 public:
  using Entry = uint32_t;

  size_t size() const { return entries_.size(); }

  // The entry of `stream_id`, if it has one.
  std::optional<Entry> Find(std::string_view stream_id) const {
    const uint64_t h = Hash(stream_id);
    return index_.Find(h, [&](Entry e) { return entries_[e].hash == h && Key(e) == stream_id; });
  }
  // Adds `stream_id`, which must have no entry yet, at `version`.
  Entry Insert(std::string_view stream_id, uint64_t version) {
    const uint64_t h = Hash(stream_id);
    const auto e = static_cast<Entry>(entries_.size());
    entries_.push_back({h, version, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(stream_id.size())});
    keys_.append(stream_id);
    index_.Add(e, h, [this](Entry i) { return entries_[i].hash; });
    return e;
  }
  uint64_t& version(Entry e) { return entries_[e].version; }
  // Forgets every stream and frees the memory they took.
  void Clear() {
    index_.Clear(0);
    entries_ = {};
    keys_ = {};
  }

 private:
  struct Item {
    uint64_t hash;
    uint64_t version;
    uint32_t key_at;  // in keys_
    uint32_t key_size;
  };
  static uint64_t Hash(std::string_view id) { return std::hash<std::string_view>{}(id); }
  std::string_view Key(Entry e) const { return std::string_view(keys_).substr(entries_[e].key_at, entries_[e].key_size); }

  FlatIndex index_;
  std::vector<Item> entries_;
  std::string keys_;
};

}  // namespace marketsync
