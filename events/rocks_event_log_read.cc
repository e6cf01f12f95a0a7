#include "events/internal/rocks_event_log.h"

#include <algorithm>
#include <thread>

#include "events/envelope_codec.h"
#include "events/internal/rocks_iterators.h"
#include "events/internal/rocks_keys.h"

namespace marketsync::internal {

LogHead RocksEventLog::Head() const {
  std::lock_guard lk(head_mu_);
  return head_;
}

std::unique_ptr<EventIterator> RocksEventLog::Read(uint64_t from_seq) const {
  return std::make_unique<RocksEventIterator>(ScanEvents(), std::max<uint64_t>(from_seq, 1), options_.types);
}

std::unique_ptr<StoredEventIterator> RocksEventLog::ReadStored(uint64_t from_seq) const {
  return std::make_unique<RocksStoredIterator>(ScanEvents(), std::max<uint64_t>(from_seq, 1));
}

Result<std::vector<Envelope>> RocksEventLog::ReadStream(std::string_view stream_id,
                                                        uint64_t from_version) const {
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
      MS_ASSIGN_OR_RETURN(Envelope e, DecodeEnvelope(value, seq, options_.types));
      out.push_back(std::move(e));
    }
  }
  MS_RETURN_IF_ERROR(FromRocks(it->status(), "reading stream"));
  return out;
}

Result<uint64_t> RocksEventLog::StreamVersion(std::string_view stream_id) const {
  return StoredStreamVersion(stream_id);
}

Result<std::vector<std::string>> RocksEventLog::StreamIds(std::string_view prefix) const {
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;  // across streams: the family's prefix extractor is one stream
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, streams_));
  std::vector<std::string> out;
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (!key.starts_with(prefix)) break;
    if (key.size() < 9) return Status::Corruption("malformed streams key");
    const std::string_view id = key.substr(0, key.size() - 9);  // id 0x00 first_version:u64be
    if (out.empty() || out.back() != id) out.emplace_back(id);
  }
  MS_RETURN_IF_ERROR(FromRocks(it->status(), "listing streams"));
  return out;
}

uint64_t RocksEventLog::WaitForSeq(uint64_t after, std::chrono::milliseconds timeout) {
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

Status RocksEventLog::CatchUp() {
  if (options_.mode != EventLogOptions::Mode::kSecondary) return Status::Ok();
  MS_RETURN_IF_ERROR(FromRocks(db_->TryCatchUpWithPrimary(), "catching up with the primary"));
  return LoadHead();
}

namespace {

using Families = std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>>;

// Get and Scan of the log and of its snapshots: the same, but for the read options.
Result<std::optional<std::string>> GetWith(rocksdb::DB* db, const Families& families, const rocksdb::ReadOptions& ro,
                                           std::string_view cf, std::string_view key) {
  auto f = families.find(cf);
  if (f == families.end()) return Status::InvalidArgument("no column family " + std::string(cf));
  std::string value;
  rocksdb::Status s = db->Get(ro, f->second, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "reading " + std::string(cf));
  return std::optional<std::string>(std::move(value));
}

Result<std::unique_ptr<KvIterator>> ScanWith(rocksdb::DB* db, const Families& families, const rocksdb::ReadOptions& ro,
                                             std::string_view cf) {
  auto f = families.find(cf);
  if (f == families.end()) return Status::InvalidArgument("no column family " + std::string(cf));
  return std::unique_ptr<KvIterator>(
      std::make_unique<RocksKvIterator>(std::unique_ptr<rocksdb::Iterator>(db->NewIterator(ro, f->second))));
}

}  // namespace

Result<std::optional<std::string>> RocksEventLog::Get(std::string_view cf, std::string_view key) const {
  return GetWith(db_.get(), families_, rocksdb::ReadOptions(), cf, key);
}

Result<std::vector<std::optional<std::string>>> RocksEventLog::MultiGet(std::string_view cf,
                                                                        const std::vector<std::string>& keys) const {
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

Result<std::unique_ptr<KvIterator>> RocksEventLog::Scan(std::string_view cf) const {
  return ScanWith(db_.get(), families_, TotalOrder(), cf);
}

namespace {

// Reads through one RocksDB snapshot (none for a read-only open, which is frozen already).
class RocksSnapshot final : public LogSnapshot {
 public:
  RocksSnapshot(rocksdb::DB* db, const Families& families, bool take)
      : db_(db), families_(families), snapshot_(take ? db->GetSnapshot() : nullptr) {
    read_.snapshot = snapshot_;
    scan_ = TotalOrder();
    scan_.snapshot = snapshot_;
  }
  ~RocksSnapshot() override {
    if (snapshot_ != nullptr) db_->ReleaseSnapshot(snapshot_);
  }
  RocksSnapshot(const RocksSnapshot&) = delete;
  RocksSnapshot& operator=(const RocksSnapshot&) = delete;

  // The head row as of the snapshot (written in the same batch as the rows it names).
  Status LoadHead() {
    MS_ASSIGN_OR_RETURN(std::optional<std::string> value, Get(EventLog::kMetaFamily, kHeadKey));
    if (value) {
      MS_ASSIGN_OR_RETURN(head_, DecodeHead(*value));
    }
    return Status::Ok();  // absent: an empty log
  }

  const LogHead& head() const override { return head_; }
  Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key) const override {
    return GetWith(db_, families_, read_, cf, key);
  }
  Result<std::unique_ptr<KvIterator>> Scan(std::string_view cf) const override {
    return ScanWith(db_, families_, scan_, cf);
  }

 private:
  rocksdb::DB* const db_;
  const Families& families_;
  const rocksdb::Snapshot* const snapshot_;
  rocksdb::ReadOptions read_;
  rocksdb::ReadOptions scan_;
  LogHead head_;
};

}  // namespace

Result<std::unique_ptr<LogSnapshot>> RocksEventLog::Snapshot() const {
  auto snap = std::make_unique<RocksSnapshot>(db_.get(), families_,
                                              options_.mode != EventLogOptions::Mode::kReadOnly);
  MS_RETURN_IF_ERROR(snap->LoadHead());
  return std::unique_ptr<LogSnapshot>(std::move(snap));
}

Result<uint64_t> RocksEventLog::Checkpoint(std::string_view projection) const {
  MS_ASSIGN_OR_RETURN(auto v, Get(kMetaFamily, CheckpointKey(projection)));
  return DecodeCheckpoint(projection, v);
}

Result<std::optional<uint32_t>> RocksEventLog::StoredVersion(std::string_view projection) const {
  MS_ASSIGN_OR_RETURN(auto v, Get(kMetaFamily, VersionKey(projection)));
  return DecodeVersion(v);
}

Status RocksEventLog::WriterStatus() const {
  std::lock_guard lk(head_mu_);
  return failed_;
}

std::vector<Projection*> RocksEventLog::projections() const {
  std::vector<Projection*> out;
  for (const auto& p : options_.projections) out.push_back(p.get());
  return out;
}

// A front-to-back scan of the events family.
std::unique_ptr<rocksdb::Iterator> RocksEventLog::ScanEvents() const {
  rocksdb::ReadOptions ro;
  ro.readahead_size = 2 << 20;
  ro.fill_cache = false;  // each block is read once: keep the point reads' cache warm
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(ro, events_));
}

// `reuse`, when given, is an iterator over streams_ to seek with (the leader keeps one per
// group: creating an iterator per new stream cost more than the rest of appending an event).
Result<uint64_t> RocksEventLog::StoredStreamVersion(std::string_view stream_id, rocksdb::Iterator* reuse) const {
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

}  // namespace marketsync::internal
