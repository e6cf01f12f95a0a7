#include "pglog/appender.h"

#include <cstring>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "events/envelope.h"
#include "events/envelope_codec.h"
#include "pglog/schema.h"

namespace marketsync::pglog {
namespace {

// Array literals for unnest(): every row of a kind goes in one parameter, one statement.
std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const std::string& s : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string ByteaArray(const std::vector<std::string>& items) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "{";
  for (const std::string& s : items) {
    if (out.size() > 1) out += ',';
    out += "\"\\\\x";  // the element's text is \x…, its backslash escaped for the array
    for (unsigned char c : s) {
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    out += '"';
  }
  return out + "}";
}

std::string IntArray(const std::vector<uint64_t>& items) {
  std::string out = "{";
  for (uint64_t v : items) {
    if (out.size() > 1) out += ',';
    out += std::to_string(v);
  }
  return out + "}";
}

using KvKey = std::pair<std::string, std::string>;  // (family, key)

// One group: the rows its steps read loaded in a few statements, the steps applied in memory
// (each sees what earlier ones wrote), and everything written in a few more. Round trips per
// group, not per event.
class Group {
 public:
  Group(PgConn& conn, const EventTypeRegistry& types) : conn_(conn), types_(types) {}

  // The head (locked to COMMIT: appends from every node queue here, one group at a time), the
  // versions of every stream the steps append to, the values of every key they expect.
  Status Load(const std::vector<Step>& steps) {
    MS_ASSIGN_OR_RETURN(PgRows h, conn_.Query("SELECT seq, hash FROM ms_head WHERE id = 1 FOR UPDATE"));
    if (h.rows.size() != 1 || !h.rows[0][1] || h.rows[0][1]->size() != 32) {
      return Status::Corruption("PostgreSQL: the log's head row is missing or malformed");
    }
    head_ = {std::stoull(*h.rows[0][0]), std::move(*h.rows[0][1])};
    first_ = head_.seq;
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
    for (const std::string& s : streams) versions_[s] = 0;
    if (!streams.empty()) {
      MS_ASSIGN_OR_RETURN(PgRows r, conn_.Query("SELECT stream_id, version FROM ms_streams WHERE stream_id = ANY($1::text[])",
                                                {PgParam::Text(TextArray({streams.begin(), streams.end()}))}));
      for (auto& row : r.rows) versions_[*row[0]] = std::stoull(*row[1]);
    }
    if (!keys.empty()) {
      std::vector<std::string> families, names;
      for (const auto& [family, key] : keys) {
        families.push_back(family);
        names.push_back(key);
        kv_[{family, key}] = std::nullopt;
      }
      MS_ASSIGN_OR_RETURN(PgRows r, conn_.Query("SELECT family, key, value FROM ms_kv WHERE (family, key) IN "
                                                "(SELECT * FROM unnest($1::text[], $2::bytea[]))",
                                                {PgParam::Text(TextArray(families)), PgParam::Text(ByteaArray(names))}));
      for (auto& row : r.rows) kv_[{*row[0], *row[1]}] = std::move(row[2]);
    }
    return Status::Ok();
  }

  // Applies one step in memory: its result, or its refusal (kFailedPrecondition: a condition
  // does not hold; kInvalidArgument: a field is invalid), which changes nothing.
  Result<AppendResult> Apply(Step& step, int64_t now_us) {
    for (const StreamAppend& s : step.streams) MS_RETURN_IF_ERROR(ValidateStreamId(s.stream_id));
    for (const StreamAppend& s : step.streams) {
      const uint64_t now = versions_.at(s.stream_id);
      if (s.expected_version != kAnyVersion && now != s.expected_version) {
        return Status::FailedPrecondition("stream " + s.stream_id + " is at version " + std::to_string(now) +
                                          ", expected " + std::to_string(s.expected_version));
      }
    }
    for (const KeyExpectation& e : step.expect) {
      if (kv_.at({e.column_family, e.key}) != e.value) {
        return Status::FailedPrecondition("key " + e.column_family + "/" + e.key + " is not as expected");
      }
    }
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
        MS_RETURN_IF_ERROR(ValidateEnvelopeFields(e, types_));
      }
    }
    AppendResult result;
    for (Envelope& e : envelopes) {
      e.seq = head_.seq + 1;
      std::memcpy(e.prev_hash.data(), head_.hash.data(), e.prev_hash.size());
      std::string bytes;
      SealAndEncodeEnvelope(e, &bytes);
      event_seqs_.push_back(e.seq);
      event_streams_.push_back(e.stream_id);
      event_versions_.push_back(e.stream_version);
      event_bytes_.push_back(std::move(bytes));
      head_ = {e.seq, std::string(reinterpret_cast<const char*>(e.hash.data()), e.hash.size())};
      if (result.first_seq == 0) result.first_seq = e.seq;
      result.last_seq = e.seq;
    }
    for (const auto& [stream, version] : versions) {
      versions_[stream] = version;
      dirty_streams_.insert(stream);
    }
    for (const KeyValueWrite& w : step.writes) {
      kv_[{w.column_family, w.key}] = w.value;
      dirty_kv_.emplace(w.column_family, w.key);
    }
    return result;
  }

