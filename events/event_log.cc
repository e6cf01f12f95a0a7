#include "events/event_log.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <atomic>
#include <thread>
#include <unordered_map>

#include "events/envelope_codec.h"
#include "events/projection_fold.h"
#include "events/flat_index.h"
#include "events/internal/coding.h"
#include "events/stream_versions.h"

namespace marketsync {
namespace {

constexpr std::string_view kHeadKey = "head";
constexpr std::string_view kCheckpointPrefix = "checkpoint/";
// Stream versions cached by the writer; cleared when it grows past this many streams.
constexpr size_t kMaxCachedStreams = 1 << 20;
// A group's write batch is kept for the next group unless it grew past this.
constexpr size_t kMaxKeptBatchBytes = 32u << 20;
// Most events one StreamAppend may carry (one streams row counts them in a u32).
constexpr size_t kMaxEventsPerStreamAppend = 1 << 20;

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(std::move(msg));
  if (s.IsCorruption()) return Status::Corruption(std::move(msg));
  if (s.IsInvalidArgument()) return Status::InvalidArgument(std::move(msg));
  return Status::IOError(std::move(msg));
}

// Reads that may cross prefixes (a scan of a whole family). The streams family has a prefix
// extractor, and RocksDB's default read mode would stop honouring order past one stream.
rocksdb::ReadOptions TotalOrder() {
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  return ro;
}

int64_t SystemNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `streams` rows: one per run of consecutive events a step appends to a stream.
//   key   := stream_id 0x00 first_version:u64be
//   value := first_seq:u64be count:u32be      (versions first_version.. are seqs first_seq..)
// Sets *k to the key (a buffer the caller reuses).
void SetStreamKey(std::string* k, std::string_view stream_id, uint64_t version) {
  k->assign(stream_id);
  k->push_back('\0');
  internal::PutFixed64BE(k, version);
}

std::string StreamKey(std::string_view stream_id, uint64_t version) {
  std::string k;
  k.reserve(stream_id.size() + 9);
  SetStreamKey(&k, stream_id, version);
  return k;
}

std::string StreamValue(uint64_t first_seq, uint32_t count) {
  std::string v;
  internal::PutFixed64BE(&v, first_seq);
  internal::PutFixed32BE(&v, count);
  return v;
}

// The stream a `streams` key belongs to (the key without its version): the prefix that the
// family's bloom filters hold, so that looking up a stream that has no rows (every new product
// stream of a first sync) is a filter probe instead of a search of the memtable and every file.
// Reads stay inside one stream; Scan of the whole family asks for total order.
class StreamPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "marketsync.StreamPrefix.v1"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return {key.data(), key.size() - 8}; }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() >= 9; }
};

struct StreamRange {
  uint64_t first_version = 0;
  uint64_t first_seq = 0;
  uint32_t count = 0;
};

bool IsStreamKeyOf(std::string_view key, std::string_view stream_id) {
  return key.size() == stream_id.size() + 9 && key.substr(0, stream_id.size()) == stream_id &&
         key[stream_id.size()] == '\0';
}

Result<StreamRange> DecodeStreamRow(std::string_view key, std::string_view value) {
  if (value.size() != 12 || key.size() < 9) return Status::Corruption("malformed streams row");
  StreamRange r;
  r.first_version = internal::GetFixed64BE(key.data() + key.size() - 8);
  r.first_seq = internal::GetFixed64BE(value.data());
  r.count = internal::GetFixed32BE(value.data() + 8);
  if (r.count == 0) return Status::Corruption("empty streams row");
  return r;
}

std::string EncodeHead(const LogHead& head) {
  std::string v;
  internal::PutFixed64BE(&v, head.seq);
  v.append(reinterpret_cast<const char*>(head.hash.data()), head.hash.size());
  return v;
}

Result<LogHead> DecodeHead(std::string_view v) {
  if (v.size() != 8 + 32) return Status::Corruption("meta/head has " + std::to_string(v.size()) + " bytes, want 40");
  LogHead head;
  head.seq = internal::GetFixed64BE(v.data());
  std::copy(v.begin() + 8, v.end(), head.hash.begin());
  return head;
}

std::string CheckpointKey(std::string_view projection) {
  return std::string(kCheckpointPrefix) + std::string(projection);
}

std::string RebuildMarkerKey(std::string_view projection) {
  return "rebuilding/" + std::string(projection);
}

std::string VersionKey(std::string_view projection) {
  return "projection_version/" + std::string(projection);
}

std::string EncodeVersion(uint32_t v) {
  std::string out;
  internal::PutFixed32BE(&out, v);
  return out;
}

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
  RocksEventIterator(std::unique_ptr<rocksdb::Iterator> it, uint64_t from) : stored_(std::move(it), from) { Load(); }
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
    status_ = stored_.Valid() ? DecodeEnvelopeInto(stored_.bytes(), stored_.seq(), &current_) : stored_.status();
    valid_ = stored_.Valid() && status_.ok();
  }

  RocksStoredIterator stored_;
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

// One Append call waiting in the queue. Lives on its caller's stack.
// One step of an Append or AppendAll call waiting in the queue. Lives on its caller's stack;
// the steps of one call share the caller's condition variable.
struct PendingAppend {
  Step* step = nullptr;
  std::optional<Result<AppendResult>> result;  // set by the leader that wrote it
  bool leader = false;                         // the caller is to write the next group
  std::condition_variable* cv = nullptr;
};

class RocksEventLog final : public EventLog {
 public:
  // Holds the writer's role for work that is not a group append (rebuild, import): waits for
  // the current group to finish; appends that queue meanwhile wait, then lead as usual.
  class WriterLock {
   public:
    explicit WriterLock(RocksEventLog& log) : log_(log) {
      std::unique_lock lk(log_.queue_mu_);
      log_.idle_cv_.wait(lk, [&] { return !log_.writer_active_; });
      log_.writer_active_ = true;
    }
    ~WriterLock() {
      std::lock_guard lk(log_.queue_mu_);
      if (!log_.queue_.empty()) {
        log_.queue_.front()->leader = true;
        log_.queue_.front()->cv->notify_all();
      } else {
        log_.writer_active_ = false;
        log_.idle_cv_.notify_all();
      }
    }
    WriterLock(const WriterLock&) = delete;
    WriterLock& operator=(const WriterLock&) = delete;

