#include "tests/testutil/engine_fixture.h"

#include <gtest/gtest.h>

#include "engine/emag/response_parser.h"
#include "engine/offer_fingerprint.h"
#include "base/coding.h"
#include "projections/all.h"

namespace marketsync::testing {

sim::SimulatorOptions QuietSimulator(uint32_t offers) {
  sim::SimulatorOptions o;
  o.offers = offers;
  o.rate_limit = false;
  o.log_requests = false;
  return o;
}

EngineOptions EngineFor(const sim::Simulator& simulator, const std::vector<std::string>& accounts) {
  return EngineFor(simulator.BaseUrl(), accounts);
}

EngineOptions EngineFor(const std::string& base_url, const std::vector<std::string>& accounts) {
  EngineOptions o;
  for (const auto& name : accounts) {
    o.accounts.push_back({name, "demo-" + name, "demo-" + name + "-secret", base_url});
  }
  o.client.retry.base = std::chrono::milliseconds(5);
  o.client.retry.cap = std::chrono::milliseconds(40);
  o.client.rate_limit = emag::RateLimit{1000, 100000, std::chrono::milliseconds(0)};
  o.client.read_timeout = std::chrono::milliseconds(2000);
  o.page_window = 4;
  return o;
}

StartSyncRequest FullSync(const std::string& account, uint32_t items_per_page) {
  StartSyncRequest r;
  r.account_type = account;
  r.include_inactive = true;
  r.items_per_page = items_per_page;
  return r;
}

std::vector<std::string> SyncToEnd(SyncEngine& engine, const StartSyncRequest& request) {
  std::vector<std::string> ids;
  auto started = engine.StartSync(request);
  EXPECT_TRUE(started.ok()) << started.status().ToString();
  if (!started.ok()) return ids;
  for (const auto& run : started->runs) {
    auto r = engine.WaitForRun(run.run_id, std::chrono::seconds(60));
    EXPECT_TRUE(r.ok() && r->terminal()) << run.run_id << " did not end";
    ids.push_back(run.run_id);
  }
  return ids;
}

Result<std::unique_ptr<EventLog>> OpenEngineLog(const std::string& path) {
  EventLogOptions o = SyncLogOptions();
  return EventLog::Open(path, std::move(o));
}

Status EngineHarness::Start(uint32_t offers) {
  MS_ASSIGN_OR_RETURN(sim, sim::Simulator::Start(QuietSimulator(offers), "127.0.0.1", 0));
  MS_ASSIGN_OR_RETURN(log, OpenEngineLog(dir.Sub("db")));
  MS_ASSIGN_OR_RETURN(engine, SyncEngine::Create(*log, EngineFor(*sim)));
  return engine->Start();
}

EngineHarness::~EngineHarness() {
  if (engine) engine->Shutdown();
  engine.reset();
}

std::map<uint64_t, std::string> MirroredProducts(const EventLog& log, const std::string& account) {
  std::map<uint64_t, std::string> out;
  auto it = log.Scan(kProductsFamily);
  if (!it.ok()) return out;
  std::string prefix = account;
  prefix.push_back('\0');
  for ((*it)->Seek(prefix); (*it)->Valid() && (*it)->key().starts_with(prefix); (*it)->Next()) {
    auto state = DecodeProductState((*it)->value());
    if (!state.ok()) continue;
    out[GetFixed64BE((*it)->key().data() + prefix.size())] = ToHex(state->content_hash);
  }
  return out;
}

std::map<uint64_t, std::string> ServedProducts(const sim::Simulator& simulator, const std::string& account) {
  std::map<uint64_t, std::string> out;
  auto offers = simulator.OffersForTest(account);
  if (!offers.ok()) return out;
  std::string body = R"({"isError":false,"results":[)";
  for (size_t i = 0; i < offers->size(); ++i) body += (i ? "," : "") + (*offers)[i].second;
  body += "]}";
  auto page = emag::ParseReadResponse(body);
  if (!page.ok()) return out;
  for (const auto& offer : page->offers) out[offer.id] = ToHex(Fingerprint(offer).content_hash);
  return out;
}

}  // namespace marketsync::testing
