#include "pglog/appender.h"

#include <cstring>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "events/envelope.h"
#include "events/envelope_codec.h"
#include "events/event_log.h"
#include "events/projection_meta.h"
#include "pglog/pg_arrays.h"
#include "pglog/reader.h"
#include "pglog/schema.h"

namespace marketsync::pglog {
namespace {

using KvKey = std::pair<std::string, std::string>;  // (family, key)
using KvMap = std::map<KvKey, std::optional<std::string>, std::less<>>;

// A step's writes while it is applied: the projections' and its own, over what the group
// holds, over the database. Kept apart until the step is accepted, so a refused step leaves
// nothing behind.
class StepStore final : public ProjectionStore {
 public:
  // `group`: the group's rows as applied so far (reads from the database are cached there).
  StepStore(PgConn& conn, KvMap& group) : conn_(conn), group_(group) {}

  // The projection whose Apply runs next: its families are the only ones it may touch.
  void SetOwner(const Projection* owner, const std::vector<std::string>* families) {
    owner_ = owner;
    owned_ = families;
  }

  Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key) override {
    MS_RETURN_IF_ERROR(CheckOwned(cf));
    return Read(cf, key);
  }
  Status Put(std::string_view cf, std::string_view key, std::string_view value) override {
    MS_RETURN_IF_ERROR(CheckOwned(cf));
    writes_[{std::string(cf), std::string(key)}] = std::string(value);
    return Status::Ok();
  }
  Status Delete(std::string_view cf, std::string_view key) override {
    MS_RETURN_IF_ERROR(CheckOwned(cf));
    writes_[{std::string(cf), std::string(key)}] = std::nullopt;
    return Status::Ok();
  }

  // The value a key has with this step's writes so far, the group's, then the database's.
  Result<std::optional<std::string>> Read(std::string_view cf, std::string_view key) {
    const KvKey k{std::string(cf), std::string(key)};
    if (auto it = writes_.find(k); it != writes_.end()) return it->second;
    if (auto it = group_.find(k); it != group_.end()) return it->second;
    MS_ASSIGN_OR_RETURN(std::optional<std::string> value, GetKv(conn_, k.first, k.second));
    group_.emplace(k, value);  // nothing of the group wrote it: the database's value is current
    return value;
  }
  void Write(const std::string& cf, const std::string& key, const std::optional<std::string>& value) {
    writes_[{cf, key}] = value;
  }
  KvMap& writes() { return writes_; }

 private:
  Status CheckOwned(std::string_view cf) const {
    if (owned_ == nullptr) return Status::Ok();
    for (const std::string& f : *owned_) {
      if (f == cf) return Status::Ok();
    }
    return Status::InvalidArgument("projection " + std::string(owner_->name()) + " touched column family " +
                                   std::string(cf) + ", which it does not own");
  }

  PgConn& conn_;
  KvMap& group_;
  KvMap writes_;
  const Projection* owner_ = nullptr;
  const std::vector<std::string>* owned_ = nullptr;
};

constexpr std::string_view kHeadForUpdate = "SELECT seq, hash FROM ms_head WHERE id = 1 FOR UPDATE";

// One group: the rows its steps read loaded in a few statements, the steps applied in memory
// (each sees what earlier ones wrote), and everything written in a few more. Round trips per
// group, not per event (but one per projection row read that the group has not seen yet).
class Group {
 public:
  Group(PgConn& conn, const AppendContext& context) : conn_(conn), context_(context) {
    for (Projection* p : context_.projections) owned_.push_back(p->column_families());
  }

  // BEGIN, the head (locked to COMMIT: appends from every node queue here, one group at a
  // time), the versions of every stream the steps append to, the values of every key they
  // expect: one round trip.
  Status Load(const std::vector<Step>& steps) {
    std::set<std::string> streams;
    std::set<KvKey> keys;
    for (const Step& step : steps) {
      for (const StreamAppend& s : step.streams) {
        // Only ids the log accepts (a text column cannot hold a NUL): a bad one is refused by
        // Apply, rather than failing the group's statement.
        if (ValidateStreamId(s.stream_id).ok()) streams.insert(s.stream_id);
      }
      for (const KeyExpectation& e : step.expect) keys.emplace(e.column_family, e.key);
    }
    std::vector<PgStatement> statements{{"BEGIN", {}}, {std::string(kHeadForUpdate), {}}};
    if (!streams.empty()) statements.push_back(StreamsQuery(streams));
    std::vector<std::string> families, names;
    for (const auto& [family, key] : keys) {
      families.push_back(family);
      names.push_back(key);
      kv_[{family, key}] = std::nullopt;
    }
    if (!keys.empty()) {
      statements.push_back({"SELECT family, key, value FROM ms_kv WHERE (family, key) IN "
                            "(SELECT * FROM unnest($1::text[], $2::bytea[]))",
                            {PgParam::Text(TextArray(families)), PgParam::Text(ByteaArray(names))}});
    }
    std::vector<Result<PgRows>> answers = conn_.Pipeline(statements);
    MS_RETURN_IF_ERROR(answers[0].status());
    MS_RETURN_IF_ERROR(TakeHead(std::move(answers[1])));
    size_t next = 2;
    if (!streams.empty()) MS_RETURN_IF_ERROR(TakeStreams(streams, std::move(answers[next++])));
    if (!keys.empty()) {
      MS_ASSIGN_OR_RETURN(PgRows r, std::move(answers[next++]));
      for (auto& row : r.rows) kv_[{*row[0], *row[1]}] = std::move(row[2]);
    }
    return Status::Ok();
  }

