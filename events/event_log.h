#pragma once

// EventLog: the durable, hash-chained, append-only event log (DESIGN.md §3). EventLog::Open is
// the RocksDB implementation, the embedded default (docs/event-log-format.md describes what it
// stores); pglog/pg_event_log.h is the same interface on PostgreSQL. The log is generic: it
// knows no event type of its own (EventLogOptions::types says which it accepts) and stores
// payloads as bytes.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "events/envelope.h"
#include "events/event_types.h"
#include "events/projection.h"
#include "events/step.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace marketsync {

struct LogHead {
  uint64_t seq = 0;  // 0 for an empty log
  Hash256 hash{};
};

// What a rebuild did.
struct RebuildReport {
  uint64_t events = 0;      // events folded
  uint64_t rows = 0;        // rows written
  uint64_t checkpoint = 0;  // the projection's checkpoint now
};

struct VerifyReport {
  bool ok = true;
  uint64_t events_checked = 0;
  uint64_t first_bad_seq = 0;  // when !ok
  std::string reason;          // when !ok: "bad checksum", "chain break", ...
};

// Reads envelopes in seq order. Holds a consistent view of the log from its creation.
// Must be destroyed before the EventLog that made it. Thread safety: one thread.
class EventIterator {
 public:
  virtual ~EventIterator() = default;
  // False at the end or on error; check status() then.
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual const Envelope& envelope() const = 0;
  // Moves the current envelope into *out (its old contents may be reused for the next one);
  // envelope() is unspecified until Next(). For readers that keep envelopes.
  virtual void TakeEnvelope(Envelope* out) { *out = envelope(); }
  // The stored bytes of the current envelope.
  virtual std::string_view raw() const = 0;
  // kCorruption naming the seq of an envelope that does not decode.
  virtual Status status() const = 0;
};

// Stored envelopes in seq order, not decoded or checked (DecodeEnvelopeInto does both): for a
// reader that hands the bytes to another thread to decode. bytes() lives until Next().
class StoredEventIterator {
 public:
  virtual ~StoredEventIterator() = default;
  // False at the end or on error; check status() then.
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual uint64_t seq() const = 0;  // the seq the bytes are stored under
  virtual std::string_view bytes() const = 0;
  virtual Status status() const = 0;  // kCorruption for a malformed key, kIOError from storage
};

struct EventLogOptions {
  enum class Mode : uint8_t {
    kReadWrite,  // exclusive: one process; appends allowed
    kReadOnly,   // a frozen view of the log as it was at open
    kSecondary,  // follows a read-write instance in another process (CatchUp, WaitForSeq)
  };
  Mode mode = Mode::kReadWrite;
  // The event types appends and reads accept (required: Open refuses an empty registry).
  EventTypeRegistry types;
  // kSecondary keeps its own info logs here; defaults to a fresh directory under /tmp.
  std::string secondary_path;
  // Read models folded in each step's batch. Read-write opens create their column families
  // and bring them up to the head before returning.
  std::vector<std::unique_ptr<Projection>> projections;
  // Column families for state other than projections (e.g. the engine's product state),
  // created by a read-write open and written through Step::writes.
  std::vector<std::string> extra_column_families;
  // The clock for recorded_at, in UTC microseconds. Defaults to the system clock.
  std::function<int64_t()> now_us;
  // Most steps grouped into one synced write.
  size_t max_group_steps = 512;
  // Called by the writer after each synced group write (for metrics): the steps it held and
  // how long the synced RocksDB write took. Must be cheap and must not call into the log.
  std::function<void(size_t steps, std::chrono::microseconds write_time)> on_group_commit;
  // Where RocksDB's own messages go, warnings and worse: (true for an error, the line). Unset,
  // RocksDB writes them to a LOG file in the database directory, which on a full disk fails
  // and aborts the process (Debian's RocksDB asserts when its info log writes again after a
  // failed write); a server sets this so a full disk cannot take it down.
  std::function<void(bool error, std::string_view line)> info_log;
  // Called once, from the failing writer, when a synced write fails and the log fail-stops,
  // with the status every later append answers (it says what happened in plain words). Must
  // not call into the log.
  std::function<void(const Status& failure)> on_fail_stop;
  // Test hook: a RocksDB Env to inject faults. Borrowed; must outlive the log.
  rocksdb::Env* env_for_test = nullptr;
};

// Every column family as of one durable head: a query that reads several rows (the overview,
// the statistics) sees them all at the same point, never half of a step that landed meanwhile.
// Thread safety: const methods from any thread; it must not outlive its log.
class LogSnapshot : public KvReader {
 public:
  // The head the snapshot holds: its rows fold exactly the events up to head().seq.
  virtual const LogHead& head() const = 0;
};

// Thread safety: every method may be called from any thread. Appends are serialised: one writer
// at a time (the appending thread that leads the current group) assigns seqs, chains hashes,
// folds projections and writes every step queued meanwhile in one synced RocksDB write (group
// commit). Destroying the log while an Append is in flight is not allowed.
class EventLog : public KvReader {
 public:
  static constexpr std::string_view kEventsFamily = "events";
  static constexpr std::string_view kStreamsFamily = "streams";
  static constexpr std::string_view kMetaFamily = "meta";

