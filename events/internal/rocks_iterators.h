#pragma once

// The RocksDB log's iterators: stored envelopes, decoded envelopes, and rows of any column
// family. Internal to events/.

#include <rocksdb/db.h>

#include <memory>
#include <string_view>

#include "events/envelope_codec.h"
#include "events/event_log.h"
#include "events/internal/rocks_keys.h"

namespace marketsync::internal {

// Stored envelopes front to back: the seq from each key, the bytes as stored.
class RocksStoredIterator final : public StoredEventIterator {
 public:
  RocksStoredIterator(std::unique_ptr<rocksdb::Iterator> it, uint64_t from) : it_(std::move(it)) {
    it_->Seek(EncodeSeqKey(from));
    Load();
  }
  bool Valid() const override { return valid_; }
  void Next() override {
    it_->Next();
    Load();
  }
  uint64_t seq() const override { return seq_; }
  std::string_view bytes() const override { return {it_->value().data(), it_->value().size()}; }
  Status status() const override { return status_; }

 private:
  void Load() {
    valid_ = false;
    if (!it_->Valid()) {
      status_ = FromRocks(it_->status(), "reading events");
      return;
    }
    auto seq = DecodeSeqKey({it_->key().data(), it_->key().size()});
    if (!seq.ok()) {
      status_ = seq.status();
      return;
    }
    seq_ = *seq;
    valid_ = true;
  }

  std::unique_ptr<rocksdb::Iterator> it_;
  uint64_t seq_ = 0;
  bool valid_ = false;
  Status status_;
};

// The same envelopes, checked and decoded; stops at the first that does not decode.
class RocksEventIterator final : public EventIterator {
 public:
  RocksEventIterator(std::unique_ptr<rocksdb::Iterator> it, uint64_t from, const EventTypeRegistry& types)
      : stored_(std::move(it), from), types_(types) {
    Load();
  }
  bool Valid() const override { return valid_; }
  void Next() override {
    stored_.Next();
    Load();
  }
  const Envelope& envelope() const override { return current_; }
  void TakeEnvelope(Envelope* out) override { std::swap(*out, current_); }
  std::string_view raw() const override { return stored_.bytes(); }
  Status status() const override { return status_; }

 private:
  void Load() {
    status_ = stored_.Valid() ? DecodeEnvelopeInto(stored_.bytes(), stored_.seq(), types_, &current_) : stored_.status();
    valid_ = stored_.Valid() && status_.ok();
  }

  RocksStoredIterator stored_;
  const EventTypeRegistry& types_;  // the log's, which outlives its iterators
  Envelope current_;
  bool valid_ = false;
  Status status_;
};

class RocksKvIterator final : public KvIterator {
 public:
  explicit RocksKvIterator(std::unique_ptr<rocksdb::Iterator> it) : it_(std::move(it)) {}
  void Seek(std::string_view key) override { it_->Seek(rocksdb::Slice(key.data(), key.size())); }
  void SeekForPrev(std::string_view key) override {
    it_->SeekForPrev(rocksdb::Slice(key.data(), key.size()));
  }
  void SeekToFirst() override { it_->SeekToFirst(); }
  void SeekToLast() override { it_->SeekToLast(); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  std::string_view key() const override { return {it_->key().data(), it_->key().size()}; }
  std::string_view value() const override { return {it_->value().data(), it_->value().size()}; }
  Status status() const override { return FromRocks(it_->status(), "scanning"); }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace marketsync::internal