  // Envelopes exported from another log, as they are (EventLog::Import): each must continue
  // the chain at the head and its stream; all or none.
  Result<AppendResult> Import(const std::vector<std::string>& stored) {
    MS_RETURN_IF_ERROR(conn_.Exec("BEGIN"));
    MS_RETURN_IF_ERROR(TakeHead(conn_.Query(kHeadForUpdate)));
    std::vector<Envelope> envelopes;
    std::set<std::string> streams;
    for (size_t i = 0; i < stored.size(); ++i) {
      const uint64_t seq = head_.seq + 1 + i;
      auto decoded = DecodeEnvelope(stored[i], seq, *context_.types);
      if (!decoded.ok()) return BadImport(i, seq, decoded.status().message());
      if (Status valid = ValidateEnvelopeFields(*decoded, *context_.types); !valid.ok()) {
        return BadImport(i, seq, valid.message());
      }
      streams.insert(decoded->stream_id);
      envelopes.push_back(std::move(decoded).value());
    }
    const PgStatement versions = StreamsQuery(streams);
    MS_RETURN_IF_ERROR(TakeStreams(streams, conn_.Query(versions.sql, versions.params)));
    StepStore store(conn_, kv_);
    for (size_t i = 0; i < envelopes.size(); ++i) {
      Envelope& e = envelopes[i];
      const uint64_t seq = head_.seq + 1;
      if (e.seq != seq) return BadImport(i, seq, "its seq is " + std::to_string(e.seq) + ", the log continues at " + std::to_string(seq));
      if (std::string_view(reinterpret_cast<const char*>(e.prev_hash.data()), e.prev_hash.size()) != head_.hash) {
        return BadImport(i, seq, "its previous hash does not match the head");
      }
      if (ComputeStoredBodyHash(stored[i]) != e.hash) return BadImport(i, seq, "its hash does not match its contents");
      uint64_t& version = versions_.at(e.stream_id);
      if (e.stream_version != version + 1) {
        return BadImport(i, seq, "stream " + e.stream_id + " is at version " + std::to_string(version) +
                                     ", the envelope has version " + std::to_string(e.stream_version));
      }
      version = e.stream_version;
      dirty_streams_.insert(e.stream_id);
      MS_RETURN_IF_ERROR(Fold(e, store));
      event_seqs_.push_back(seq);
      event_streams_.push_back(e.stream_id);
      event_versions_.push_back(e.stream_version);
      event_bytes_.push_back(stored[i]);
      head_ = {seq, std::string(reinterpret_cast<const char*>(e.hash.data()), e.hash.size())};
    }
    for (auto& [key, value] : store.writes()) {
      kv_[key] = std::move(value);
      dirty_kv_.insert(key);
    }
    return AppendResult{first_ + 1, head_.seq};
  }

