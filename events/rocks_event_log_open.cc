#include "events/internal/rocks_event_log.h"

#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <set>

#include "base/clock.h"
#include "events/envelope_codec.h"
#include "events/internal/rocks_keys.h"

namespace marketsync {
namespace internal {
namespace {

// RocksDB's info log handed to a callback (warnings and worse), instead of a file beside the
// data that a full disk breaks.
class CallbackLogger final : public rocksdb::Logger {
 public:
  explicit CallbackLogger(std::function<void(bool, std::string_view)> sink)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), sink_(std::move(sink)) {}
  using rocksdb::Logger::Logv;
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char line[1024];
    const int n = std::vsnprintf(line, sizeof(line), format, ap);
    if (n < 0) return;
    std::string_view text(line, std::min<size_t>(static_cast<size_t>(n), sizeof(line) - 1));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    sink_(level >= rocksdb::InfoLogLevel::ERROR_LEVEL, text);
  }
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }

 private:
  std::function<void(bool, std::string_view)> sink_;
};

// RocksDB fsyncs the database directory whenever it adds or renames a file in it, but never the
// directory above, which holds the database directory's own name: on a new database a power cut
// could take the whole directory with it, acknowledged appends included. One fsync of the parent
// at every read-write open closes that (docs/decisions.md, "What the log relies on under power
// loss").
Status SyncParentDirectory(rocksdb::Env* env, const std::string& path) {
  const std::filesystem::path parent = std::filesystem::absolute(path).lexically_normal().parent_path();
  std::unique_ptr<rocksdb::FSDirectory> dir;
  rocksdb::IOStatus s = env->GetFileSystem()->NewDirectory(parent.string(), rocksdb::IOOptions(), &dir, nullptr);
  if (s.ok()) s = dir->Fsync(rocksdb::IOOptions(), nullptr);
  if (s.ok()) s = dir->Close(rocksdb::IOOptions(), nullptr);
  return s.ok() ? Status::Ok() : Status::IOError("cannot sync " + parent.string() + ": " + s.ToString());
}

}  // namespace

RocksEventLog::RocksEventLog(std::string path, EventLogOptions options)
    : path_(std::move(path)), options_(std::move(options)) {
  if (!options_.now_us) options_.now_us = &NowUs;
  if (options_.max_group_steps == 0) options_.max_group_steps = 1;
}

RocksEventLog::~RocksEventLog() {
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

Status RocksEventLog::OpenDb() {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options_.mode == EventLogOptions::Mode::kReadWrite;
  db_options.create_missing_column_families = db_options.create_if_missing;
  db_options.IncreaseParallelism(2);
  db_options.max_open_files = options_.mode == EventLogOptions::Mode::kSecondary ? -1 : 1000;
  if (options_.env_for_test != nullptr) db_options.env = options_.env_for_test;
  if (options_.info_log) db_options.info_log = std::make_shared<CallbackLogger>(options_.info_log);

  std::vector<std::string> existing;
  // A new database has no CURRENT: asking RocksDB to list its families would log an error.
  rocksdb::Env* env = db_options.env != nullptr ? db_options.env : rocksdb::Env::Default();
  rocksdb::Status ls = env->FileExists(path_ + "/CURRENT");
  if (ls.ok()) ls = rocksdb::DB::ListColumnFamilies(db_options, path_, &existing);
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
  if (options_.mode == EventLogOptions::Mode::kReadWrite) MS_RETURN_IF_ERROR(SyncParentDirectory(db_options.env, path_));
  for (auto* h : handles_) families_[h->GetName()] = h;
  events_ = families_.at(std::string(kEventsFamily));
  streams_ = families_.at(std::string(kStreamsFamily));
  meta_ = families_.at(std::string(kMetaFamily));
  if (options_.mode != EventLogOptions::Mode::kReadWrite) SetAsideUnbuiltProjections();
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

// A projection newer than the database has no families in it, and one whose rows an older build
// wrote in another version cannot be compared with a refold by this build: a read-only open
// leaves both out; the next read-write open builds them.
void RocksEventLog::SetAsideUnbuiltProjections() {
  std::erase_if(options_.projections, [this](const std::unique_ptr<Projection>& p) {
    bool built = true;
    for (const auto& cf : p->column_families()) built = built && families_.contains(cf);
    Result<std::optional<uint32_t>> stored = StoredVersion(p->name());
    if (built && stored.ok() && stored->value_or(1) == p->version()) return false;
    unbuilt_.emplace_back(p->name());
    return true;
  });
}

rocksdb::ColumnFamilyOptions RocksEventLog::FamilyOptions(std::string_view name) const {
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

Status RocksEventLog::LoadHead() {
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

}  // namespace internal

Result<std::unique_ptr<EventLog>> EventLog::Open(const std::string& path, EventLogOptions options) {
  MS_RETURN_IF_ERROR(options.types.Validate().WithContext("opening event log at " + path));
  auto log = std::make_unique<internal::RocksEventLog>(path, std::move(options));
  MS_RETURN_IF_ERROR(log->OpenDb());
  MS_RETURN_IF_ERROR(log->Start());
  return std::unique_ptr<EventLog>(std::move(log));
}

}  // namespace marketsync
