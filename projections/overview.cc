#include "projections/overview.h"

#include <algorithm>
#include <map>

#include "projections/history.h"

namespace marketsync {
namespace {

std::string HealthWord(const AccountStats& stats, const AccountHealth& health) {
  if (health.failing_since_us != 0) return "failing";
  return stats.last_success_at_us != 0 ? "ok" : "never_synced";
}

}  // namespace

Result<Overview> BuildOverview(const KvReader& reader, const OverviewQuery& q,
                               const std::vector<std::string>& configured, int64_t now_us) {
  if (q.runs == 0 || q.runs > 1000) return Status::InvalidArgument("runs must be in 1..1000");
  Overview o;
  MS_ASSIGN_OR_RETURN(o.days, RunsPerDay(reader, q.account, now_us, q.days));
  o.window_start_us = FirstDayUs(now_us, q.days);

  std::map<std::string, AccountOverview> accounts;
  for (const std::string& name : configured) accounts[name].stats.account = name;
  MS_ASSIGN_OR_RETURN(StatsReport stats, GetStats(reader));
  for (AccountStats& s : stats.accounts) accounts[s.account].stats = std::move(s);
  MS_ASSIGN_OR_RETURN(std::vector<ActiveRun> active, ListActiveRuns(reader, now_us));
  for (ActiveRun& run : active) {
    AccountOverview& a = accounts[run.record.account_type];
    a.stats.account = run.record.account_type;
    if (!a.in_flight) a.in_flight = std::move(run);
  }
  for (auto& [name, a] : accounts) {
    if (q.account && name != *q.account) continue;
    MS_ASSIGN_OR_RETURN(a.health, GetAccountHealth(reader, name));
    a.health_word = HealthWord(a.stats, a.health);
    o.accounts.push_back(std::move(a));
  }

  HistoryQuery runs;
  runs.account = q.account;
  runs.from_us = o.window_start_us;
  runs.limit = q.runs;
  MS_ASSIGN_OR_RETURN(HistoryPage page, ListHistory(reader, runs));
  o.runs = std::move(page.runs);
  std::reverse(o.runs.begin(), o.runs.end());
  o.runs_truncated = !page.next_cursor.empty();
  return o;
}

}  // namespace marketsync
