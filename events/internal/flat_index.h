#pragma once

// FlatIndex: finds the entries of a vector its owner keeps, by a 64-bit hash of their keys.
// Open addressing with linear probing over entry numbers, at most 7/10 full. Entries are never
// removed one by one: an owner that drops its last entries rebuilds the index. Behind the log
// writer's overlay (BatchStore) and its stream versions (StreamVersions), whose keys live in
// byte arenas. Thread safety: none (the owner's).

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace marketsync {

class FlatIndex {
 public:
  // The first entry with this hash for which is_match(entry) holds.
  template <typename Match>
  std::optional<uint32_t> Find(uint64_t hash, Match is_match) const {
    if (slots_.empty()) return std::nullopt;
    for (size_t i = hash & Mask();; i = (i + 1) & Mask()) {
      if (slots_[i] == 0) return std::nullopt;
      if (is_match(slots_[i] - 1)) return slots_[i] - 1;
    }
  }
  // Indexes entry number `entry`, the owner's newest (entries 0..entry-1 are indexed);
  // hash_of(i) gives an earlier entry's hash when the table grows.
  template <typename HashOf>
  void Add(uint32_t entry, uint64_t hash, HashOf hash_of) {
    if ((size_t{entry} + 1) * 10 > slots_.size() * 7) {
      slots_.assign(std::max<size_t>(1024, slots_.size() * 2), 0u);
      Rebuild(entry, hash_of);
    }
    Place(hash, entry);
  }
  // Indexes entries 0..count-1 anew (after the owner dropped the ones after them).
  template <typename HashOf>
  void Rebuild(uint32_t count, HashOf hash_of) {
    std::fill(slots_.begin(), slots_.end(), 0u);
    for (uint32_t i = 0; i < count; ++i) Place(hash_of(i), i);
  }
  // Forgets every entry; keeps the table's memory unless it has more than max_kept_slots.
  void Clear(size_t max_kept_slots) {
    if (slots_.size() > max_kept_slots) {
      slots_ = {};
    } else {
      std::fill(slots_.begin(), slots_.end(), 0u);
    }
  }

 private:
  size_t Mask() const { return slots_.size() - 1; }
  void Place(uint64_t hash, uint32_t entry) {
    size_t i = hash & Mask();
    while (slots_[i] != 0) i = (i + 1) & Mask();
    slots_[i] = entry + 1;
  }

  std::vector<uint32_t> slots_;  // entry + 1; 0 is empty; a power of two long
};

}  // namespace marketsync
