#include "projections/all.h"

#include <algorithm>
#include <string>

#include "projections/accounts.h"
#include "projections/catalog.h"
#include "projections/history.h"
#include "projections/rollup.h"
#include "projections/stats.h"
#include "projections/status.h"
#include "schema/event_type.h"
#include "schema/store_keys.h"

namespace marketsync {

EventLogOptions SyncLogOptions(EventLogOptions::Mode mode) {
  EventLogOptions o;
  o.mode = mode;
  o.types = SyncEventTypes();
  o.projections = MakeAllProjections();
  if (mode == EventLogOptions::Mode::kReadWrite) {
    o.extra_column_families = {std::string(kProductsFamily), std::string(kCredentialsFamily)};
  }
  return o;
}

std::vector<std::unique_ptr<Projection>> MakeAllProjections() {
  std::vector<std::unique_ptr<Projection>> out;
  out.push_back(std::make_unique<HistoryProjection>());
  out.push_back(std::make_unique<StatusProjection>());
  out.push_back(std::make_unique<CatalogProjection>());
  out.push_back(std::make_unique<StatsProjection>());
  out.push_back(std::make_unique<RollupProjection>());
  out.push_back(std::make_unique<AccountsProjection>());
  return out;
}

std::vector<std::string_view> AllProjectionNames() {
  return {HistoryProjection::kName, StatusProjection::kName, CatalogProjection::kName, StatsProjection::kName,
          RollupProjection::kName, AccountsProjection::kName};
}

Result<std::unique_ptr<AsOfView>> FoldAsOf(const EventLog& log, const FoldLimit& limit,
                                           const std::vector<std::string_view>& names) {
  std::vector<std::unique_ptr<Projection>> all = MakeAllProjections();
  std::vector<Projection*> chosen;
  for (const auto& p : all) {
    if (names.empty() || std::find(names.begin(), names.end(), p->name()) != names.end()) chosen.push_back(p.get());
  }
  for (std::string_view n : names) {
    if (std::none_of(all.begin(), all.end(), [&](const auto& p) { return p->name() == n; })) {
      return Status::InvalidArgument("no projection named " + std::string(n));
    }
  }
  auto view = std::make_unique<AsOfView>();
  // Every family is declared, so a query of a projection that was not folded reads empty.
  for (const auto& p : all) {
    for (const auto& cf : p->column_families()) view->store.AddFamily(cf);
  }
  MS_ASSIGN_OR_RETURN(view->fold, FoldLog(log, chosen, view->store, limit));
  return view;
}

Result<std::vector<ProjectionCheck>> VerifyProjections(const EventLog& log) {
  std::vector<ProjectionCheck> out;
  const uint64_t head = log.Head().seq;
  for (Projection* p : log.projections()) {
    ProjectionCheck check;
    check.name = p->name();
    MS_ASSIGN_OR_RETURN(check.checkpoint, log.Checkpoint(p->name()));
    // A fresh instance folds into scratch memory; the registered one stays with the log.
    std::vector<std::unique_ptr<Projection>> fresh = MakeAllProjections();
    auto same = std::find_if(fresh.begin(), fresh.end(), [&](const auto& f) { return f->name() == p->name(); });
    if (same == fresh.end()) return Status::InvalidArgument("no projection named " + check.name + " to rebuild");
    MemoryStore scratch;
    MS_ASSIGN_OR_RETURN(FoldResult fold, FoldLog(log, {same->get()}, scratch, FoldLimit{head, std::nullopt}));
    (void)fold;
    const std::vector<std::string> families = p->column_families();
    MS_ASSIGN_OR_RETURN(check.live_digest, DigestFamilies(log, families));
    MS_ASSIGN_OR_RETURN(check.rebuilt_digest, DigestFamilies(scratch, families));
    if (check.live_digest != check.rebuilt_digest) {
      MS_ASSIGN_OR_RETURN(check.first_difference, FirstDifference(log, scratch, families));
    }
    out.push_back(std::move(check));
  }
  return out;
}

}  // namespace marketsync
