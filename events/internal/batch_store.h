#pragma once

// BatchStore: the write overlay of one group's RocksDB WriteBatch. Internal to events/.

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/internal/flat_index.h"
#include "events/internal/rocks_keys.h"
#include "events/projection.h"

namespace marketsync::internal {

// The ProjectionStore of one write batch. Writes are held back in an overlay that reads see
// (read-your-writes on top of the database) and go into the batch once, at Finish: a row that a
// group rewrites per event (an account's offer count, a run's history row) costs one batch
// entry, one memtable insert and one WAL record, not one per event. The writes of a rejected
// step are undone. Finish must come before the batch is written.
//
// The overlay is flat: keys and values are appended to one byte arena, entries sit in a vector
// in first-write order, and a FlatIndex finds them by (family, key). A group of
// page steps holds thousands of writes; none of them allocates once the buffers have grown, and
// the writer keeps one store for all its groups (Reset).
class BatchStore final : public ProjectionStore {
 public:
  BatchStore(rocksdb::DB* db, rocksdb::WriteBatch* batch) : db_(db), batch_(batch) {}

  // Empties the store (keeping its buffers) for the next batch.
  void Reset(rocksdb::WriteBatch* batch) {
    batch_ = batch;
    entries_.clear();
    index_.Clear(kMaxKeptSlots);  // after a huge group: regrow as needed
    arena_.clear();
    undo_.clear();
    entry_mark_ = 0;
    arena_mark_ = 0;
  }

  // Which projection is applying now: only its families may be touched.
  void SetOwner(const std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>>* families,
                std::string_view owner) {
    families_ = families;
    owner_ = owner;
  }
  // A step starts: Rollback undoes what follows.
  void Mark() {
    undo_.clear();
    entry_mark_ = entries_.size();
    arena_mark_ = arena_.size();
  }
  void Rollback() {
    // Values the step replaced come back; the entries it created, and every byte it appended,
    // go (the entries before the mark only refer to bytes before it once restored).
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      if (it->entry < entry_mark_) entries_[it->entry].value = it->previous;
    }
    undo_.clear();
    if (entries_.size() > entry_mark_) {
      entries_.resize(entry_mark_);
      index_.Rebuild(static_cast<uint32_t>(entries_.size()), [this](uint32_t i) { return entries_[i].hash; });
    }
    arena_.resize(arena_mark_);
  }
  // Puts every held-back write into the batch, in the order their keys were first written.
  Status Finish() {
    for (const Entry& e : entries_) {
      const rocksdb::Slice key(arena_.data() + e.key.offset, e.key.size);
      rocksdb::Status s = e.value.present ? batch_->Put(e.cf, key, rocksdb::Slice(arena_.data() + e.value.offset, e.value.size))
                                          : batch_->Delete(e.cf, key);
      MS_RETURN_IF_ERROR(FromRocks(s, "batch write"));
    }
    Reset(batch_);
    return Status::Ok();
  }

  Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key) override {
    MS_ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * h, Family(cf));
    return GetRaw(h, key);
  }
  Status Put(std::string_view cf, std::string_view key, std::string_view value) override {
    MS_ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * h, Family(cf));
    return PutRaw(h, key, value);
  }
  Status Delete(std::string_view cf, std::string_view key) override {
    MS_ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * h, Family(cf));
    return DeleteRaw(h, key);
  }

  // The same, for any column family (step writes and expectations).
  Result<std::optional<std::string>> GetRaw(rocksdb::ColumnFamilyHandle* h, std::string_view key) {
    if (const Entry* e = Find(h, key, Hash(h, key))) {
      if (!e->value.present) return std::optional<std::string>();
      return std::optional<std::string>(std::in_place, arena_.data() + e->value.offset, e->value.size);
    }
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), h, rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromRocks(s, "batch read");
    return std::optional<std::string>(std::move(value));
  }
  Status PutRaw(rocksdb::ColumnFamilyHandle* h, std::string_view key, std::string_view value) {
    Remember(h, key, Append(value, true));
    return Status::Ok();
  }
  Status DeleteRaw(rocksdb::ColumnFamilyHandle* h, std::string_view key) {
    Remember(h, key, Bytes{});
    return Status::Ok();
  }

 private:
  static constexpr size_t kMaxKeptSlots = 1 << 16;
  struct Bytes {  // a range of arena_
    size_t offset = 0;
    uint32_t size = 0;
    bool present = false;  // for a value: false is a delete
  };
  struct Entry {
    rocksdb::ColumnFamilyHandle* cf;
    uint64_t hash;
    Bytes key;
    Bytes value;
  };
  struct Undo {
    size_t entry;
    Bytes previous;
  };

  Result<rocksdb::ColumnFamilyHandle*> Family(std::string_view cf) const {
    auto it = families_ != nullptr ? families_->find(cf) : decltype(families_->end()){};
    if (families_ == nullptr || it == families_->end()) {
      return Status::InvalidArgument("projection " + std::string(owner_) +
                                     " touched a column family it does not own: " + std::string(cf));
    }
    return it->second;
  }
  static uint64_t Hash(rocksdb::ColumnFamilyHandle* h, std::string_view key) {
    return std::hash<std::string_view>{}(key) ^ (reinterpret_cast<uintptr_t>(h) * 0x9E3779B97F4A7C15ull);
  }
  std::string_view KeyOf(const Entry& e) const { return {arena_.data() + e.key.offset, e.key.size}; }
  const Entry* Find(rocksdb::ColumnFamilyHandle* h, std::string_view key, uint64_t hash) const {
    const std::optional<uint32_t> found = index_.Find(hash, [&](uint32_t i) {
      const Entry& e = entries_[i];
      return e.hash == hash && e.cf == h && KeyOf(e) == key;
    });
    return found ? &entries_[*found] : nullptr;
  }
  Bytes Append(std::string_view bytes, bool present) {
    Bytes b{arena_.size(), static_cast<uint32_t>(bytes.size()), present};
    arena_.append(bytes);
    return b;
  }
  void Remember(rocksdb::ColumnFamilyHandle* h, std::string_view key, Bytes value) {
    const uint64_t hash = Hash(h, key);
    if (const Entry* found = Find(h, key, hash)) {
      const size_t index = static_cast<size_t>(found - entries_.data());
      undo_.push_back({index, entries_[index].value});
      entries_[index].value = value;
      return;
    }
    entries_.push_back({h, hash, Append(key, true), value});
    index_.Add(static_cast<uint32_t>(entries_.size() - 1), hash, [this](uint32_t i) { return entries_[i].hash; });
  }

  rocksdb::DB* db_;
  rocksdb::WriteBatch* batch_;
  const std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>>* families_ = nullptr;
  std::string_view owner_;
  std::vector<Entry> entries_;  // first write first
  FlatIndex index_;
  std::string arena_;
  std::vector<Undo> undo_;
  size_t entry_mark_ = 0;
  size_t arena_mark_ = 0;
};

}  // namespace marketsync::internal