  // Applies one step in memory: its result, or its refusal (kFailedPrecondition: a condition
  // does not hold; kInvalidArgument: a field is invalid; a projection's error), which changes
  // nothing.
  Result<AppendResult> Apply(Step& step, int64_t now_us) {
    MS_RETURN_IF_ERROR(CheckConditions(step));
    std::vector<Envelope> envelopes;  // every one validated before the step changes anything
    std::unordered_map<std::string, uint64_t> versions;
    for (StreamAppend& s : step.streams) {
      uint64_t& version = versions.try_emplace(s.stream_id, versions_.at(s.stream_id)).first->second;
      for (NewEvent& ev : s.events) {
        Envelope& e = envelopes.emplace_back();
        e.stream_id = s.stream_id;
        e.stream_version = ++version;
        e.type = ev.type;
        e.payload_version = ev.payload_version;
        e.recorded_at_us = now_us;
        e.correlation_id = step.correlation_id;
        e.payload = std::move(ev.payload);
        MS_RETURN_IF_ERROR(ValidateEnvelopeFields(e, *context_.types));
      }
    }
    StepStore store(conn_, kv_);
    PgHead head = head_;
    AppendResult result;
    std::vector<std::string> bytes(envelopes.size());
    for (size_t i = 0; i < envelopes.size(); ++i) {
      Envelope& e = envelopes[i];
      e.seq = head.seq + 1;
      std::memcpy(e.prev_hash.data(), head.hash.data(), e.prev_hash.size());
      SealAndEncodeEnvelope(e, &bytes[i]);
      head = {e.seq, std::string(reinterpret_cast<const char*>(e.hash.data()), e.hash.size())};
      MS_RETURN_IF_ERROR(Fold(e, store));
      if (result.first_seq == 0) result.first_seq = e.seq;
      result.last_seq = e.seq;
    }
    for (const KeyValueWrite& w : step.writes) store.Write(w.column_family, w.key, w.value);
    // Accepted: the step's rows join the group's.
    for (size_t i = 0; i < envelopes.size(); ++i) {
      event_seqs_.push_back(envelopes[i].seq);
      event_streams_.push_back(std::move(envelopes[i].stream_id));
      event_versions_.push_back(envelopes[i].stream_version);
      event_bytes_.push_back(std::move(bytes[i]));
    }
    head_ = std::move(head);
    for (const auto& [stream, version] : versions) {
      versions_[stream] = version;
      dirty_streams_.insert(stream);
    }
    for (auto& [key, value] : store.writes()) {
      kv_[key] = std::move(value);
      dirty_kv_.insert(key);
    }
    return result;
  }

  // Writes what the applied steps changed (events, stream versions, key-value rows and the
  // projections' checkpoints, the head) and COMMITs, in one round trip. *commit_sent: the
  // COMMIT went out and its answer was lost, so whether the group landed is unknown.
  Status Commit(bool* commit_sent) {
    std::vector<PgStatement> statements;
    if (head_.seq != first_) {
      const std::string checkpoint = EncodeCheckpoint(head_.seq);
      for (const Projection* p : context_.projections) {
        KvKey key{std::string(EventLog::kMetaFamily), CheckpointKey(p->name())};
        kv_[key] = checkpoint;
        dirty_kv_.insert(std::move(key));
      }
      statements.push_back({"INSERT INTO ms_events (seq, stream_id, version, envelope) "
                            "SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bytea[])",
                            {PgParam::Text(IntArray(event_seqs_)), PgParam::Text(TextArray(event_streams_)),
                             PgParam::Text(IntArray(event_versions_)), PgParam::Text(ByteaArray(event_bytes_))}});
      AddStreamWrites(statements);
    }
    AddKvWrites(statements);
    if (head_.seq != first_) {
      statements.push_back({"UPDATE ms_head SET seq = $1, hash = $2 WHERE id = 1",
                            {PgParam::Text(std::to_string(head_.seq)), PgParam::Bytes(head_.hash)}});
      // Delivered at the COMMIT, to every node LISTENing (and to nobody if it rolls back).
      statements.push_back({"SELECT pg_notify($1, $2)",
                            {PgParam::Text(std::string(kHeadChannel)), PgParam::Text(std::to_string(head_.seq))}});
    }
    statements.push_back({"COMMIT", {}});
    std::vector<Result<PgRows>> answers = conn_.Pipeline(statements);
    for (size_t i = 0; i + 1 < answers.size(); ++i) {
      // A statement the server refused: the COMMIT was skipped, nothing landed.
      if (!answers[i].ok() && answers[i].status().code() != Status::Code::kUnavailable) return answers[i].status();
    }
    const Result<PgRows>& commit = answers.back();
    if (!commit.ok()) {
      *commit_sent = commit.status().code() == Status::Code::kUnavailable;
      return commit.status();
    }
    if (commit->command != "COMMIT") {
      return Status::IOError("PostgreSQL: the group was rolled back (" + commit->command + ")");
    }
    return Status::Ok();
  }

  // The group's last event, for a COMMIT whose answer was lost (InDoubt).
  void LastEvent(InDoubt* doubt) const {
    if (event_seqs_.empty()) return;
    doubt->last_seq = event_seqs_.back();
    doubt->last_envelope = event_bytes_.back();
  }

