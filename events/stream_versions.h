#pragma once

// StreamVersions: the event log writer's map from stream id to the stream's last version, for
// every stream it has read or appended to. A first sync appends to a hundred thousand new
// product streams; a node-based map of strings took two allocations and a few cache misses
// for each. This one is flat: ids are copied into one byte arena, entries sit in one vector,
// and the table holds entry numbers (open addressing, linear probing, at most half full).
// Entries are never removed one by one, only all at once. Thread safety: none (the writer's).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace marketsync {

class StreamVersions {
 public:
  using Entry = uint32_t;

  size_t size() const { return entries_.size(); }

  // The entry of `stream_id`, if it has one.
  std::optional<Entry> Find(std::string_view stream_id) const {
    if (slots_.empty()) return std::nullopt;
    const uint64_t h = Hash(stream_id);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == 0) return std::nullopt;
      const Entry e = slots_[i] - 1;
      if (entries_[e].hash == h && Key(e) == stream_id) return e;
    }
  }
  // Adds `stream_id`, which must have no entry yet, at `version`.
  Entry Insert(std::string_view stream_id, uint64_t version) {
    if ((entries_.size() + 1) * 2 > slots_.size()) Grow();
    const uint64_t h = Hash(stream_id);
    const auto e = static_cast<Entry>(entries_.size());
    entries_.push_back({h, version, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(stream_id.size())});
    keys_.append(stream_id);
    Place(h, e);
    return e;
  }
  uint64_t& version(Entry e) { return entries_[e].version; }
  // Forgets every stream and frees the memory they took.
  void Clear() {
    slots_ = {};
    entries_ = {};
    keys_ = {};
    mask_ = 0;
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
  void Place(uint64_t h, Entry e) {
    size_t i = h & mask_;
    while (slots_[i] != 0) i = (i + 1) & mask_;
    slots_[i] = e + 1;
  }
  void Grow() {
    const size_t n = slots_.empty() ? 1024 : slots_.size() * 2;
    slots_.assign(n, 0);
    mask_ = n - 1;
    for (Entry e = 0; e < entries_.size(); ++e) Place(entries_[e].hash, e);
  }

  std::vector<Entry> slots_;  // entry + 1; 0 is empty
  std::vector<Item> entries_;
  std::string keys_;
  size_t mask_ = 0;
};

}  // namespace marketsync
