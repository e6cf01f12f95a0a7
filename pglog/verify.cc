#include "pglog/verify.h"

#include <algorithm>
#include <string>

#include "events/chain_check.h"
#include "pglog/schema.h"

namespace marketsync::pglog {
namespace {

constexpr uint64_t kPage = 10000;  // rows a query reads

Hash256 ToHash(const std::string& bytes) {
  Hash256 h{};
  std::copy_n(bytes.begin(), std::min(bytes.size(), h.size()), h.begin());
  return h;
}

Result<VerifyReport> VerifyIn(PgConn& conn, const EventTypeRegistry& types, uint64_t from_seq, uint64_t to_seq) {
  from_seq = std::max<uint64_t>(from_seq, 1);
  MS_ASSIGN_OR_RETURN(PgHead head, ReadHead(conn));
  const LogHead log_head{head.seq, ToHash(head.hash)};
  const uint64_t last = to_seq == 0 ? head.seq : to_seq;
  Hash256 prev{};
  if (from_seq > 1) {
    ChainCheck before(types, from_seq - 1, prev);
    MS_ASSIGN_OR_RETURN(PgRows r, conn.Query("SELECT envelope FROM ms_events WHERE seq = $1",
                                             {PgParam::Text(std::to_string(from_seq - 1))}));
    if (r.rows.empty()) {
      before.Fail(from_seq - 1, "missing (gap)");
      return before.report();
    }
    auto hash = StoredEnvelopeHash(*r.rows[0][0], from_seq - 1, types);
    if (!hash.ok()) {
      before.Fail(from_seq - 1, hash.status().message());
      return before.report();
    }
    prev = *hash;
  }
  ChainCheck check(types, from_seq, prev);
  for (uint64_t next = from_seq; next <= last;) {
    MS_ASSIGN_OR_RETURN(PgRows page, conn.Query("SELECT seq, envelope FROM ms_events WHERE seq >= $1 AND seq <= $2 "
                                                "ORDER BY seq LIMIT $3",
                                                {PgParam::Text(std::to_string(next)), PgParam::Text(std::to_string(last)),
                                                 PgParam::Text(std::to_string(kPage))}));
    for (const auto& row : page.rows) {
      const uint64_t seq = std::stoull(*row[0]);
      if (!check.Next(seq, *row[1])) return check.report();
      next = seq + 1;
    }
    if (page.rows.size() < kPage) break;
  }
  return check.Finish(log_head, to_seq);
}

}  // namespace

Result<VerifyReport> VerifyLog(PgConn& conn, const EventTypeRegistry& types, uint64_t from_seq, uint64_t to_seq) {
  MS_RETURN_IF_ERROR(conn.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  Result<VerifyReport> report = VerifyIn(conn, types, from_seq, to_seq);
  (void)conn.Exec(report.ok() ? "COMMIT" : "ROLLBACK");
  return report;
}

}  // namespace marketsync::pglog