 private:
  Status TakeHead(Result<PgRows> answer) {
    MS_ASSIGN_OR_RETURN(PgRows h, std::move(answer));
    if (h.rows.size() != 1 || !h.rows[0][1] || h.rows[0][1]->size() != 32) {
      return Status::Corruption("PostgreSQL: the log's head row is missing or malformed");
    }
    head_ = {std::stoull(*h.rows[0][0]), std::move(*h.rows[0][1])};
    first_ = head_.seq;
    return Status::Ok();
  }

  static PgStatement StreamsQuery(const std::set<std::string>& streams) {
    return {"SELECT stream_id, version FROM ms_streams WHERE stream_id = ANY($1::text[])",
            {PgParam::Text(TextArray({streams.begin(), streams.end()}))}};
  }

  // The stored versions of `streams` (0 for a new one).
  Status TakeStreams(const std::set<std::string>& streams, Result<PgRows> answer) {
    for (const std::string& s : streams) versions_[s] = 0;
    MS_ASSIGN_OR_RETURN(PgRows r, std::move(answer));
    for (auto& row : r.rows) versions_[*row[0]] = std::stoull(*row[1]);
    return Status::Ok();
  }

  static Status BadImport(size_t i, uint64_t seq, const std::string& why) {
    return Status::InvalidArgument("imported envelope " + std::to_string(i + 1) + " (seq " + std::to_string(seq) + "): " + why);
  }

  // The step's families, stream ids, expected versions and key expectations.
  Status CheckConditions(const Step& step) {
    for (const KeyValueWrite& w : step.writes) MS_RETURN_IF_ERROR(CheckFamily(w.column_family));
    for (const KeyExpectation& e : step.expect) MS_RETURN_IF_ERROR(CheckFamily(e.column_family));
    for (const StreamAppend& s : step.streams) MS_RETURN_IF_ERROR(ValidateStreamId(s.stream_id));
    for (const StreamAppend& s : step.streams) {
      const uint64_t now = versions_.at(s.stream_id);
      if (s.expected_version != kAnyVersion && now != s.expected_version) {
        return Status::FailedPrecondition("stream " + s.stream_id + " is at version " + std::to_string(now) +
                                          ", expected " + std::to_string(s.expected_version));
      }
    }
    for (const KeyExpectation& e : step.expect) {
      const std::optional<std::string>& current = kv_.at({e.column_family, e.key});
      if (current != e.value) {
        return Status::FailedPrecondition(e.column_family + "/" + e.key + " is " +
                                          (current ? "\"" + *current + "\"" : "absent") + ", expected " +
                                          (e.value ? "\"" + *e.value + "\"" : "absent"));
      }
    }
    return Status::Ok();
  }

  Status CheckFamily(std::string_view cf) const {
    if (cf == EventLog::kEventsFamily || cf == EventLog::kStreamsFamily) {
      return Status::InvalidArgument("a step may not touch the " + std::string(cf) + " column family directly");
    }
    if (context_.families.empty() || context_.families.contains(cf)) return Status::Ok();
    for (const auto& families : owned_) {
      for (const std::string& f : families) {
        if (f == cf) return Status::Ok();
      }
    }
    return Status::InvalidArgument("no column family " + std::string(cf));
  }

  Status Fold(const Envelope& e, StepStore& store) {
    for (size_t i = 0; i < context_.projections.size(); ++i) {
      Projection* p = context_.projections[i];
      store.SetOwner(p, &owned_[i]);
      Status s = p->Apply(e, store);
      if (!s.ok()) return s.WithContext("projection " + std::string(p->name()) + " at seq " + std::to_string(e.seq));
    }
    store.SetOwner(nullptr, nullptr);
    return Status::Ok();
  }

  void AddStreamWrites(std::vector<PgStatement>& statements) const {
    if (dirty_streams_.empty()) return;
    std::vector<std::string> ids;
    std::vector<uint64_t> versions;
    for (const std::string& s : dirty_streams_) {
      ids.push_back(s);
      versions.push_back(versions_.at(s));
    }
    statements.push_back({"INSERT INTO ms_streams (stream_id, version) SELECT * FROM unnest($1::text[], $2::bigint[]) "
                          "ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version",
                          {PgParam::Text(TextArray(ids)), PgParam::Text(IntArray(versions))}});
  }

