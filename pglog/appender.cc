#include "pglog/appender.h"

#include <cstring>
#include <string>

#include "events/envelope.h"
#include "events/envelope_codec.h"
#include "pglog/schema.h"

namespace marketsync::pglog {
namespace {

// The stream's version now (0: no such stream), as this transaction sees it.
Result<uint64_t> StreamVersionNow(PgConn& conn, const std::string& stream_id) {
  MS_ASSIGN_OR_RETURN(PgRows r, conn.Query("SELECT version FROM ms_streams WHERE stream_id = $1",
                                           {PgParam::Text(stream_id)}));
  return r.rows.empty() ? 0 : std::stoull(*r.rows[0][0]);
}

// Whether the step's conditions hold: *refusal names the first that does not (ok when all
// hold). The returned error is the database's.
Status Check(PgConn& conn, const Step& step, Status* refusal) {
  *refusal = Status::Ok();
  for (const StreamAppend& s : step.streams) {
    if (s.expected_version == kAnyVersion) continue;
    MS_ASSIGN_OR_RETURN(uint64_t now, StreamVersionNow(conn, s.stream_id));
    if (now != s.expected_version) {
      *refusal = Status::FailedPrecondition("stream " + s.stream_id + " is at version " + std::to_string(now) +
                                            ", expected " + std::to_string(s.expected_version));
      return Status::Ok();
    }
  }
  for (const KeyExpectation& e : step.expect) {
    MS_ASSIGN_OR_RETURN(PgRows r, conn.Query("SELECT value FROM ms_kv WHERE family = $1 AND key = $2",
                                             {PgParam::Text(e.column_family), PgParam::Bytes(e.key)}));
    const std::optional<std::string> now = r.rows.empty() ? std::nullopt : r.rows[0][0];
    if (now != e.value) {
      *refusal = Status::FailedPrecondition("key " + e.column_family + "/" + e.key + " is not as expected");
      return Status::Ok();
    }
  }
  return Status::Ok();
}

std::string HashBytes(const Hash256& h) { return std::string(reinterpret_cast<const char*>(h.data()), h.size()); }

// The step's envelopes, validated (kInvalidArgument: the step is refused, nothing written).
Result<std::vector<Envelope>> Prepare(PgConn& conn, const EventTypeRegistry& types, Step& step, int64_t now_us) {
  std::vector<Envelope> envelopes;
  for (StreamAppend& s : step.streams) {
    MS_ASSIGN_OR_RETURN(uint64_t version, StreamVersionNow(conn, s.stream_id));
    for (NewEvent& ev : s.events) {
      Envelope e;
      e.stream_id = s.stream_id;
      e.stream_version = ++version;
      e.type = ev.type;
      e.payload_version = ev.payload_version;
      e.recorded_at_us = now_us;
      e.correlation_id = step.correlation_id;
      e.payload = std::move(ev.payload);
      MS_RETURN_IF_ERROR(ValidateEnvelopeFields(e, types));
      envelopes.push_back(std::move(e));
    }
  }
  return envelopes;
}

// Writes a prepared step, moving `head` on. Any error fails the whole group.
Result<AppendResult> Write(PgConn& conn, const Step& step, std::vector<Envelope>& envelopes, PgHead& head) {
  AppendResult result;
  std::string bytes;
  for (Envelope& e : envelopes) {
    e.seq = head.seq + 1;
    std::memcpy(e.prev_hash.data(), head.hash.data(), e.prev_hash.size());
    bytes.clear();
    SealAndEncodeEnvelope(e, &bytes);
    MS_RETURN_IF_ERROR(conn.Exec("INSERT INTO ms_events (seq, stream_id, version, envelope) VALUES ($1, $2, $3, $4)",
                                 {PgParam::Text(std::to_string(e.seq)), PgParam::Text(e.stream_id),
                                  PgParam::Text(std::to_string(e.stream_version)), PgParam::Bytes(bytes)}));
    MS_RETURN_IF_ERROR(conn.Exec(
        "INSERT INTO ms_streams (stream_id, version) VALUES ($1, $2) "
        "ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version",
        {PgParam::Text(e.stream_id), PgParam::Text(std::to_string(e.stream_version))}));
    head.seq = e.seq;
    head.hash = HashBytes(e.hash);
    if (result.first_seq == 0) result.first_seq = e.seq;
    result.last_seq = e.seq;
  }
  for (const KeyValueWrite& w : step.writes) {
    if (w.value) {
      MS_RETURN_IF_ERROR(conn.Exec(
          "INSERT INTO ms_kv (family, key, value) VALUES ($1, $2, $3) "
          "ON CONFLICT (family, key) DO UPDATE SET value = EXCLUDED.value",
          {PgParam::Text(w.column_family), PgParam::Bytes(w.key), PgParam::Bytes(*w.value)}));
    } else {
      MS_RETURN_IF_ERROR(conn.Exec("DELETE FROM ms_kv WHERE family = $1 AND key = $2",
                                   {PgParam::Text(w.column_family), PgParam::Bytes(w.key)}));
    }
  }
  return result;
}

}  // namespace

Result<std::vector<Result<AppendResult>>> AppendGroup(PgConn& conn, const EventTypeRegistry& types,
                                                      std::vector<Step>& steps, const std::function<int64_t()>& now_us) {
  MS_RETURN_IF_ERROR(conn.Exec("BEGIN"));
  auto group = [&]() -> Result<std::vector<Result<AppendResult>>> {
    // The head row, held to COMMIT: appends from every node queue here, one group at a time.
    MS_ASSIGN_OR_RETURN(PgRows r, conn.Query("SELECT seq, hash FROM ms_head WHERE id = 1 FOR UPDATE"));
    if (r.rows.size() != 1 || !r.rows[0][1] || r.rows[0][1]->size() != 32) {
      return Status::Corruption("PostgreSQL: the log's head row is missing or malformed");
    }
    PgHead head{std::stoull(*r.rows[0][0]), std::move(*r.rows[0][1])};
    const uint64_t first = head.seq;
    std::vector<Result<AppendResult>> results;
    for (Step& step : steps) {
      Status refusal;
      MS_RETURN_IF_ERROR(Check(conn, step, &refusal));
      if (!refusal.ok()) {
        results.emplace_back(std::move(refusal));
        continue;
      }
      Result<std::vector<Envelope>> envelopes = Prepare(conn, types, step, now_us());
      if (!envelopes.ok() && envelopes.status().code() == Status::Code::kInvalidArgument) {
        results.emplace_back(envelopes.status());  // refused before it wrote anything
        continue;
      }
      if (!envelopes.ok()) return envelopes.status();
      MS_ASSIGN_OR_RETURN(AppendResult written, Write(conn, step, *envelopes, head));
      results.emplace_back(written);
    }
    if (head.seq != first) {
      MS_RETURN_IF_ERROR(conn.Exec("UPDATE ms_head SET seq = $1, hash = $2 WHERE id = 1",
                                   {PgParam::Text(std::to_string(head.seq)), PgParam::Bytes(head.hash)}));
    }
    MS_ASSIGN_OR_RETURN(PgRows commit, conn.Query("COMMIT"));
    if (commit.command != "COMMIT") return Status::IOError("PostgreSQL: the group was rolled back (" + commit.command + ")");
    return results;
  };
  auto out = group();
  if (!out.ok() && conn.ok()) (void)conn.Exec("ROLLBACK");
  return out;
}

}  // namespace marketsync::pglog
