#pragma once

// IdHashMap: a flat hash map from 64-bit ids (offer ids) to small values, for the per-offer
// tables that hot loops keep in memory (the engine's raw-hash index, the catalog's whole-log
// fold).

#include <cstddef>
#include <cstdint>
#include <vector>

namespace marketsync {

// Open addressing with linear probing and backward-shift deletion (no tombstones), at most
// 7/10 full: for a 16-byte value, 24 bytes a slot, ~35 bytes an entry where a node-based map
// takes ~70. Fibonacci hashing spreads dense ids. Thread safety: none (the owner locks).
template <typename V>
class IdHashMap {
 public:
  size_t size() const { return size_; }

  // The value of `id`, or nullptr; valid until the next Set or Erase.
  const V* Find(uint64_t id) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = Home(id);; i = Next(i)) {
      if (!used_[i]) return nullptr;
      if (slots_[i].id == id) return &slots_[i].value;
    }
  }
  // Inserts `id` unless present; true when it was inserted.
  bool Insert(uint64_t id, const V& value) {
    const size_t i = SlotFor(id);
    if (used_[i]) return false;
    Occupy(i, id, value);
    return true;
  }
  // Makes room for `n` entries in all, so that inserting them does not grow the table.
  void Reserve(size_t n) {
    while (n * 10 > slots_.size() * 7) Grow();
  }
  // Calls fn(id, value) for every entry, in no particular order.
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (used_[i]) fn(slots_[i].id, slots_[i].value);
    }
  }
  // Inserts or replaces.
  void Set(uint64_t id, const V& value) {
    const size_t i = SlotFor(id);
    if (used_[i]) {
      slots_[i].value = value;
    } else {
      Occupy(i, id, value);
    }
  }
  // Removes `id` if present.
  void Erase(uint64_t id) {
    if (slots_.empty()) return;
    size_t i = Home(id);
    for (;; i = Next(i)) {
      if (!used_[i]) return;
      if (slots_[i].id == id) break;
    }
    // Backward shift: move later members of the probe run into the hole when their home
    // position allows it, so lookups never need tombstones.
    for (size_t j = Next(i);; j = Next(j)) {
      if (!used_[j]) break;
      const size_t home = Home(slots_[j].id);
      const bool may_move = i <= j ? (home <= i || home > j) : (home <= i && home > j);
      if (may_move) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    used_[i] = false;
    --size_;
  }

 private:
  struct Slot {
    uint64_t id = 0;
    V value{};
  };
  size_t Home(uint64_t id) const {
    const uint64_t h = id * 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(h >> (64 - bits_));
  }
  size_t Next(size_t i) const { return (i + 1) & (slots_.size() - 1); }
  // The slot holding `id`, or the empty one where it goes (growing first if one more entry
  // would pass 7/10 full).
  size_t SlotFor(uint64_t id) {
    if ((size_ + 1) * 10 > slots_.size() * 7) Grow();
    size_t i = Home(id);
    while (used_[i] && slots_[i].id != id) i = Next(i);
    return i;
  }
  void Occupy(size_t i, uint64_t id, const V& value) {
    slots_[i] = {id, value};
    used_[i] = true;
    ++size_;
  }
  void Grow() {
    std::vector<Slot> old_slots = std::move(slots_);
    std::vector<bool> old_used = std::move(used_);
    bits_ = old_slots.empty() ? 10 : bits_ + 1;
    slots_.assign(size_t{1} << bits_, Slot{});
    used_.assign(size_t{1} << bits_, false);
    size_ = 0;
    for (size_t i = 0; i < old_slots.size(); ++i) {
      if (old_used[i]) Set(old_slots[i].id, old_slots[i].value);
    }
  }

  std::vector<Slot> slots_;
  std::vector<bool> used_;
  size_t size_ = 0;
  int bits_ = 0;
};

}  // namespace marketsync
