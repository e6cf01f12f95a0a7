#include "pglog/pg_event_log.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "base/clock.h"
#include "events/projection_fold.h"
#include "events/projection_meta.h"
#include "pglog/internal/pg_event_log.h"
#include "pglog/pg_arrays.h"
#include "pglog/reader.h"
#include "pglog/schema.h"

namespace marketsync::pglog {
namespace internal {

Result<ConnPool::Lease> ConnPool::Take() {
  {
    std::lock_guard lk(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<PgConn> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
  }
  MS_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, PgConn::Connect(conninfo_));
  return Lease(this, std::move(conn));
}

void ConnPool::GiveBack(std::unique_ptr<PgConn> conn) {
  if (!conn->ok()) return;  // dropped by the server: the next Take connects afresh
  std::lock_guard lk(mu_);
  idle_.push_back(std::move(conn));
}

PgEventLog::PgEventLog(std::string conninfo, EventLogOptions options)
    : conninfo_(std::move(conninfo)), options_(std::move(options)), readers_(conninfo_) {
  if (!options_.now_us) options_.now_us = &NowUs;
  families_.insert(std::string(kMetaFamily));
  for (const std::string& f : options_.extra_column_families) families_.insert(f);
  for (const auto& p : options_.projections) {
    for (const std::string& f : p->column_families()) families_.insert(f);
  }
  context_.types = &options_.types;
  context_.families = families_;
  for (const auto& p : options_.projections) context_.projections.push_back(p.get());
}

PgEventLog::~PgEventLog() = default;

Status PgEventLog::Start() {
  if (!read_write()) {
    MS_ASSIGN_OR_RETURN(ConnPool::Lease conn, readers_.Take());
    auto schema = conn->Query("SELECT version FROM ms_schema WHERE id = 1");
    if (!schema.ok() && schema.status().code() == Status::Code::kInvalidArgument) {  // 42P01: no such table
      return Status::NotFound("no marketsync log in this PostgreSQL database");
    }
    MS_RETURN_IF_ERROR(schema.status());
    return ReadHead(*conn).status();
  }
  MS_ASSIGN_OR_RETURN(writer_, ConnectWriter());
  MS_RETURN_IF_ERROR(EnsureSchema(*writer_));
  MS_ASSIGN_OR_RETURN(PgHead head, ReadHead(*writer_));
  local_head_ = head.seq;
  // A projection whose rows are of another layout, or behind the head (a crash between a
  // rebuild's delete and its rows cannot happen: a rebuild is one transaction), is refolded.
  std::vector<std::string_view> stale;
  for (const auto& p : options_.projections) {
    MS_ASSIGN_OR_RETURN(std::optional<std::string> v, GetKv(*writer_, kMetaFamily, VersionKey(p->name())));
    MS_ASSIGN_OR_RETURN(uint64_t checkpoint, Checkpoint(p->name()));
    if (DecodeVersion(v) != p->version() || checkpoint != head.seq) stale.push_back(p->name());
  }
  if (stale.empty()) return Status::Ok();
  return RebuildProjections(stale, {}).status();
}

// The writer's connection. A group holds the head row from its first statement to its COMMIT,
// and every node's appends wait for it: if this process stops in between (SIGSTOP, a VM
// paused, a debugger), the server ends the session after kWriterIdleTimeout idle in its
// transaction, rolling the group back (its appenders get an error), and the others go on.
Result<std::unique_ptr<PgConn>> PgEventLog::ConnectWriter() const {
  MS_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, PgConn::Connect(conninfo_));
  MS_RETURN_IF_ERROR(conn->Exec("SET idle_in_transaction_session_timeout = " +
                                std::to_string(kWriterIdleTimeout.count())));
  return conn;
}

Status PgEventLog::CheckFamily(std::string_view cf) const {
  if (families_.contains(cf)) return Status::Ok();
  return Status::InvalidArgument("no column family " + std::string(cf));
}

Result<AppendResult> PgEventLog::Append(Step step) {
  std::vector<Step> one;
  one.push_back(std::move(step));
  return std::move(AppendAll(std::move(one))[0]);
}

// Group commit, as on RocksDB: the first caller to find no group being written leads, taking
// every step queued meanwhile (up to max_group_steps) into one transaction; the others wait.
std::vector<Result<AppendResult>> PgEventLog::AppendAll(std::vector<Step> steps) {
  if (!read_write()) {
    return std::vector<Result<AppendResult>>(steps.size(), Status::Unavailable("the event log is open read-only"));
  }
  std::vector<Pending> mine(steps.size());
  for (size_t i = 0; i < steps.size(); ++i) mine[i].step = std::move(steps[i]);
  std::unique_lock lk(queue_mu_);
  for (Pending& p : mine) queue_.push_back(&p);
  auto all_done = [&] {
    return std::all_of(mine.begin(), mine.end(), [](const Pending& p) { return p.result.has_value(); });
  };
  while (!all_done()) {
    if (writing_) {
      queue_cv_.wait(lk);
      continue;
    }
    writing_ = true;
    std::vector<Pending*> group;
    const size_t n = std::min(queue_.size(), std::max<size_t>(options_.max_group_steps, 1));
    group.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    lk.unlock();
    WriteGroup(group);
    lk.lock();
    writing_ = false;
    queue_cv_.notify_all();
  }
  std::vector<Result<AppendResult>> out;
  out.reserve(mine.size());
  for (Pending& p : mine) out.push_back(std::move(*p.result));
  return out;
}

void PgEventLog::WriteGroup(const std::vector<Pending*>& group) {
  auto answer_all = [&](const Status& s) {
    for (Pending* p : group) p->result = s;
  };
  if (Status failed = WriterStatus(); !failed.ok()) return answer_all(failed);
  if (writer_ == nullptr || !writer_->ok()) {  // dropped (a failover, a restart): connect again
    auto conn = ConnectWriter();
    if (!conn.ok()) return answer_all(conn.status());
    writer_ = std::move(conn).value();
  }
  std::vector<Step> steps;
  steps.reserve(group.size());
  for (Pending* p : group) steps.push_back(std::move(p->step));
  InDoubt doubt;
  const auto started = std::chrono::steady_clock::now();
  auto results = AppendGroup(*writer_, context_, steps, options_.now_us, &doubt);
  if (!results.ok()) {
    // Before the COMMIT went out nothing landed: the steps fail, the log goes on. After it,
    // the outcome is found out on the primary (ResolveInDoubt) and the steps get it.
    if (!doubt.commit_sent) return answer_all(results.status());
    auto landed = ResolveInDoubt(doubt, results.status());
    if (!landed.ok()) return answer_all(landed.status());
    if (!*landed) {
      return answer_all(Status::Unavailable("the connection to PostgreSQL dropped while the group was committed, and "
                                            "the primary has no trace of it: nothing of it landed (" +
                                            results.status().message() + ")"));
    }
    results = std::move(doubt.results);
  }
  if (options_.on_group_commit) {
    options_.on_group_commit(group.size(), std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::steady_clock::now() - started));
  }
  uint64_t last = 0;
  for (size_t i = 0; i < group.size(); ++i) {
    if ((*results)[i].ok()) last = std::max(last, (*results)[i]->last_seq);
    group[i]->result = std::move((*results)[i]);
  }
  if (last > 0) {
    std::lock_guard lk(head_mu_);
    local_head_ = std::max(local_head_, last);
    head_cv_.notify_all();
  }
}