  // Writes what the applied steps changed: events, stream versions, key-value rows, the head.
  Status Flush() {
    if (!event_seqs_.empty()) {
      MS_RETURN_IF_ERROR(conn_.Exec(
          "INSERT INTO ms_events (seq, stream_id, version, envelope) "
          "SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bytea[])",
          {PgParam::Text(IntArray(event_seqs_)), PgParam::Text(TextArray(event_streams_)),
           PgParam::Text(IntArray(event_versions_)), PgParam::Text(ByteaArray(event_bytes_))}));
    }
    if (!dirty_streams_.empty()) {
      std::vector<std::string> ids;
      std::vector<uint64_t> versions;
      for (const std::string& s : dirty_streams_) {
        ids.push_back(s);
        versions.push_back(versions_.at(s));
      }
      MS_RETURN_IF_ERROR(conn_.Exec(
          "INSERT INTO ms_streams (stream_id, version) SELECT * FROM unnest($1::text[], $2::bigint[]) "
          "ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version",
          {PgParam::Text(TextArray(ids)), PgParam::Text(IntArray(versions))}));
    }
    std::vector<std::string> put_families, put_keys, put_values, del_families, del_keys;
    for (const KvKey& k : dirty_kv_) {  // each key once, with its last value
      const std::optional<std::string>& v = kv_.at(k);
      (v ? put_families : del_families).push_back(k.first);
      (v ? put_keys : del_keys).push_back(k.second);
      if (v) put_values.push_back(*v);
    }
    if (!put_keys.empty()) {
      MS_RETURN_IF_ERROR(conn_.Exec(
          "INSERT INTO ms_kv (family, key, value) SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[]) "
          "ON CONFLICT (family, key) DO UPDATE SET value = EXCLUDED.value",
          {PgParam::Text(TextArray(put_families)), PgParam::Text(ByteaArray(put_keys)),
           PgParam::Text(ByteaArray(put_values))}));
    }
    if (!del_keys.empty()) {
      MS_RETURN_IF_ERROR(conn_.Exec(
          "DELETE FROM ms_kv WHERE (family, key) IN (SELECT * FROM unnest($1::text[], $2::bytea[]))",
          {PgParam::Text(TextArray(del_families)), PgParam::Text(ByteaArray(del_keys))}));
    }
    if (head_.seq == first_) return Status::Ok();
    return conn_.Exec("UPDATE ms_head SET seq = $1, hash = $2 WHERE id = 1",
                      {PgParam::Text(std::to_string(head_.seq)), PgParam::Bytes(head_.hash)});
  }

 private:
  PgConn& conn_;
  const EventTypeRegistry& types_;
  PgHead head_;
  uint64_t first_ = 0;
  std::unordered_map<std::string, uint64_t> versions_;  // every stream of the group, as applied so far
  std::map<KvKey, std::optional<std::string>> kv_;       // expected and written keys, as applied so far
  std::vector<uint64_t> event_seqs_, event_versions_;
  std::vector<std::string> event_streams_, event_bytes_;
  std::set<std::string> dirty_streams_;
  std::set<KvKey> dirty_kv_;
};

}  // namespace

Result<std::vector<Result<AppendResult>>> AppendGroup(PgConn& conn, const EventTypeRegistry& types,
                                                      std::vector<Step>& steps, const std::function<int64_t()>& now_us) {
  MS_RETURN_IF_ERROR(conn.Exec("BEGIN"));
  auto group = [&]() -> Result<std::vector<Result<AppendResult>>> {
    Group g(conn, types);
    MS_RETURN_IF_ERROR(g.Load(steps));
    std::vector<Result<AppendResult>> results;
    for (Step& step : steps) results.push_back(g.Apply(step, now_us()));
    MS_RETURN_IF_ERROR(g.Flush());
    MS_ASSIGN_OR_RETURN(PgRows commit, conn.Query("COMMIT"));
    if (commit.command != "COMMIT") return Status::IOError("PostgreSQL: the group was rolled back (" + commit.command + ")");
    return results;
  };
  auto out = group();
  if (!out.ok() && conn.ok()) (void)conn.Exec("ROLLBACK");
  return out;
}

}  // namespace marketsync::pglog
