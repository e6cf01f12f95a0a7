#pragma once

// PgEventLog: EventLog on PostgreSQL (pglog/pg_event_log.h). Split like RocksEventLog:
// pg_event_log.cc (open, projections brought up and rebuilt, the append's group commit),
// pg_event_log_read.cc (reads, iterators, snapshots, waiting for the head). Internal to pglog/.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "events/event_log.h"
#include "pglog/appender.h"
#include "pglog/head_listener.h"
#include "pglog/pg_conn.h"

namespace marketsync::pglog::internal {

// How long the server lets the writer's session sit idle inside a transaction (a group holding
// the head row) before it ends the session: a stopped node cannot stall the others longer.
inline constexpr std::chrono::milliseconds kWriterIdleTimeout{5000};

// How long a writer whose COMMIT's answer was lost keeps trying to find out whether it landed
// (a failover under Patroni takes seconds) before it fail-stops.
inline constexpr std::chrono::milliseconds kInDoubtDeadline{30000};

// Connections for readers: taken for a read (or for an iterator's life) and given back; one
// the server dropped is not kept. Thread-safe.
class ConnPool {
 public:
  explicit ConnPool(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  class Lease {
   public:
    Lease(ConnPool* pool, std::unique_ptr<PgConn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease() {
      if (conn_) pool_->GiveBack(std::move(conn_));
    }
    PgConn& operator*() const { return *conn_; }
    PgConn* operator->() const { return conn_.get(); }

   private:
    ConnPool* pool_;
    std::unique_ptr<PgConn> conn_;
  };

  Result<Lease> Take();
  const std::string& conninfo() const { return conninfo_; }

 private:
  void GiveBack(std::unique_ptr<PgConn> conn);

  const std::string conninfo_;
  std::mutex mu_;
  std::vector<std::unique_ptr<PgConn>> idle_;
};

class PgEventLog final : public EventLog {
 public:
  PgEventLog(std::string conninfo, EventLogOptions options);
  ~PgEventLog() override;

  // Open's work: the schema, the families, the projections brought up to the head.
  Status Start();

  Result<AppendResult> Append(Step step) override;
  std::vector<Result<AppendResult>> AppendAll(std::vector<Step> steps) override;
  const EventTypeRegistry& types() const override { return options_.types; }
  LogHead Head() const override;
  std::unique_ptr<EventIterator> Read(uint64_t from_seq) const override;
  std::unique_ptr<StoredEventIterator> ReadStored(uint64_t from_seq) const override;
  Result<std::vector<Envelope>> ReadStream(std::string_view stream_id, uint64_t from_version) const override;
  Result<uint64_t> StreamVersion(std::string_view stream_id) const override;
  Result<std::vector<std::string>> StreamIds(std::string_view prefix) const override;
  uint64_t WaitForSeq(uint64_t after, std::chrono::milliseconds timeout) override;
  Status CatchUp() override { return Status::Ok(); }  // every read sees the database as it is
  Result<VerifyReport> Verify(uint64_t from_seq, uint64_t to_seq) const override;
  Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key) const override;
  Result<std::unique_ptr<KvIterator>> Scan(std::string_view cf) const override;
  Result<std::vector<std::optional<std::string>>> MultiGet(std::string_view cf,
                                                           const std::vector<std::string>& keys) const override;
  std::vector<Projection*> projections() const override;
  std::vector<std::string> unbuilt_projections() const override { return {}; }
  Result<RebuildReport> RebuildProjections(const std::vector<std::string_view>& names,
                                           const std::function<void(uint64_t)>& progress) override;
  Result<AppendResult> Import(const std::vector<std::string>& stored_envelopes) override;
  Result<uint64_t> Checkpoint(std::string_view projection) const override;
  Status WriterStatus() const override;
  Result<std::unique_ptr<LogSnapshot>> Snapshot() const override;

  // kInvalidArgument for a family that is not a key-value family of this log.
  Status CheckFamily(std::string_view cf) const;
  Result<ConnPool::Lease> TakeConn() const { return readers_.Take(); }

 private:
  struct Pending {
    Step step;
    std::optional<Result<AppendResult>> result;
  };

  // Writes one group (leader only) and gives each of its steps its result.
  void WriteGroup(const std::vector<Pending*>& group);
  // A group whose COMMIT's answer was lost: reconnects (to the new primary after a failover)
  // until CheckLanded answers or kInDoubtDeadline passes, then fail-stops (the outcome stays
  // unknown). `cause`: why the answer was lost.
  Result<bool> ResolveInDoubt(const InDoubt& doubt, const Status& cause);
  Status FailStop(const Status& cause);
  Result<std::unique_ptr<PgConn>> ConnectWriter() const;
  bool read_write() const { return options_.mode == EventLogOptions::Mode::kReadWrite; }

  const std::string conninfo_;
  EventLogOptions options_;
  AppendContext context_;
  std::set<std::string, std::less<>> families_;  // every key-value family: meta, extra, projections'
  mutable ConnPool readers_;

  // The writer's connection and state, the leader's alone while it writes.
  std::unique_ptr<PgConn> writer_;
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;  // a group was written; waiters look for their results
  std::deque<Pending*> queue_;
  bool writing_ = false;

  mutable std::mutex head_mu_;
  std::condition_variable head_cv_;  // this node appended
  uint64_t local_head_ = 0;          // the last seq this node wrote
  mutable LogHead last_head_;        // the last head read: Head()'s answer when the server is not
  Status failed_;                    // sticky: the outcome of a COMMIT is unknown
  uint64_t notified_head_ = 0;       // the last seq the head channel announced (any node's)

  // Started by the first WaitForSeq (a node that never waits opens no extra connection). Last
  // member: destroyed, and its thread joined, before what its callback touches.
  std::once_flag listener_once_;
  std::unique_ptr<HeadListener> listener_;
};

}  // namespace marketsync::pglog::internal
