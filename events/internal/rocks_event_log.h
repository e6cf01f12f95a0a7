#pragma once

// RocksEventLog: the EventLog on RocksDB. One class, its methods split by concept the way
// RocksDB splits DBImpl:
//   rocks_event_log_open.cc         opening, column family options, the head at open
//   rocks_event_log_write.cc        the write path: Append, AppendAll, WriteGroup, BuildStep
//   rocks_event_log_maintenance.cc  Start, CatchUpProjections, RebuildProjections, Import
//   rocks_event_log_read.cc         reads: Read, ReadStream, Get, Scan, WaitForSeq, CatchUp
//   rocks_event_log_verify.cc       Verify (checksums and the hash chain)
// Internal to events/; everyone else sees EventLog.

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "events/event_log.h"
#include "events/internal/batch_store.h"
#include "events/internal/stream_versions.h"

namespace marketsync {
class MemoryStore;
}  // namespace marketsync

namespace marketsync::internal {

// One step of an Append or AppendAll call waiting in the queue. Lives on its caller's stack;
// the steps of one call share the caller's condition variable.
struct PendingAppend {
  Step* step = nullptr;
  std::optional<Result<AppendResult>> result;  // set by the leader that wrote it
  bool leader = false;                         // the caller is to write the next group
  std::condition_variable* cv = nullptr;
};

// Thread safety: as EventLog says. Members below say what guards them.
class RocksEventLog final : public EventLog {
 public:
  // Holds the writer's role for work that is not a group append (rebuild, import): waits for
  // the current group to finish; appends that queue meanwhile wait, then lead as usual.
  class WriterLock {
   public:
    explicit WriterLock(RocksEventLog& log);
    ~WriterLock();
    WriterLock(const WriterLock&) = delete;
    WriterLock& operator=(const WriterLock&) = delete;

   private:
    RocksEventLog& log_;
  };

  RocksEventLog(std::string path, EventLogOptions options);
  ~RocksEventLog() override;

  // Opens the database and reads the head. Errors: as EventLog::Open.
  Status OpenDb();
  // Read-write only: finishes unfinished rebuilds, builds new or outdated projections, and
  // brings every projection up to the head.
  Status Start();

  // EventLog
  const EventTypeRegistry& types() const override { return options_.types; }
  Result<AppendResult> Append(Step step) override;
  std::vector<Result<AppendResult>> AppendAll(std::vector<Step> steps) override;
  LogHead Head() const override;
  std::unique_ptr<EventIterator> Read(uint64_t from_seq) const override;
  std::unique_ptr<StoredEventIterator> ReadStored(uint64_t from_seq) const override;
  Result<std::vector<Envelope>> ReadStream(std::string_view stream_id, uint64_t from_version) const override;
  Result<uint64_t> StreamVersion(std::string_view stream_id) const override;
  Result<std::vector<std::string>> StreamIds(std::string_view prefix) const override;
  uint64_t WaitForSeq(uint64_t after, std::chrono::milliseconds timeout) override;
  Status CatchUp() override;
  Result<VerifyReport> Verify(uint64_t from_seq, uint64_t to_seq) const override;
  Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key) const override;
  Result<std::vector<std::optional<std::string>>> MultiGet(std::string_view cf,
                                                           const std::vector<std::string>& keys) const override;
  Result<std::unique_ptr<KvIterator>> Scan(std::string_view cf) const override;
  Result<std::unique_ptr<LogSnapshot>> Snapshot() const override;
  std::vector<Projection*> projections() const override;
  std::vector<std::string> unbuilt_projections() const override { return unbuilt_; }
  Result<RebuildReport> RebuildProjections(const std::vector<std::string_view>& names,
                                           const std::function<void(uint64_t)>& progress) override;
  Result<AppendResult> Import(const std::vector<std::string>& stored_envelopes) override;
  Result<uint64_t> Checkpoint(std::string_view projection) const override;
  Status WriterStatus() const override;

 private:
  // open
  void SetAsideUnbuiltProjections();
  // The row layout version recorded for a projection (meta/projection_version/<name>); nullopt
  // when none is (rows written before versions were recorded are version 1); 0 for a malformed
  // value, which matches no version, so the projection is rebuilt.
  Result<std::optional<uint32_t>> StoredVersion(std::string_view projection) const;
  rocksdb::ColumnFamilyOptions FamilyOptions(std::string_view name) const;
  Status LoadHead();
  // reads
  std::unique_ptr<rocksdb::Iterator> ScanEvents() const;
  // `reuse`, when given, is an iterator over streams_ to seek with (the leader keeps one per
  // group: creating an iterator per new stream cost more than the rest of appending an event).
  Result<uint64_t> StoredStreamVersion(std::string_view stream_id, rocksdb::Iterator* reuse = nullptr) const;
  // maintenance
  Status CatchUpProjections();
  Result<std::vector<size_t>> ProjectionIndexes(const std::vector<std::string_view>& names) const;
  Status DropAndCreateFamilies(const std::vector<size_t>& indexes);
  Result<uint64_t> IngestRebuiltRows(const std::vector<size_t>& indexes, const MemoryStore& folded);
  Status ImportInto(const std::vector<std::string>& stored, rocksdb::WriteBatch& batch, BatchStore& store,
                    LogHead& head);
  // The head and every projection's checkpoint at `head`, into a batch.
  void PutHeadAndCheckpoints(rocksdb::WriteBatch& batch, const LogHead& head);
  // Makes the writer fail-stop after the synced write of `what` ("append", "import") failed
  // with `ws`; returns the kIOError it will answer from now on, which says in plain words what
  // happened (a full disk, a disk error) and what to do. Tells options_.on_fail_stop once.
  Status FailStop(std::string_view what, const rocksdb::Status& ws);
  // Publishes a new durable head and wakes its waiters.
  void Advance(const LogHead& head);
  // the write path
  // Applies every projection (or only projection `only`) to one event inside the batch.
  Status ApplyProjections(const Envelope& e, BatchStore& store, size_t only = SIZE_MAX);
  // The writer's entry for a stream's current version (counting the group's earlier steps),
  // read from the streams family when the writer does not know the stream yet.
  Result<StreamVersions::Entry> VersionSlot(const std::string& stream_id);
  // Puts back the versions the steps after `mark` moved (a step that failed).
  void UndoVersions(size_t mark);
  // Checks a step's expectations and families against the batch. Errors: kFailedPrecondition,
  // kInvalidArgument.
  Status CheckStepWrites(const Step& step, BatchStore& store);
  // Adds one step to the batch. On error the caller rolls the batch back to its save point.
  Status BuildStep(Step& step, rocksdb::WriteBatch& batch, BatchStore& store, int64_t now, uint64_t& seq,
                   Hash256& hash);
  // Writes one group and returns each step's result, in group order. Leader only.
  std::vector<Result<AppendResult>> WriteGroup(const std::vector<PendingAppend*>& group);
  // Writes a group's batch synced (the results of its steps turn into the failure if it fails).
  void CommitGroup(size_t steps, const LogHead& start, const LogHead& end, BatchStore& store,
                   std::vector<std::optional<Result<AppendResult>>>& results);

  const std::string path_;
  EventLogOptions options_;
  std::shared_ptr<rocksdb::Cache> block_cache_;  // shared with RocksDB's table factories
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; destroyed before db_ closes
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> families_;
  // projection_families_[i]: the families projection i owns.
  std::vector<std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>>> projection_families_;
  std::vector<std::string> unbuilt_;  // see unbuilt_projections()
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

}  // namespace marketsync::internal
