#include "events/internal/rocks_event_log.h"

#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <unordered_map>

#include "events/envelope_codec.h"
#include "events/internal/rocks_keys.h"
#include "events/projection_fold.h"

namespace marketsync::internal {

Status RocksEventLog::Start() {
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
    MS_ASSIGN_OR_RETURN(std::optional<uint32_t> stored, StoredVersion(p->name()));
    const uint32_t version = stored.value_or(1);
    if (head > 0 && (checkpoint == 0 || version != p->version())) {
      unfinished.push_back(p->name());
    } else if (!stored || version != p->version()) {
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

// Brings each projection whose checkpoint is behind the head up to it (a newly registered
// projection, or one whose families were dropped for a rebuild).
Status RocksEventLog::CatchUpProjections() {
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
      batch.Put(meta_, CheckpointKey(options_.projections[i]->name()), EncodeCheckpoint(last));
      rocksdb::WriteOptions wo;
      wo.sync = !it->Valid();
      MS_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "catching up projection"));
      if (!it->Valid()) break;
    }
  }
  return Status::Ok();
}

Result<std::vector<size_t>> RocksEventLog::ProjectionIndexes(const std::vector<std::string_view>& names) const {
  std::vector<size_t> indexes;
  for (std::string_view name : names) {
    size_t index = SIZE_MAX;
    for (size_t i = 0; i < options_.projections.size(); ++i) {
      if (options_.projections[i]->name() == name) index = i;
    }
    if (index == SIZE_MAX) return Status::NotFound("no projection named " + std::string(name));
    indexes.push_back(index);
  }
  return indexes;
}

Result<RebuildReport> RocksEventLog::RebuildProjections(const std::vector<std::string_view>& names,
                                                        const std::function<void(uint64_t)>& progress) {
  if (options_.mode != EventLogOptions::Mode::kReadWrite) {
    return Status::Unavailable("rebuild needs the event log open read-write");
  }
  MS_ASSIGN_OR_RETURN(std::vector<size_t> indexes, ProjectionIndexes(names));
  std::vector<Projection*> chosen;
  for (size_t index : indexes) chosen.push_back(options_.projections[index].get());
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
  MS_RETURN_IF_ERROR(DropAndCreateFamilies(indexes));
  RebuildReport report;
  report.events = fold.events;
  MS_ASSIGN_OR_RETURN(report.rows, IngestRebuiltRows(indexes, folded));

  rocksdb::WriteBatch done;
  for (Projection* p : chosen) {
    done.Put(meta_, CheckpointKey(p->name()), EncodeCheckpoint(fold.last_seq));
    done.Delete(meta_, RebuildMarkerKey(p->name()));
    done.Put(meta_, VersionKey(p->name()), EncodeVersion(p->version()));
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  MS_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &done), "finishing rebuild"));
  report.checkpoint = fold.last_seq;
  return report;
}

Status RocksEventLog::DropAndCreateFamilies(const std::vector<size_t>& indexes) {
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
    }
  }
  return Status::Ok();
}

// Each family's rows, sorted, go into one SST file that the database ingests: no memtable, no
// WAL, no flush, and the file is synced before the checkpoint is written. The files are sorted
// and written on two threads (the catalog's two big families take most of it), then ingested in
// order. Returns the rows written.
Result<uint64_t> RocksEventLog::IngestRebuiltRows(const std::vector<size_t>& indexes, const MemoryStore& folded) {
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
  uint64_t rows = 0;
  for (const Output& out : outputs) {
    MS_RETURN_IF_ERROR(out.status);
    if (out.rows == 0) continue;
    rows += out.rows;
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;
    MS_RETURN_IF_ERROR(FromRocks(db_->IngestExternalFile(out.handle, {out.file}, ingest), "ingesting rebuilt rows of " + out.cf));
  }
  return rows;
}

Result<AppendResult> RocksEventLog::Import(const std::vector<std::string>& stored) {
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
  MS_RETURN_IF_ERROR(ImportInto(stored, batch, store, head));
  MS_RETURN_IF_ERROR(store.Finish());
  PutHeadAndCheckpoints(batch, head);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status ws = db_->Write(wo, &batch);
  if (!ws.ok()) return FailStop("import", ws);
  versions_.Clear();
  Advance(head);
  return AppendResult{start.seq + 1, head.seq};
}

// Checks each envelope against the log as the batch leaves it and adds it, its streams rows and
// its projection rows to the batch; *head follows.
Status RocksEventLog::ImportInto(const std::vector<std::string>& stored, rocksdb::WriteBatch& batch,
                                 BatchStore& store, LogHead& head) {
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
      return Status::InvalidArgument("imported envelope " + std::to_string(i + 1) + " (seq " + std::to_string(seq) +
                                     "): " + why);
    };
    auto decoded = DecodeEnvelope(stored[i], seq, options_.types);
    if (!decoded.ok()) return bad(decoded.status().message());
    Envelope& e = *decoded;
    if (e.seq != seq) return bad("its seq is " + std::to_string(e.seq) + ", the log continues at " + std::to_string(seq));
    if (e.prev_hash != head.hash) return bad("its previous hash does not match the head");
    if (ComputeStoredBodyHash(stored[i]) != e.hash) return bad("its hash does not match its contents");
    if (Status valid = ValidateEnvelopeFields(e, options_.types); !valid.ok()) return bad(valid.message());
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
  return Status::Ok();
}

}  // namespace marketsync::internal
