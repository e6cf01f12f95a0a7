#include "projections/all.h"

#include <algorithm>
#include <string>

#include "projections/catalog.h"
#include "projections/history.h"
#include "projections/stats.h"
#include "projections/status.h"

namespace marketsync {

std::vector<std::unique_ptr<Projection>> MakeAllProjections() {
  std::vector<std::unique_ptr<Projection>> out;
  out.push_back(std::make_unique<HistoryProjection>());
  out.push_back(std::make_unique<StatusProjection>());
  out.push_back(std::make_unique<CatalogProjection>());
  out.push_back(std::make_unique<StatsProjection>());
  return out;
}

std::vector<std::string_view> AllProjectionNames() {
  return {HistoryProjection::kName, StatusProjection::kName, CatalogProjection::kName, StatsProjection::kName};
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

}  // namespace marketsync