  void AddKvWrites(std::vector<PgStatement>& statements) const {
    std::vector<std::string> put_families, put_keys, put_values, del_families, del_keys;
    for (const KvKey& k : dirty_kv_) {  // each key once, with its last value
      const std::optional<std::string>& v = kv_.at(k);
      (v ? put_families : del_families).push_back(k.first);
      (v ? put_keys : del_keys).push_back(k.second);
      if (v) put_values.push_back(*v);
    }
    if (!put_keys.empty()) {
      statements.push_back({"INSERT INTO ms_kv (family, key, value) SELECT * FROM unnest($1::text[], $2::bytea[], "
                            "$3::bytea[]) ON CONFLICT (family, key) DO UPDATE SET value = EXCLUDED.value",
                            {PgParam::Text(TextArray(put_families)), PgParam::Text(ByteaArray(put_keys)),
                             PgParam::Text(ByteaArray(put_values))}});
    }
    if (!del_keys.empty()) {
      statements.push_back({"DELETE FROM ms_kv WHERE (family, key) IN (SELECT * FROM unnest($1::text[], $2::bytea[]))",
                            {PgParam::Text(TextArray(del_families)), PgParam::Text(ByteaArray(del_keys))}});
    }
  }

  PgConn& conn_;
  const AppendContext& context_;
  std::vector<std::vector<std::string>> owned_;  // each projection's families
  PgHead head_;
  uint64_t first_ = 0;
  std::unordered_map<std::string, uint64_t> versions_;  // every stream of the group, as applied so far
  KvMap kv_;                                             // keys read or written, as applied so far
  std::vector<uint64_t> event_seqs_, event_versions_;
  std::vector<std::string> event_streams_, event_bytes_;
  std::set<std::string> dirty_streams_;
  std::set<KvKey> dirty_kv_;
};

// Runs `body` (which BEGINs and COMMITs) and rolls back what it left open when it fails;
// *commit_sent: the COMMIT went out and its answer was lost.
template <typename T>
Result<T> InTransaction(PgConn& conn, bool* commit_sent, const std::function<Result<T>(bool*)>& body) {
  bool sent = false;
  auto out = body(&sent);
  if (!out.ok() && !sent && conn.ok()) (void)conn.Exec("ROLLBACK");
  *commit_sent = sent && !out.ok();
  return out;
}

}  // namespace

Result<std::vector<Result<AppendResult>>> AppendGroup(PgConn& conn, const AppendContext& context,
                                                      std::vector<Step>& steps, const std::function<int64_t()>& now_us,
                                                      InDoubt* in_doubt) {
  using Results = std::vector<Result<AppendResult>>;
  InDoubt local;
  InDoubt& doubt = in_doubt != nullptr ? *in_doubt : local;
  return InTransaction<Results>(conn, &doubt.commit_sent, [&](bool* sent) -> Result<Results> {
    Group g(conn, context);
    MS_RETURN_IF_ERROR(g.Load(steps));
    Results results;
    for (Step& step : steps) results.push_back(g.Apply(step, now_us()));
    Status committed = g.Commit(sent);
    if (!committed.ok() && *sent) {
      g.LastEvent(&doubt);
      doubt.results = std::move(results);
    }
    MS_RETURN_IF_ERROR(committed);
    return results;
  });
}

Result<AppendResult> ImportGroup(PgConn& conn, const AppendContext& context, const std::vector<std::string>& stored,
                                 InDoubt* in_doubt) {
  InDoubt local;
  InDoubt& doubt = in_doubt != nullptr ? *in_doubt : local;
  return InTransaction<AppendResult>(conn, &doubt.commit_sent, [&](bool* sent) -> Result<AppendResult> {
    Group g(conn, context);
    MS_ASSIGN_OR_RETURN(AppendResult r, g.Import(stored));
    Status committed = g.Commit(sent);
    if (!committed.ok() && *sent) {
      g.LastEvent(&doubt);
      doubt.results = {r};
    }
    MS_RETURN_IF_ERROR(committed);
    return r;
  });
}

Result<bool> CheckLanded(PgConn& conn, const InDoubt& group) {
  if (group.last_seq == 0) return Status::FailedPrecondition("the group wrote no event to look for");
  // The barrier: an update of the head row (a new row version: a transaction id and WAL), so
  // its COMMIT waits for the synchronous standby like any append's.
  std::vector<Result<PgRows>> barrier = conn.Pipeline({{"BEGIN", {}},
                                                       {"UPDATE ms_head SET seq = seq WHERE id = 1", {}},
                                                       {"COMMIT", {}}});
  for (auto& answer : barrier) MS_RETURN_IF_ERROR(answer.status());
  if (barrier.back()->command != "COMMIT") return Status::Unavailable("PostgreSQL: the barrier was rolled back");
  MS_ASSIGN_OR_RETURN(PgRows r, conn.Query("SELECT envelope FROM ms_events WHERE seq = $1",
                                           {PgParam::Text(std::to_string(group.last_seq))}));
  return r.rows.size() == 1 && r.rows[0][0] && *r.rows[0][0] == group.last_envelope;
}

}  // namespace marketsync::pglog