   private:
    RocksEventLog& log_;
  };

  RocksEventLog(std::string path, EventLogOptions options)
      : path_(std::move(path)), options_(std::move(options)) {
    if (!options_.now_us) options_.now_us = &SystemNowUs;
    if (options_.max_group_steps == 0) options_.max_group_steps = 1;
  }

  ~RocksEventLog() override {
    {
      std::unique_lock lk(queue_mu_);
      stopping_ = true;
      idle_cv_.wait(lk, [&] { return !writer_active_; });
    }
    group_streams_it_.reset();
    if (db_ != nullptr) {
      for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
      db_->Close().PermitUncheckedError();
    }
  }

  Status OpenDb() {
    rocksdb::DBOptions db_options;
    db_options.create_if_missing = options_.mode == EventLogOptions::Mode::kReadWrite;
    db_options.create_missing_column_families = db_options.create_if_missing;
    db_options.IncreaseParallelism(2);
    db_options.max_open_files = options_.mode == EventLogOptions::Mode::kSecondary ? -1 : 1000;
    if (options_.env_for_test != nullptr) db_options.env = options_.env_for_test;

    std::vector<std::string> existing;
    rocksdb::Status ls = rocksdb::DB::ListColumnFamilies(db_options, path_, &existing);
    if (!ls.ok()) {
      if (options_.mode != EventLogOptions::Mode::kReadWrite) {
        return Status::NotFound("no event log at " + path_ + ": " + ls.ToString());
      }
      existing = {rocksdb::kDefaultColumnFamilyName};
    }
    std::set<std::string> names(existing.begin(), existing.end());
    if (options_.mode == EventLogOptions::Mode::kReadWrite) {
      names.insert(std::string(kEventsFamily));
      names.insert(std::string(kStreamsFamily));
      names.insert(std::string(kMetaFamily));
      for (const auto& p : options_.projections) {
        for (const auto& cf : p->column_families()) names.insert(cf);
      }
      for (const auto& cf : options_.extra_column_families) names.insert(cf);
    } else if (!names.contains(std::string(kEventsFamily))) {
      return Status::NotFound("no event log at " + path_);
    }

    // One block cache for the point-read families (streams, meta, projections, engine state).
    block_cache_ = rocksdb::NewLRUCache(16u << 20);
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : names) descriptors.emplace_back(name, FamilyOptions(name));
    rocksdb::DB* db = nullptr;
    rocksdb::Status s;
    switch (options_.mode) {
      case EventLogOptions::Mode::kReadWrite:
        s = rocksdb::DB::Open(db_options, path_, descriptors, &handles_, &db);
        break;
      case EventLogOptions::Mode::kReadOnly:
        s = rocksdb::DB::OpenForReadOnly(db_options, path_, descriptors, &handles_, &db);
        break;
      case EventLogOptions::Mode::kSecondary: {
        std::string secondary = options_.secondary_path;
        if (secondary.empty()) {
          secondary = (std::filesystem::temp_directory_path() /
                       ("marketsync-secondary-" + std::to_string(::getpid()) + "-" +
                        std::to_string(reinterpret_cast<uintptr_t>(this))))
                          .string();
        }
        s = rocksdb::DB::OpenAsSecondary(db_options, path_, secondary, descriptors, &handles_, &db);
        break;
      }
    }
    if (!s.ok()) return FromRocks(s, "opening event log at " + path_);
    db_.reset(db);
    for (auto* h : handles_) families_[h->GetName()] = h;
    events_ = families_.at(std::string(kEventsFamily));
    streams_ = families_.at(std::string(kStreamsFamily));
    meta_ = families_.at(std::string(kMetaFamily));
    for (const auto& p : options_.projections) {
      auto& owned = projection_families_.emplace_back();
      for (const auto& cf : p->column_families()) {
        auto it = families_.find(cf);
        if (it == families_.end()) return Status::InvalidArgument("projection " + std::string(p->name()) + ": no column family " + cf);
        owned[cf] = it->second;
      }
    }
    return LoadHead();
  }

  rocksdb::ColumnFamilyOptions FamilyOptions(std::string_view name) const {
    rocksdb::ColumnFamilyOptions cf_options;
    // Bounded memtables: a sync process should stay small (issue 4: under 200 MB while
    // syncing 100,000 offers).
    cf_options.max_write_buffer_number = 2;
    if (name == kEventsFamily) {
      // Written once, read by scans. LZ4: about half of Snappy's CPU per flushed byte, and
      // raw offer JSON still shrinks about 3x. 32 MB memtables (not the default 64): a
      // 100,000-offer first sync peaks near 150 MB instead of near 200 MB, for a few percent
      // of append throughput (docs/BENCHMARKS.md).
      cf_options.write_buffer_size = 32u << 20;
      cf_options.compression = rocksdb::kLZ4Compression;
      // 16 KB blocks (not 4 KB): a scan pays per block (allocation, checksum, decompression
      // set-up) and a point read of one event is rare.
      rocksdb::BlockBasedTableOptions table;
      table.block_size = 16u << 10;
      cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    } else {
      // Every family but the log's keeps a bloom filter over its memtable's keys: a point read
      // of a key the memtable lacks (a catalog row of a new offer, a projection's first row of
      // a day) is a probe, not a skiplist search.
      cf_options.memtable_whole_key_filtering = true;
      cf_options.memtable_prefix_bloom_size_ratio = 0.02;
      if (name == kStreamsFamily) cf_options.prefix_extractor = std::make_shared<StreamPrefix>();
      // Point reads of small rows, mostly hashes: no compression to undo on every read,
      // bloom filters, the shared cache. 8 MB memtables: a first sync of 100,000 offers fills
      // several of these families at once (product state, catalog rows, streams), and at 16 MB
      // each their memtables took its peak from ~170 MB past 200 MB in some rounds.
      cf_options.write_buffer_size = 8u << 20;
      cf_options.compression = rocksdb::kNoCompression;
      rocksdb::BlockBasedTableOptions table;
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      table.block_cache = block_cache_;
      cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    }
    return cf_options;
  }

  Status Start() {
    if (options_.mode != EventLogOptions::Mode::kReadWrite) return Status::Ok();
    // A rebuild that did not finish: do it again before anything reads the half-written rows.
    std::vector<std::string_view> unfinished;
    for (auto* p : projections()) {
      std::string marker;
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, RebuildMarkerKey(p->name()), &marker);
      if (s.IsNotFound()) continue;
      MS_RETURN_IF_ERROR(FromRocks(s, "reading rebuild marker"));
      unfinished.push_back(p->name());
    }
    // A projection that never ran on a log that has events (newly registered), or whose rows
    // are of another version than this build writes, is built the rebuild way, folded in
    // memory: far faster than catching up event by event.
    const uint64_t head = Head().seq;
    rocksdb::WriteBatch versions;
    for (auto* p : projections()) {
      if (std::find(unfinished.begin(), unfinished.end(), p->name()) != unfinished.end()) continue;
      MS_ASSIGN_OR_RETURN(uint64_t checkpoint, Checkpoint(p->name()));
      std::string stored;
      rocksdb::Status vs = db_->Get(rocksdb::ReadOptions(), meta_, VersionKey(p->name()), &stored);
      if (!vs.ok() && !vs.IsNotFound()) return FromRocks(vs, "reading projection version");
      // Rows written before versions were recorded are version 1.
      const uint32_t version = vs.IsNotFound() ? 1 : (stored.size() == 4 ? internal::GetFixed32BE(stored.data()) : 0);
      if (head > 0 && (checkpoint == 0 || version != p->version())) {
        unfinished.push_back(p->name());
      } else if (vs.IsNotFound() || version != p->version()) {
        versions.Put(meta_, VersionKey(p->name()), EncodeVersion(p->version()));
      }
    }
    if (versions.Count() > 0) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      MS_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &versions), "recording projection versions"));
    }
    if (!unfinished.empty()) MS_RETURN_IF_ERROR(RebuildProjections(unfinished, {}).status());
    return CatchUpProjections();
  }

  std::vector<Projection*> projections() const override {
    std::vector<Projection*> out;
    for (const auto& p : options_.projections) out.push_back(p.get());
    return out;
  }

  Result<RebuildReport> RebuildProjections(const std::vector<std::string_view>& names,
                                           const std::function<void(uint64_t)>& progress) override {
    if (options_.mode != EventLogOptions::Mode::kReadWrite) {
      return Status::Unavailable("rebuild needs the event log open read-write");
    }
    std::vector<size_t> indexes;
    std::vector<Projection*> chosen;
    for (std::string_view name : names) {
      size_t index = SIZE_MAX;
      for (size_t i = 0; i < options_.projections.size(); ++i) {
        if (options_.projections[i]->name() == name) index = i;
      }
      if (index == SIZE_MAX) return Status::NotFound("no projection named " + std::string(name));
      indexes.push_back(index);
      chosen.push_back(options_.projections[index].get());
    }
    WriterLock writer(*this);

    // Fold first: the live rows stay readable until the new ones are ready to be written.
    MemoryStore folded;
    MS_ASSIGN_OR_RETURN(FoldResult fold, FoldLog(*this, chosen, folded, {}, progress));

    // The markers say "these families are being rewritten"; they go with the checkpoints'
    // removal, before the first family is dropped.
    {
      rocksdb::WriteBatch batch;
      for (Projection* p : chosen) {
        batch.Put(meta_, RebuildMarkerKey(p->name()), "");
        batch.Delete(meta_, CheckpointKey(p->name()));
      }
      rocksdb::WriteOptions wo;
      wo.sync = true;
      MS_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "starting rebuild"));
    }
    std::vector<rocksdb::ColumnFamilyHandle*> fresh;
    for (size_t index : indexes) {
      for (auto& [cf, handle] : projection_families_[index]) {
        MS_RETURN_IF_ERROR(FromRocks(db_->DropColumnFamily(handle), "dropping " + cf));
        std::erase(handles_, handle);
        MS_RETURN_IF_ERROR(FromRocks(db_->DestroyColumnFamilyHandle(handle), "dropping " + cf));
        rocksdb::ColumnFamilyHandle* created = nullptr;
        MS_RETURN_IF_ERROR(FromRocks(db_->CreateColumnFamily(FamilyOptions(cf), cf, &created), "creating " + cf));
        handles_.push_back(created);
        families_[cf] = created;
        handle = created;
        fresh.push_back(created);
      }
    }

    // Each family's rows, sorted, go into one SST file that the database ingests: no memtable,
    // no WAL, no flush, and the file is synced before the checkpoint is written. The files are
    // sorted and written on two threads (the catalog's two big families take most of it), then
    // ingested in order.
    struct Output {
      std::string cf;
      rocksdb::ColumnFamilyHandle* handle = nullptr;
      std::string file;
      size_t rows = 0;
      Status status;
    };
    std::vector<Output> outputs;
    for (size_t index : indexes) {
      for (auto& [cf, handle] : projection_families_[index]) {
        outputs.push_back(Output{cf, handle, path_ + "/rebuild-" + cf + ".sst", 0, Status::Ok()});
      }
    }
    auto write = [&](Output& out) -> Status {
      const auto& rows = folded.SortedRows(out.cf);
      out.rows = rows.size();
      if (rows.empty()) return Status::Ok();
      const std::string what = "writing rebuilt rows of " + out.cf;
      rocksdb::SstFileWriter sst(rocksdb::EnvOptions(), rocksdb::Options(rocksdb::DBOptions(), FamilyOptions(out.cf)),
                                 out.handle);
      MS_RETURN_IF_ERROR(FromRocks(sst.Open(out.file), what));
      for (const MemoryStore::Row* row : rows) MS_RETURN_IF_ERROR(FromRocks(sst.Put(row->first, row->second), what));
      return FromRocks(sst.Finish(), what);
    };
    std::atomic<size_t> next_output{0};
    auto write_some = [&] {
      for (size_t i; (i = next_output.fetch_add(1)) < outputs.size();) outputs[i].status = write(outputs[i]);
    };
    std::thread helper(write_some);
    write_some();
    helper.join();
    RebuildReport report;
    report.events = fold.events;
    for (const Output& out : outputs) {
      MS_RETURN_IF_ERROR(out.status);
      if (out.rows == 0) continue;
      report.rows += out.rows;
      rocksdb::IngestExternalFileOptions ingest;
      ingest.move_files = true;
      MS_RETURN_IF_ERROR(FromRocks(db_->IngestExternalFile(out.handle, {out.file}, ingest), "ingesting rebuilt rows of " + out.cf));
    }

    rocksdb::WriteBatch done;
    std::string cp;
    internal::PutFixed64BE(&cp, fold.last_seq);
    for (Projection* p : chosen) {
      done.Put(meta_, CheckpointKey(p->name()), cp);
      done.Delete(meta_, RebuildMarkerKey(p->name()));
      done.Put(meta_, VersionKey(p->name()), EncodeVersion(p->version()));
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    MS_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &done), "finishing rebuild"));
    report.checkpoint = fold.last_seq;
    return report;
  }

  Result<AppendResult> Import(const std::vector<std::string>& stored) override {
    if (options_.mode != EventLogOptions::Mode::kReadWrite) {
      return Status::Unavailable("the event log is open read-only");
    }
    if (stored.empty()) return AppendResult{};
    WriterLock writer(*this);
    MS_RETURN_IF_ERROR(WriterStatus());
    const LogHead start = Head();
    LogHead head = start;
    rocksdb::WriteBatch batch;
    BatchStore store(db_.get(), &batch);
    std::unordered_map<std::string, uint64_t> versions;
    // Consecutive events of one stream share one streams row, as appends write them.
    std::string run_stream;
    uint64_t run_first_version = 0, run_first_seq = 0;
    uint32_t run_count = 0;
    auto flush_run = [&] {
      if (run_count > 0) batch.Put(streams_, StreamKey(run_stream, run_first_version), StreamValue(run_first_seq, run_count));
      run_count = 0;
    };
    for (size_t i = 0; i < stored.size(); ++i) {
      const uint64_t seq = head.seq + 1;
      auto bad = [&](const std::string& why) {
        return Status::InvalidArgument("imported envelope " + std::to_string(i + 1) + " (seq " +
                                       std::to_string(seq) + "): " + why);
      };
      auto decoded = DecodeEnvelope(stored[i], seq);
      if (!decoded.ok()) return bad(decoded.status().message());
      Envelope& e = *decoded;
      if (e.seq != seq) return bad("its seq is " + std::to_string(e.seq) + ", the log continues at " + std::to_string(seq));
      if (e.prev_hash != head.hash) return bad("its previous hash does not match the head");
      if (ComputeStoredBodyHash(stored[i]) != e.hash) return bad("its hash does not match its contents");
      if (Status valid = ValidateEnvelopeFields(e); !valid.ok()) return bad(valid.message());
      uint64_t version = 0;
      if (auto it = versions.find(e.stream_id); it != versions.end()) {
        version = it->second;
      } else {
        MS_ASSIGN_OR_RETURN(version, StoredStreamVersion(e.stream_id));
      }
      if (e.stream_version != version + 1) {
        return bad("stream " + e.stream_id + " is at version " + std::to_string(version) +
                   ", the envelope has version " + std::to_string(e.stream_version));
      }
      versions[e.stream_id] = e.stream_version;
      batch.Put(events_, EncodeSeqKey(seq), stored[i]);
      if (run_count > 0 && run_stream == e.stream_id) {
        ++run_count;
      } else {
        flush_run();
        run_stream = e.stream_id;
        run_first_version = e.stream_version;
        run_first_seq = seq;
        run_count = 1;
      }
      MS_RETURN_IF_ERROR(ApplyProjections(e, store));
      head = {seq, e.hash};
    }
    flush_run();
    MS_RETURN_IF_ERROR(store.Finish());
    batch.Put(meta_, kHeadKey, EncodeHead(head));
    std::string cp;
    internal::PutFixed64BE(&cp, head.seq);
    for (const auto& p : options_.projections) batch.Put(meta_, CheckpointKey(p->name()), cp);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status ws = db_->Write(wo, &batch);
    if (!ws.ok()) {
      Status fail = Status::IOError("import failed, the log is fail-stopped until reopened: " + ws.ToString());
      std::lock_guard lk(head_mu_);
      failed_ = fail;
      return fail;
    }
    versions_.Clear();
    {
      std::lock_guard lk(head_mu_);
      head_ = head;
    }
    head_cv_.notify_all();
    return AppendResult{start.seq + 1, head.seq};
  }

  // Group commit, leader style (as RocksDB's WriteThread): the caller that finds no write in
  // flight becomes the writer for everything queued; callers that arrive meanwhile wait, and
  // the first of them leads the next group. One writer at a time, and no thread hand-off when
  // appends do not overlap.
  Result<AppendResult> Append(Step step) override {
    std::vector<Step> steps;
    steps.push_back(std::move(step));
    return std::move(AppendAll(std::move(steps)).front());
  }

  std::vector<Result<AppendResult>> AppendAll(std::vector<Step> steps) override {
    if (steps.empty()) return {};
    if (options_.mode != EventLogOptions::Mode::kReadWrite) {
      return std::vector<Result<AppendResult>>(steps.size(), Status::Unavailable("the event log is open read-only"));
    }
    std::condition_variable cv;
    std::vector<PendingAppend> mine(steps.size());
    for (size_t i = 0; i < steps.size(); ++i) {
      mine[i].step = &steps[i];
      mine[i].cv = &cv;
    }
    auto all_answered = [&] {
      return std::all_of(mine.begin(), mine.end(), [](const PendingAppend& p) { return p.result.has_value(); });
    };
    auto leading = [&] {
      return std::any_of(mine.begin(), mine.end(), [](const PendingAppend& p) { return p.leader; });
    };
    std::unique_lock lk(queue_mu_);
    if (stopping_) {
      return std::vector<Result<AppendResult>>(steps.size(), Status::Unavailable("the event log is closing"));
    }
    for (auto& p : mine) queue_.push_back(&p);  // contiguous, in order
    if (!writer_active_) {
      writer_active_ = true;
      mine.front().leader = true;
    }
    while (true) {
      cv.wait(lk, [&] { return all_answered() || leading(); });
      if (all_answered()) break;
      // This caller leads: its step at the front of the queue is marked.
      for (auto& p : mine) p.leader = false;
      std::vector<PendingAppend*> group;
      while (!queue_.empty() && group.size() < options_.max_group_steps) {
        group.push_back(queue_.front());
        queue_.pop_front();
      }
      lk.unlock();
      std::vector<Result<AppendResult>> results = WriteGroup(group);
      lk.lock();
      for (size_t i = 0; i < group.size(); ++i) {
        group[i]->result = std::move(results[i]);
        if (group[i]->cv != &cv) group[i]->cv->notify_all();
      }
      if (!queue_.empty()) {
        queue_.front()->leader = true;
        queue_.front()->cv->notify_all();
      } else {
        writer_active_ = false;
        idle_cv_.notify_all();
      }
    }
    std::vector<Result<AppendResult>> out;
    out.reserve(mine.size());
    for (auto& p : mine) out.push_back(std::move(*p.result));
    return out;
  }

  LogHead Head() const override {
    std::lock_guard lk(head_mu_);
    return head_;
  }

  std::unique_ptr<EventIterator> Read(uint64_t from_seq) const override {
    return std::make_unique<RocksEventIterator>(ScanEvents(), std::max<uint64_t>(from_seq, 1));
  }

  std::unique_ptr<StoredEventIterator> ReadStored(uint64_t from_seq) const override {
    return std::make_unique<RocksStoredIterator>(ScanEvents(), std::max<uint64_t>(from_seq, 1));
  }

  Result<std::vector<Envelope>> ReadStream(std::string_view stream_id,
                                           uint64_t from_version) const override {
    from_version = std::max<uint64_t>(from_version, 1);
    std::vector<Envelope> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_));
    // The row holding from_version starts at or before it.
    it->SeekForPrev(StreamKey(stream_id, from_version));
    if (!it->Valid() || !IsStreamKeyOf({it->key().data(), it->key().size()}, stream_id)) {
      it->Seek(StreamKey(stream_id, 0));
    }
    std::string value;
    for (; it->Valid() && IsStreamKeyOf({it->key().data(), it->key().size()}, stream_id); it->Next()) {
      MS_ASSIGN_OR_RETURN(StreamRange range, DecodeStreamRow({it->key().data(), it->key().size()},
                                                             {it->value().data(), it->value().size()}));
      for (uint32_t i = 0; i < range.count; ++i) {
        if (range.first_version + i < from_version) continue;
        const uint64_t seq = range.first_seq + i;
        rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), events_, EncodeSeqKey(seq), &value);
        if (!s.ok()) return FromRocks(s, "reading seq " + std::to_string(seq) + " of " + std::string(stream_id));
        MS_ASSIGN_OR_RETURN(Envelope e, DecodeEnvelope(value, seq));
        out.push_back(std::move(e));
      }
    }
    MS_RETURN_IF_ERROR(FromRocks(it->status(), "reading stream"));
    return out;
  }

  Result<uint64_t> StreamVersion(std::string_view stream_id) const override {
    return StoredStreamVersion(stream_id);
  }

  uint64_t WaitForSeq(uint64_t after, std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (options_.mode == EventLogOptions::Mode::kSecondary) {
      while (true) {
        CatchUp().IgnoreError();  // a failed catch-up only delays the answer
        const uint64_t seq = Head().seq;
        if (seq > after || std::chrono::steady_clock::now() >= deadline) return seq;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    // A read-only view never moves.
    if (options_.mode == EventLogOptions::Mode::kReadOnly) return Head().seq;
    std::unique_lock lk(head_mu_);
    head_cv_.wait_until(lk, deadline, [&] { return head_.seq > after; });
    return head_.seq;
  }

  Status CatchUp() override {
    if (options_.mode != EventLogOptions::Mode::kSecondary) return Status::Ok();
    MS_RETURN_IF_ERROR(FromRocks(db_->TryCatchUpWithPrimary(), "catching up with the primary"));
    return LoadHead();
  }

  Result<VerifyReport> Verify(uint64_t from_seq, uint64_t to_seq) const override;

  Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key) const override {
    auto f = families_.find(cf);
    if (f == families_.end()) return Status::InvalidArgument("no column family " + std::string(cf));
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), f->second, rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromRocks(s, "reading " + std::string(cf));
    return std::optional<std::string>(std::move(value));
  }

  Result<std::vector<std::optional<std::string>>> MultiGet(std::string_view cf,
                                                           const std::vector<std::string>& keys) const override {
    auto f = families_.find(cf);
    if (f == families_.end()) return Status::InvalidArgument("no column family " + std::string(cf));
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    db_->MultiGet(rocksdb::ReadOptions(), f->second, keys.size(), slices.data(), values.data(), statuses.data());
    std::vector<std::optional<std::string>> out(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      if (statuses[i].ok()) {
        out[i] = values[i].ToString();
      } else if (!statuses[i].IsNotFound()) {
        return FromRocks(statuses[i], "reading " + std::string(cf));
      }
    }
    return out;
  }

  Result<std::unique_ptr<KvIterator>> Scan(std::string_view cf) const override {
    auto f = families_.find(cf);
    if (f == families_.end()) return Status::InvalidArgument("no column family " + std::string(cf));
    return std::unique_ptr<KvIterator>(std::make_unique<RocksKvIterator>(
        std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(TotalOrder(), f->second))));
  }

  Result<uint64_t> Checkpoint(std::string_view projection) const override {
    MS_ASSIGN_OR_RETURN(auto v, Get(kMetaFamily, CheckpointKey(projection)));
    if (!v.has_value()) return uint64_t{0};
    if (v->size() != 8) return Status::Corruption("checkpoint of " + std::string(projection) + " is not a seq");
    return internal::GetFixed64BE(v->data());
  }

  Status WriterStatus() const override {
    std::lock_guard lk(head_mu_);
    return failed_;
  }

 private:
  // A front-to-back scan of the events family.
  std::unique_ptr<rocksdb::Iterator> ScanEvents() const {
    rocksdb::ReadOptions ro;
    ro.readahead_size = 2 << 20;
    ro.fill_cache = false;  // each block is read once: keep the point reads' cache warm
    return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(ro, events_));
  }

  Status LoadHead() {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, kHeadKey, &value);
    LogHead head;
    if (s.ok()) {
      MS_ASSIGN_OR_RETURN(head, DecodeHead(value));
    } else if (!s.IsNotFound()) {
      return FromRocks(s, "reading the head");
    }
    // The head and the events are written in one batch, so the last event is the head.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
    it->SeekToLast();
    MS_RETURN_IF_ERROR(FromRocks(it->status(), "reading the last event"));
    uint64_t last = 0;
    if (it->Valid()) {
      MS_ASSIGN_OR_RETURN(last, DecodeSeqKey({it->key().data(), it->key().size()}));
    }
    // A read-only or secondary open still serves an auditor, whose Verify reports the mismatch.
    if (last != head.seq && options_.mode == EventLogOptions::Mode::kReadWrite) {
      return Status::Corruption("the head record says seq " + std::to_string(head.seq) +
                                " but the last stored event is seq " + std::to_string(last));
    }
    std::lock_guard lk(head_mu_);
    head_ = head;
    return Status::Ok();
  }

  // `reuse`, when given, is an iterator over streams_ to seek with (the leader keeps one per
  // group: creating an iterator per new stream cost more than the rest of appending an event).
  Result<uint64_t> StoredStreamVersion(std::string_view stream_id, rocksdb::Iterator* reuse = nullptr) const {
    std::unique_ptr<rocksdb::Iterator> own;
    rocksdb::Iterator* it = reuse;
    if (it == nullptr) {
      own.reset(db_->NewIterator(rocksdb::ReadOptions(), streams_));
      it = own.get();
    }
    it->SeekForPrev(StreamKey(stream_id, UINT64_MAX));
    if (!it->Valid()) {
      MS_RETURN_IF_ERROR(FromRocks(it->status(), "reading stream version"));
      return uint64_t{0};
    }
    std::string_view key(it->key().data(), it->key().size());
    if (!IsStreamKeyOf(key, stream_id)) return uint64_t{0};
    MS_ASSIGN_OR_RETURN(StreamRange range, DecodeStreamRow(key, {it->value().data(), it->value().size()}));
    return range.first_version + range.count - 1;
  }

  // Applies every projection to one event inside the batch.
  Status ApplyProjections(const Envelope& e, BatchStore& store, size_t only = SIZE_MAX) {
    for (size_t i = 0; i < options_.projections.size(); ++i) {
      if (only != SIZE_MAX && i != only) continue;
      auto& p = options_.projections[i];
      store.SetOwner(&projection_families_[i], p->name());
      Status s = p->Apply(e, store);
      if (!s.ok()) return s.WithContext("projection " + std::string(p->name()) + " at seq " + std::to_string(e.seq));
    }
    return Status::Ok();
  }

  // Brings each projection whose checkpoint is behind the head up to it (a newly registered
  // projection, or one whose families were dropped for a rebuild).
  Status CatchUpProjections() {
    const uint64_t head = Head().seq;
    for (size_t i = 0; i < options_.projections.size(); ++i) {
      MS_ASSIGN_OR_RETURN(uint64_t checkpoint, Checkpoint(options_.projections[i]->name()));
      if (checkpoint >= head) continue;
      auto it = Read(checkpoint + 1);
      while (true) {
        rocksdb::WriteBatch batch;
        BatchStore store(db_.get(), &batch);
        uint64_t last = 0;
        for (int n = 0; n < 10000 && it->Valid(); ++n, it->Next()) {
          MS_RETURN_IF_ERROR(ApplyProjections(it->envelope(), store, i));
          last = it->envelope().seq;
        }
        MS_RETURN_IF_ERROR(it->status());
        if (last == 0) break;
        MS_RETURN_IF_ERROR(store.Finish());
        std::string cp;
        internal::PutFixed64BE(&cp, last);
        batch.Put(meta_, CheckpointKey(options_.projections[i]->name()), cp);
        rocksdb::WriteOptions wo;
        wo.sync = !it->Valid();
        MS_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "catching up projection"));
        if (!it->Valid()) break;
      }
    }
    return Status::Ok();
  }

  // The writer's entry for a stream's current version (counting the group's earlier steps),
  // read from the streams family when the writer does not know the stream yet.
  Result<StreamVersions::Entry> VersionSlot(const std::string& stream_id) {
    if (std::optional<StreamVersions::Entry> known = versions_.Find(stream_id)) return *known;
    // The database does not change during a group (only the leader writes, at its end), so
    // one iterator serves every look-up of the group.
    if (!group_streams_it_) group_streams_it_.reset(db_->NewIterator(rocksdb::ReadOptions(), streams_));
    MS_ASSIGN_OR_RETURN(uint64_t stored, StoredStreamVersion(stream_id, group_streams_it_.get()));
    return versions_.Insert(stream_id, stored);
  }

  // Puts back the versions the steps after `mark` moved (a step that failed).
  void UndoVersions(size_t mark) {
    while (version_undo_.size() > mark) {
      versions_.version(version_undo_.back().entry) = version_undo_.back().previous;
      version_undo_.pop_back();
    }
  }

  // Adds one step to the batch. On error the caller rolls the batch back to its save point.
  Status BuildStep(Step& step, rocksdb::WriteBatch& batch, BatchStore& store, int64_t now,
                   uint64_t& seq, Hash256& hash) {
    auto family = [&](const std::string& cf) -> Result<rocksdb::ColumnFamilyHandle*> {
      if (cf == kEventsFamily || cf == kStreamsFamily) {
        return Status::InvalidArgument("a step may not touch the " + cf + " column family directly");
      }
      auto it = families_.find(cf);
      if (it == families_.end()) return Status::InvalidArgument("no column family " + cf);
      return it->second;
    };
    for (const auto& w : step.writes) MS_RETURN_IF_ERROR(family(w.column_family).status());
    for (const auto& x : step.expect) {
      MS_ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * h, family(x.column_family));
      MS_ASSIGN_OR_RETURN(std::optional<std::string> current, store.GetRaw(h, x.key));
      if (current != x.value) {
        return Status::FailedPrecondition(x.column_family + "/" + x.key + " is " +
                                          (current ? "\"" + *current + "\"" : "absent") + ", expected " +
                                          (x.value ? "\"" + *x.value + "\"" : "absent"));
      }
    }
    std::string& value = scratch_value_;
    for (auto& sa : step.streams) {
      MS_ASSIGN_OR_RETURN(StreamVersions::Entry slot, VersionSlot(sa.stream_id));
      uint64_t version = versions_.version(slot);
      if (sa.expected_version != kAnyVersion && sa.expected_version != version) {
        return Status::FailedPrecondition("stream " + sa.stream_id + " is at version " +
                                          std::to_string(version) + ", expected " +
                                          std::to_string(sa.expected_version));
      }
      if (sa.events.size() > kMaxEventsPerStreamAppend) {
        return Status::InvalidArgument("more than " + std::to_string(kMaxEventsPerStreamAppend) +
                                       " events for stream " + sa.stream_id + " in one step");
      }
      // The writer's envelope and key buffers, assigned into: a step of a hundred new product
      // streams allocates no stream id, correlation id or key of its own.
      Envelope& e = scratch_envelope_;
      e.stream_id.assign(sa.stream_id);
      e.correlation_id.assign(step.correlation_id);
      e.recorded_at_us = now;
      std::string& key = scratch_key_;
      for (auto& ne : sa.events) {
        e.seq = seq + 1;
        e.stream_version = version + 1;
        e.type = ne.type;
        e.payload_version = ne.payload_version;
        e.payload = std::move(ne.payload);
        e.prev_hash = hash;
        if (Status valid = ValidateEnvelopeFields(e); !valid.ok()) return valid.WithContext("stream " + sa.stream_id);
        value.clear();
        SealAndEncodeEnvelope(e, &value);
        key.clear();
        PutFixed64BE(&key, e.seq);
        batch.Put(events_, key, value);
        MS_RETURN_IF_ERROR(ApplyProjections(e, store));
        seq = e.seq;
        hash = e.hash;
        version = e.stream_version;
      }
      if (!sa.events.empty()) {
        const auto count = static_cast<uint32_t>(sa.events.size());
        SetStreamKey(&key, sa.stream_id, version - count + 1);
        batch.Put(streams_, key, StreamValue(seq - count + 1, count));
      }
      version_undo_.push_back({slot, versions_.version(slot)});
      versions_.version(slot) = version;
    }
    for (const auto& w : step.writes) {
      rocksdb::ColumnFamilyHandle* h = families_.at(w.column_family);
      MS_RETURN_IF_ERROR(w.value.has_value() ? store.PutRaw(h, w.key, *w.value) : store.DeleteRaw(h, w.key));
    }
    return Status::Ok();
  }

  // Writes one group and returns each step's result, in group order. Leader only.
  std::vector<Result<AppendResult>> WriteGroup(const std::vector<PendingAppend*>& group) {
    Status failed = WriterStatus();
    if (!failed.ok()) return std::vector<Result<AppendResult>>(group.size(), failed);
    const LogHead start = Head();
    uint64_t seq = start.seq;
    Hash256 hash = start.hash;
    const int64_t now = options_.now_us();
    // One batch reused group after group: its buffer keeps its size, so a group of page steps
    // (megabytes) does not grow a fresh buffer by doubling and fault its pages in each time.
    if (group_batch_.GetDataSize() > kMaxKeptBatchBytes) group_batch_ = rocksdb::WriteBatch();
    group_batch_.Clear();
    rocksdb::WriteBatch& batch = group_batch_;
    if (!group_store_) group_store_ = std::make_unique<BatchStore>(db_.get(), &batch);
    BatchStore& store = *group_store_;
    store.Reset(&batch);
    // Cleared between groups only: a group's entries must outlive it.
    if (versions_.size() > kMaxCachedStreams) versions_.Clear();
    version_undo_.clear();
    group_streams_it_.reset();
    std::vector<std::optional<Result<AppendResult>>> results(group.size());
    bool any_write = false;
    for (size_t i = 0; i < group.size(); ++i) {
      batch.SetSavePoint();
      store.Mark();
      uint64_t step_seq = seq;
      Hash256 step_hash = hash;
      const size_t version_mark = version_undo_.size();
      Status s = BuildStep(*group[i]->step, batch, store, now, step_seq, step_hash);
      if (!s.ok()) {
        batch.RollbackToSavePoint().PermitUncheckedError();
        store.Rollback();
        UndoVersions(version_mark);
        results[i] = std::move(s);
        continue;
      }
      batch.PopSavePoint().PermitUncheckedError();
      AppendResult r;
      if (step_seq > seq) {
        r.first_seq = seq + 1;
        r.last_seq = step_seq;
      }
      results[i] = r;
      any_write = any_write || step_seq > seq || !group[i]->step->writes.empty();
      seq = step_seq;
      hash = step_hash;
    }

    if (any_write) {
      const Status finished = store.Finish();
      if (seq > start.seq) {
        batch.Put(meta_, kHeadKey, EncodeHead({seq, hash}));
        std::string cp;
        internal::PutFixed64BE(&cp, seq);
        for (const auto& p : options_.projections) batch.Put(meta_, CheckpointKey(p->name()), cp);
      }
      rocksdb::WriteOptions wo;
      wo.sync = true;
      group_streams_it_.reset();  // release what it pins before writing
      const auto write_start = std::chrono::steady_clock::now();
      rocksdb::Status ws = finished.ok() ? db_->Write(wo, &batch) : rocksdb::Status::Aborted(finished.ToString());
      if (ws.ok() && options_.on_group_commit) {
        options_.on_group_commit(group.size(), std::chrono::duration_cast<std::chrono::microseconds>(
                                                   std::chrono::steady_clock::now() - write_start));
      }
      if (!ws.ok()) {
        Status fail = Status::IOError("append failed, the log is fail-stopped until reopened: " + ws.ToString());
        versions_.Clear();  // they counted the group that did not land
        {
          std::lock_guard lk(head_mu_);
          failed_ = fail;
        }
        for (auto& r : results) {
          if (r->ok()) r = fail;
        }
      } else {
        {
          std::lock_guard lk(head_mu_);
          head_ = {seq, hash};
        }
        head_cv_.notify_all();
      }
    }
    std::vector<Result<AppendResult>> out;
    out.reserve(group.size());
    for (auto& r : results) out.push_back(std::move(*r));
    return out;
  }

  const std::string path_;
  EventLogOptions options_;
  std::shared_ptr<rocksdb::Cache> block_cache_;  // shared with RocksDB's table factories
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; destroyed before db_ closes
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> families_;
  // projection_families_[i]: the families projection i owns.
  std::vector<std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>>> projection_families_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;

  mutable std::mutex head_mu_;  // guards head_ and failed_
  std::condition_variable head_cv_;
  LogHead head_;
  Status failed_;

  std::mutex queue_mu_;  // guards queue_, writer_active_ and stopping_
  std::condition_variable idle_cv_;  // signalled when writer_active_ turns false
  std::deque<PendingAppend*> queue_;
  bool writer_active_ = false;
  bool stopping_ = false;

  // The current leader's only.
  // Stream versions the writer knows (read once, then kept up to date by its own appends),
  // including the group being built; version_undo_ lists the group's moves, so that a failed
  // step's can be put back.
  struct VersionUndo {
    StreamVersions::Entry entry;
    uint64_t previous;
  };
  StreamVersions versions_;
  std::vector<VersionUndo> version_undo_;
  rocksdb::WriteBatch group_batch_;
  std::unique_ptr<BatchStore> group_store_;  // WriteGroup's, reused
  Envelope scratch_envelope_;  // BuildStep's
  std::string scratch_key_;
  std::string scratch_value_;
  std::unique_ptr<rocksdb::Iterator> group_streams_it_;  // see VersionSlot
};

