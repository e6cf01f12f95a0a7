#include "events/internal/rocks_event_log.h"

#include <algorithm>
#include <chrono>

#include "events/envelope_codec.h"
#include "events/internal/rocks_keys.h"

namespace marketsync::internal {

// Group commit, leader style (as RocksDB's WriteThread): the caller that finds no write in
// flight becomes the writer for everything queued; callers that arrive meanwhile wait, and
// the first of them leads the next group. One writer at a time, and no thread hand-off when
// appends do not overlap.
Result<AppendResult> RocksEventLog::Append(Step step) {
  std::vector<Step> steps;
  steps.push_back(std::move(step));
  return std::move(AppendAll(std::move(steps)).front());
}

std::vector<Result<AppendResult>> RocksEventLog::AppendAll(std::vector<Step> steps) {
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

// Applies every projection to one event inside the batch.
Status RocksEventLog::ApplyProjections(const Envelope& e, BatchStore& store, size_t only) {
  for (size_t i = 0; i < options_.projections.size(); ++i) {
    if (only != SIZE_MAX && i != only) continue;
    auto& p = options_.projections[i];
    store.SetOwner(&projection_families_[i], p->name());
    Status s = p->Apply(e, store);
    if (!s.ok()) return s.WithContext("projection " + std::string(p->name()) + " at seq " + std::to_string(e.seq));
  }
  return Status::Ok();
}

// The writer's entry for a stream's current version (counting the group's earlier steps),
// read from the streams family when the writer does not know the stream yet.
Result<StreamVersions::Entry> RocksEventLog::VersionSlot(const std::string& stream_id) {
  if (std::optional<StreamVersions::Entry> known = versions_.Find(stream_id)) return *known;
  // The database does not change during a group (only the leader writes, at its end), so
  // one iterator serves every look-up of the group.
  if (!group_streams_it_) group_streams_it_.reset(db_->NewIterator(rocksdb::ReadOptions(), streams_));
  MS_ASSIGN_OR_RETURN(uint64_t stored, StoredStreamVersion(stream_id, group_streams_it_.get()));
  return versions_.Insert(stream_id, stored);
}

// Puts back the versions the steps after `mark` moved (a step that failed).
void RocksEventLog::UndoVersions(size_t mark) {
  while (version_undo_.size() > mark) {
    versions_.version(version_undo_.back().entry) = version_undo_.back().previous;
    version_undo_.pop_back();
  }
}

// Adds one step to the batch. On error the caller rolls the batch back to its save point.
Status RocksEventLog::CheckStepWrites(const Step& step, BatchStore& store) {
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
  return Status::Ok();
}

Status RocksEventLog::BuildStep(Step& step, rocksdb::WriteBatch& batch, BatchStore& store, int64_t now,
                                uint64_t& seq, Hash256& hash) {
  MS_RETURN_IF_ERROR(CheckStepWrites(step, store));
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
      if (Status valid = ValidateEnvelopeFields(e, options_.types); !valid.ok()) return valid.WithContext("stream " + sa.stream_id);
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
std::vector<Result<AppendResult>> RocksEventLog::WriteGroup(const std::vector<PendingAppend*>& group) {
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

  if (any_write) CommitGroup(group.size(), start, {seq, hash}, store, results);
  std::vector<Result<AppendResult>> out;
  out.reserve(group.size());
  for (auto& r : results) out.push_back(std::move(*r));
  return out;
}

void RocksEventLog::CommitGroup(size_t steps, const LogHead& start, const LogHead& end, BatchStore& store,
                                std::vector<std::optional<Result<AppendResult>>>& results) {
  rocksdb::WriteBatch& batch = group_batch_;
  const Status finished = store.Finish();
  if (end.seq > start.seq) PutHeadAndCheckpoints(batch, end);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  group_streams_it_.reset();  // release what it pins before writing
  const auto write_start = std::chrono::steady_clock::now();
  rocksdb::Status ws = finished.ok() ? db_->Write(wo, &batch) : rocksdb::Status::Aborted(finished.ToString());
  if (ws.ok() && options_.on_group_commit) {
    options_.on_group_commit(steps, std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now() - write_start));
  }
  if (!ws.ok()) {
    versions_.Clear();  // they counted the group that did not land
    const Status fail = FailStop("append", ws);
    for (auto& r : results) {
      if (r->ok()) r = fail;
    }
    return;
  }
  Advance(end);
}

void RocksEventLog::PutHeadAndCheckpoints(rocksdb::WriteBatch& batch, const LogHead& head) {
  batch.Put(meta_, kHeadKey, EncodeHead(head));
  const std::string cp = EncodeCheckpoint(head.seq);
  for (const auto& p : options_.projections) batch.Put(meta_, CheckpointKey(p->name()), cp);
}

Status RocksEventLog::FailStop(std::string_view what, const rocksdb::Status& ws) {
  const std::string detail = ws.ToString();
  std::string why = "the write failed";
  if (ws.IsNoSpace() || detail.find("No space left") != std::string::npos) {
    why = "the disk that holds the database is full (no space left on device)";
  } else if (detail.find("Input/output error") != std::string::npos) {
    why = "the disk reported an input/output error";
  }
  Status fail = Status::IOError(std::string(what) + " failed: " + why +
                                "; the log is fail-stopped and writes nothing more until it is reopened "
                                "(free space or fix the disk, then restart); reads keep working. RocksDB: " +
                                detail);
  bool first = false;
  {
    std::lock_guard lk(head_mu_);
    first = failed_.ok();
    if (first) failed_ = fail;
  }
  if (first && options_.on_fail_stop) options_.on_fail_stop(fail);
  return fail;
}

void RocksEventLog::Advance(const LogHead& head) {
  {
    std::lock_guard lk(head_mu_);
    head_ = head;
  }
  head_cv_.notify_all();
}

RocksEventLog::WriterLock::WriterLock(RocksEventLog& log) : log_(log) {
  std::unique_lock lk(log_.queue_mu_);
  log_.idle_cv_.wait(lk, [&] { return !log_.writer_active_; });
  log_.writer_active_ = true;
}

RocksEventLog::WriterLock::~WriterLock() {
  std::lock_guard lk(log_.queue_mu_);
  if (!log_.queue_.empty()) {
    log_.queue_.front()->leader = true;
    log_.queue_.front()->cv->notify_all();
  } else {
    log_.writer_active_ = false;
    log_.idle_cv_.notify_all();
  }
}

}  // namespace marketsync::internal
