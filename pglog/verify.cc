#include "pglog/verify.h"

#include <algorithm>
#include <string>

#include "events/chain_check.h"
#include "pglog/reader.h"
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
  ChainCheck check(types, from_seq);
  if (from_seq > 1) {
    MS_ASSIGN_OR_RETURN(auto before, ReadStoredPage(conn, from_seq - 1, 1));
    const bool there = !before.empty() && before[0].first == from_seq - 1;
    if (!check.StartAfter(there ? std::optional<std::string_view>(before[0].second) : std::nullopt)) {
      return check.report();
    }
  }
  for (uint64_t next = from_seq; next <= last;) {
    MS_ASSIGN_OR_RETURN(auto page, ReadStoredPage(conn, next, kPage));
    for (const auto& [seq, bytes] : page) {
      if (seq > last) return check.Finish(log_head, to_seq);
      if (!check.Next(seq, bytes)) return check.report();
      next = seq + 1;
    }
    if (page.size() < kPage) break;
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