Result<bool> PgEventLog::ResolveInDoubt(const InDoubt& doubt, const Status& cause) {
  if (doubt.last_seq == 0) {  // key-value writes only: nothing to look for, and nothing to undo
    return Status::Unavailable("the connection to PostgreSQL dropped while a group of key-value writes was "
                               "committed: they may or may not have landed (" + cause.message() + ")");
  }
  writer_.reset();
  const auto deadline = std::chrono::steady_clock::now() + kInDoubtDeadline;
  for (;;) {
    auto conn = ConnectWriter();
    Status failed = conn.status();
    if (conn.ok()) {
      auto landed = CheckLanded(**conn, doubt);
      if (landed.ok()) {
        writer_ = std::move(conn).value();
        return *landed;
      }
      failed = landed.status();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return FailStop(Status::Unavailable(cause.message() + "; then, for " +
                                          std::to_string(kInDoubtDeadline.count() / 1000) +
                                          " s, no primary could say whether it landed: " + failed.message()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Status PgEventLog::FailStop(const Status& cause) {
  Status failed = Status::IOError("the log's PostgreSQL connection failed while a group was committed, so whether "
                                  "it landed is unknown; appends are refused until the log is reopened (" +
                                  cause.message() + ")");
  {
    std::lock_guard lk(head_mu_);
    if (failed_.ok()) failed_ = failed;
  }
  if (options_.on_fail_stop) options_.on_fail_stop(failed);
  return failed;
}

Status PgEventLog::WriterStatus() const {
  std::lock_guard lk(head_mu_);
  return failed_;
}

std::vector<Projection*> PgEventLog::projections() const {
  std::vector<Projection*> out;
  for (const auto& p : options_.projections) out.push_back(p.get());
  return out;
}

Result<uint64_t> PgEventLog::Checkpoint(std::string_view projection) const {
  MS_ASSIGN_OR_RETURN(std::optional<std::string> v, Get(kMetaFamily, CheckpointKey(projection)));
  return DecodeCheckpoint(projection, v);
}

Result<AppendResult> PgEventLog::Import(const std::vector<std::string>& stored) {
  if (!read_write()) return Status::Unavailable("the event log is open read-only");
  if (stored.empty()) return AppendResult{};
  std::unique_lock lk(queue_mu_);  // as a writer: no group is written meanwhile
  queue_cv_.wait(lk, [&] { return !writing_; });
  MS_RETURN_IF_ERROR(WriterStatus());
  InDoubt doubt;
  auto r = ImportGroup(*writer_, context_, stored, &doubt);
  if (!r.ok() && doubt.commit_sent) {
    MS_ASSIGN_OR_RETURN(bool landed, ResolveInDoubt(doubt, r.status()));
    if (landed) r = std::move(doubt.results[0]);
  }
  if (!r.ok()) return r.status();
  std::lock_guard head_lk(head_mu_);
  local_head_ = std::max(local_head_, r->last_seq);
  head_cv_.notify_all();
  return r;
}

// Folds the whole log into memory, then replaces the projections' rows, checkpoints and
// versions in one transaction that holds the head row: if another node appended meanwhile, the
// fold is done again (a few times at most).
Result<RebuildReport> PgEventLog::RebuildProjections(const std::vector<std::string_view>& names,
                                                     const std::function<void(uint64_t)>& progress) {
  if (!read_write()) return Status::Unavailable("the event log is open read-only");
  std::vector<Projection*> chosen;
  std::vector<std::string> families;
  for (std::string_view name : names) {
    auto it = std::find_if(options_.projections.begin(), options_.projections.end(),
                           [&](const auto& p) { return p->name() == name; });
    if (it == options_.projections.end()) return Status::NotFound("no projection " + std::string(name));
    chosen.push_back(it->get());
    for (const std::string& f : (*it)->column_families()) families.push_back(f);
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    MemoryStore store;
    MS_ASSIGN_OR_RETURN(FoldResult fold, FoldLog(*this, chosen, store, {}, progress));
    RebuildReport report{fold.events, 0, fold.last_seq};
    bool moved = false;
    auto replace = [&]() -> Result<RebuildReport> {
      MS_ASSIGN_OR_RETURN(PgRows h, writer_->Query("SELECT seq FROM ms_head WHERE id = 1 FOR UPDATE"));
      if (h.rows.size() != 1 || std::stoull(*h.rows[0][0]) != fold.last_seq) {
        moved = true;
        return Status::Unavailable("the log moved during the rebuild");
      }
      MS_RETURN_IF_ERROR(writer_->Exec("DELETE FROM ms_kv WHERE family = ANY($1::text[])",
                                       {PgParam::Text(TextArray(families))}));
      std::vector<std::string> bookkeeping;
      for (Projection* p : chosen) {
        bookkeeping.push_back(CheckpointKey(p->name()));
        bookkeeping.push_back(VersionKey(p->name()));
      }
      MS_RETURN_IF_ERROR(writer_->Exec("DELETE FROM ms_kv WHERE family = $1 AND key = ANY($2::bytea[])",
                                       {PgParam::Text(std::string(kMetaFamily)), PgParam::Text(ByteaArray(bookkeeping))}));
      std::vector<std::string> fs, keys, values;
      auto flush = [&]() -> Status {
        if (keys.empty()) return Status::Ok();
        Status s = writer_->Exec("INSERT INTO ms_kv (family, key, value) "
                                 "SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[])",
                                 {PgParam::Text(TextArray(fs)), PgParam::Text(ByteaArray(keys)),
                                  PgParam::Text(ByteaArray(values))});
        fs.clear(), keys.clear(), values.clear();
        return s;
      };
      auto put = [&](std::string_view f, std::string_view k, std::string_view v) -> Status {
        fs.emplace_back(f), keys.emplace_back(k), values.emplace_back(v);
        return keys.size() >= 5000 ? flush() : Status::Ok();
      };
      for (const std::string& f : families) {
        for (const MemoryStore::Row* row : store.SortedRows(f)) {
          MS_RETURN_IF_ERROR(put(f, row->first, row->second));
          ++report.rows;
        }
      }
      for (Projection* p : chosen) {
        MS_RETURN_IF_ERROR(put(kMetaFamily, CheckpointKey(p->name()), EncodeCheckpoint(fold.last_seq)));
        MS_RETURN_IF_ERROR(put(kMetaFamily, VersionKey(p->name()), EncodeVersion(p->version())));
      }
      MS_RETURN_IF_ERROR(flush());
      return report;
    };
    MS_RETURN_IF_ERROR(writer_->Exec("BEGIN"));
    auto done = replace();
    if (done.ok()) {
      MS_RETURN_IF_ERROR(writer_->Exec("COMMIT"));
      return done;
    }
    (void)writer_->Exec("ROLLBACK");
    if (!moved) return done.status();
  }
  return Status::Unavailable("the log kept moving during the rebuild (other nodes appending); try again");
}

}  // namespace internal

Result<std::unique_ptr<EventLog>> OpenPgEventLog(const std::string& conninfo, EventLogOptions options) {
  MS_RETURN_IF_ERROR(options.types.Validate().WithContext("opening the event log on PostgreSQL"));
  auto log = std::make_unique<internal::PgEventLog>(conninfo, std::move(options));
  MS_RETURN_IF_ERROR(log->Start());
  return std::unique_ptr<EventLog>(std::move(log));
}

}  // namespace marketsync::pglog