Result<VerifyReport> RocksEventLog::Verify(uint64_t from_seq, uint64_t to_seq) const {
  VerifyReport report;
  auto bad = [&report](uint64_t seq, std::string why) {
    report.ok = false;
    report.first_bad_seq = seq;
    report.reason = std::move(why);
    return report;
  };
  from_seq = std::max<uint64_t>(from_seq, 1);
  const LogHead head = Head();
  const uint64_t last = to_seq == 0 ? head.seq : to_seq;
  Hash256 prev{};
  if (from_seq > 1) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), events_, EncodeSeqKey(from_seq - 1), &value);
    if (s.IsNotFound()) return bad(from_seq - 1, "missing (gap)");
    if (!s.ok()) return FromRocks(s, "verify");
    auto e = DecodeEnvelope(value, from_seq - 1);
    if (!e.ok()) return bad(from_seq - 1, e.status().message());
    prev = e->hash;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  uint64_t expected = from_seq;
  for (it->Seek(EncodeSeqKey(from_seq)); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    std::string_view value(it->value().data(), it->value().size());
    auto key_seq = DecodeSeqKey(key);
    if (!key_seq.ok()) return bad(expected, key_seq.status().message());
    if (*key_seq > last) break;
    if (*key_seq != expected) return bad(expected, "missing (gap): next stored event is seq " + std::to_string(*key_seq));
    auto e = DecodeEnvelope(value, *key_seq);
    if (!e.ok()) return bad(*key_seq, e.status().message());
    if (e->seq != *key_seq) {
      return bad(*key_seq, "out of order: the envelope stored here is seq " + std::to_string(e->seq));
    }
    if (e->prev_hash != prev) return bad(*key_seq, "chain break: previous hash does not match seq " + std::to_string(*key_seq - 1));
    if (ComputeStoredBodyHash(value) != e->hash) return bad(*key_seq, "hash mismatch: the envelope was altered");
    prev = e->hash;
    ++report.events_checked;
    ++expected;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "verify");
  if (to_seq == 0 || to_seq >= head.seq) {
    if (expected - 1 < head.seq) return bad(expected, "missing: the head says the log ends at seq " + std::to_string(head.seq));
    if (head.seq > 0 && prev != head.hash) return bad(head.seq, "the head hash does not match the last event");
  } else if (expected - 1 < last) {
    return bad(expected, "missing (gap)");
  }
  return report;
}

}  // namespace

Result<std::unique_ptr<EventLog>> EventLog::Open(const std::string& path, EventLogOptions options) {
  auto log = std::make_unique<RocksEventLog>(path, std::move(options));
  MS_RETURN_IF_ERROR(log->OpenDb());
  MS_RETURN_IF_ERROR(log->Start());
  return std::unique_ptr<EventLog>(std::move(log));
}

}  // namespace marketsync