  // Opens (creating when read-write) the database at `path`.
  // Errors: kInvalidArgument (options.types is empty or invalid), kIOError (cannot open, locked
  // by another writer), kCorruption (head inconsistent).
  static Result<std::unique_ptr<EventLog>> Open(const std::string& path, EventLogOptions options);

  virtual ~EventLog() = default;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Appends a step in one synced write and returns once it is durable.
  // Errors: kFailedPrecondition (an expected version or key expectation did not match; nothing
  // written),
  // kInvalidArgument (bad step; nothing written), kIOError (the write failed: the log is now
  // fail-stopped and every later append fails until it is reopened; the step's outcome is
  // unknown until then), kUnavailable (closing, or opened read-only).
  virtual Result<AppendResult> Append(Step step) = 0;
  // Appends several steps in order, as one caller: each step is still atomic on its own and
  // checked on its own (one may fail while the others land), and they usually share one synced
  // write. Returns once every step is durable (or refused), one result per step, in order.
  virtual std::vector<Result<AppendResult>> AppendAll(std::vector<Step> steps) = 0;

  // The event types this log was opened with.
  virtual const EventTypeRegistry& types() const = 0;

  // The last durable seq and its hash.
  virtual LogHead Head() const = 0;
  // Envelopes from `from_seq` (inclusive) onwards, in order.
  virtual std::unique_ptr<EventIterator> Read(uint64_t from_seq) const = 0;
  // The same, as stored bytes.
  virtual std::unique_ptr<StoredEventIterator> ReadStored(uint64_t from_seq) const = 0;
  // A stream's events from `from_version` (inclusive). Empty when the stream does not exist.
  virtual Result<std::vector<Envelope>> ReadStream(std::string_view stream_id,
                                                   uint64_t from_version = 1) const = 0;
  // A stream's current version (0 when it does not exist).
  virtual Result<uint64_t> StreamVersion(std::string_view stream_id) const = 0;
  // The ids of the streams that start with `prefix`, in byte order.
  virtual Result<std::vector<std::string>> StreamIds(std::string_view prefix) const = 0;
  // Blocks until the head passes `after` or the timeout ends; returns the head seq then.
  // A secondary instance catches up with its primary while it waits.
  virtual uint64_t WaitForSeq(uint64_t after, std::chrono::milliseconds timeout) = 0;
  // Secondary only: reads what the primary wrote since the last call.
  virtual Status CatchUp() = 0;
  // Recomputes checksums and the hash chain over [from_seq, to_seq] (to_seq 0 = the head)
  // and, when the range reaches the head, checks the head record. The report names the first
  // bad seq. Errors: kIOError only; corruption is a finding, reported in the VerifyReport.
  virtual Result<VerifyReport> Verify(uint64_t from_seq = 1, uint64_t to_seq = 0) const = 0;

  // Point read and scan of any column family (projection rows, meta): see KvReader.
  // Point reads of many keys of one column family at once (one value or nullopt per key).
  virtual Result<std::vector<std::optional<std::string>>> MultiGet(std::string_view cf,
                                                                   const std::vector<std::string>& keys) const = 0;
  // The projections registered at open (owned by the log), in registration order.
  virtual std::vector<Projection*> projections() const = 0;
  // Read-only and secondary opens: registered projections the database has no rows of this
  // build's version for (it was last opened read-write by a version without them, or with
  // another layout of their rows). They are left out of projections() until a read-write open
  // builds them. Empty for a read-write open.
  virtual std::vector<std::string> unbuilt_projections() const = 0;
  // Drops the named projections' column families and refolds the whole log into them, in one
  // pass: folded in memory, written in large unsynced batches, then flushed, and the
  // checkpoints written last (synced). A crash part-way leaves markers, and the next read-write
  // open rebuilds again. `progress` is called now and then with the last seq folded.
  // Read-write only; no other thread may use the log meanwhile (the CLI holds the database
  // exclusively). Errors: kNotFound (no such projection), kUnavailable (not read-write), fold
  // errors.
  virtual Result<RebuildReport> RebuildProjections(const std::vector<std::string_view>& names,
                                                   const std::function<void(uint64_t)>& progress = {}) = 0;
  Result<RebuildReport> RebuildProjection(std::string_view name, const std::function<void(uint64_t)>& progress = {}) {
    return RebuildProjections({name}, progress);
  }
  // Appends envelopes exported from another log (their stored bytes, in seq order), as they
  // are: same seqs, times, ids and hashes. Each must continue the chain at the head (seq =
  // head + 1, prev_hash = head hash, the hash recomputes) and its stream (version = stream
  // version + 1). All land in one synced write, with projections folded, or none do.
  // Errors: kInvalidArgument naming the first envelope that does not continue the log.
  virtual Result<AppendResult> Import(const std::vector<std::string>& stored_envelopes) = 0;
  // A projection's checkpoint (last applied seq); 0 when it has none.
  virtual Result<uint64_t> Checkpoint(std::string_view projection) const = 0;
  // The sticky status of a fail-stopped writer (ok while healthy).
  virtual Status WriterStatus() const = 0;
  // A consistent view of the database now (a RocksDB snapshot; a read-only open is one
  // already). Errors: kIOError, kCorruption (the head row).
  virtual Result<std::unique_ptr<LogSnapshot>> Snapshot() const = 0;

 protected:
  EventLog() = default;
};

}  // namespace marketsync
