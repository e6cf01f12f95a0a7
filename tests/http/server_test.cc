// The HTTP API on a real socket: every route, the seed page's flow, auth, SSE resume, and a
// battery of bad requests that must each get the right 4xx and change nothing.

#include "http/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <boost/json.hpp>
#include <thread>

#include "http/metrics.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

constexpr uint32_t kOffers = 150;
const std::string kSync = "/api/v1/emag/products/sync";

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = sim::Simulator::Start(testing::QuietSimulator(kOffers), "127.0.0.1", 0);
    ASSERT_OK(s);
    sim_ = std::move(s).value();
    auto log = testing::OpenEngineLog(dir_.Sub("db"));
    ASSERT_OK(log);
    log_ = std::move(log).value();
    auto engine = SyncEngine::Create(*log_, testing::EngineFor(*sim_));
    ASSERT_OK(engine);
    engine_ = std::move(engine).value();
    if (start_engine_) ASSERT_OK(engine_->Start());
  }
  void StartServer(http::ServerOptions o = {}) {
    o.port = 0;
    o.threads = 8;
    o.max_sse_clients = 2;
    auto server = http::Server::Create(*log_, *engine_, metrics_, o);
    ASSERT_OK(server);
    server_ = std::move(server).value();
    ASSERT_OK(server_->Start());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(30, 0);
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (engine_) engine_->Shutdown();
  }

  bool start_engine_ = true;  // false: the test starts it, as marketsyncd does after listening
  httplib::Result Post(const std::string& path, const std::string& body, const httplib::Headers& h = {}) {
    return client_->Post(path.c_str(), h, body, "application/json");
  }
  json::object Json(const httplib::Result& r) {
    EXPECT_TRUE(r) << "no answer";
    if (!r) return {};
    boost::system::error_code ec;
    json::value v = json::parse(r->body, ec);
    EXPECT_FALSE(ec) << r->body;
    return v.is_object() ? v.as_object() : json::object{};
  }
  // Waits for /status to say nothing runs.
  json::object WaitIdle(const httplib::Headers& h = {}) {
    json::object status;
    for (int i = 0; i < 600; ++i) {
      status = Json(client_->Get("/api/v1/emag/products/status", h));
      if (!status["is_running"].as_bool()) break;
      std::this_thread::sleep_for(50ms);
    }
    return status;
  }
  std::string HeadJson() {
    auto r = client_->Get("/api/v1/audit/head");
    return r ? r->body : "";
  }

  testing::TempDir dir_;
  std::unique_ptr<sim::Simulator> sim_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<SyncEngine> engine_;
  http::Metrics metrics_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpTest, TheSeedPagesFlow) {
  StartServer();
  auto r = Post(kSync, R"({"account_type":"main","run_async":true,"mode":"full","include_inactive":true,"items_per_page":100})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  json::object accepted = Json(r);
  EXPECT_EQ(accepted["status"].as_string(), "accepted");
  const std::string id(accepted["sync_id"].as_string());
  json::object status = WaitIdle();
  EXPECT_FALSE(status["is_running"].as_bool());
  EXPECT_TRUE(status["current_sync"].is_null());
  auto& recent = status["recent_syncs"].as_array();
  ASSERT_FALSE(recent.empty());
  const json::object& run = recent[0].as_object();
  EXPECT_EQ(run.at("id").as_string(), id);
  EXPECT_EQ(run.at("status").as_string(), "completed");
  EXPECT_EQ(run.at("created_items").as_int64(), kOffers);
  for (const char* field : {"account_type", "operation", "started_at", "completed_at", "duration_seconds", "total_items",
                            "updated_items", "failed_items"}) {
    EXPECT_TRUE(run.contains(field)) << field;
  }
}

TEST_F(HttpTest, EveryRouteAnswers) {
  StartServer();
  // The same listing before any run (rendered pages are cached until the log moves).
  auto empty = Json(client_->Get("/api/v1/emag/products/history?limit=2"));
  EXPECT_EQ(empty["data"].as_object()["count"].as_int64(), 0);
  auto sync = Post(kSync, R"({"account_type":"both","include_inactive":true,"run_async":false})");
  ASSERT_TRUE(sync);
  ASSERT_EQ(sync->status, 200) << sync->body;
  json::object done = Json(sync);
  EXPECT_EQ(done["status"].as_string(), "completed");
  EXPECT_EQ(done["data"].as_object()["created"].as_int64(), 2 * kOffers);
  const std::string id(done["sync_id"].as_string());
  const uint64_t seq_after_first = log_->Head().seq;
  ASSERT_OK(sim_->Tick("main"));
  ASSERT_EQ(Post(kSync, R"({"account_type":"main","include_inactive":true,"run_async":false})")->status, 200);

  auto history = Json(client_->Get("/api/v1/emag/products/history?limit=2"));
  EXPECT_EQ(history["status"].as_string(), "success");
  auto& data = history["data"].as_object();
  EXPECT_EQ(data["count"].as_int64(), 2);
  EXPECT_FALSE(data["next_cursor"].is_null());
  auto older = Json(client_->Get(("/api/v1/emag/products/history?limit=2&cursor=" + std::string(data["next_cursor"].as_string())).c_str()));
  EXPECT_EQ(older["data"].as_object()["count"].as_int64(), 1);
  auto all = Json(client_->Get("/api/v1/emag/products/history?limit=10"));
  auto& groups = all["data"].as_object()["groups"].as_array();
  ASSERT_EQ(groups.size(), 2u);  // the main run, then the "both" group
  EXPECT_EQ(groups[0].as_object().at("children").as_array().size(), 1u);
  EXPECT_EQ(groups[1].as_object().at("children").as_array().size(), 2u);
  EXPECT_EQ(groups[1].as_object().at("created_items").as_int64(), 2 * kOffers);
  auto fbe = Json(client_->Get("/api/v1/emag/products/history?account_type=fbe&status=completed"));
  EXPECT_EQ(fbe["data"].as_object()["count"].as_int64(), 1);
  auto as_of = Json(client_->Get(("/api/v1/emag/products/history?as_of=" + std::to_string(seq_after_first)).c_str()));
  EXPECT_EQ(as_of["data"].as_object()["count"].as_int64(), 2);
  EXPECT_EQ(as_of["data"].as_object()["as_of_seq"].as_int64(), static_cast<int64_t>(seq_after_first));

  auto run = Json(client_->Get((kSync + "/" + id).c_str()));
  EXPECT_EQ(run["data"].as_object()["id"].as_string(), id);
  auto events = Json(client_->Get((kSync + "/" + id + "/events").c_str()));
  auto& evs = events["data"].as_object()["events"].as_array();
  ASSERT_GE(evs.size(), 3u);
  EXPECT_EQ(evs[0].as_object().at("type").as_string(), "SyncRequested");
  EXPECT_EQ(client_->Get((kSync + "/nope").c_str())->status, 404);
  EXPECT_EQ(client_->Get((kSync + "/nope/events").c_str())->status, 404);
  auto cancel_done = client_->Delete((kSync + "/" + id).c_str());
  EXPECT_EQ(cancel_done->status, 409);
  EXPECT_NE(Json(cancel_done)["detail"].as_string().find("already finished"), std::string::npos);
  EXPECT_EQ(client_->Delete((kSync + "/nope").c_str())->status, 404);

  auto stats = Json(client_->Get("/api/v1/emag/products/statistics"));
  EXPECT_EQ(stats["products_by_account"].as_object()["fbe"].as_int64(), kOffers);
  EXPECT_EQ(stats["recent_syncs"].as_array().size(), 3u);

  auto products = Json(client_->Get("/api/v1/emag/products/products?account_type=fbe&limit=5&skip=5"));
  auto& pdata = products["data"].as_object();
  EXPECT_EQ(pdata["products"].as_array().size(), 5u);
  EXPECT_EQ(pdata["pagination"].as_object()["total"].as_int64(), kOffers);
  const std::string sku(pdata["products"].as_array()[0].as_object().at("sku").as_string());
  auto found = Json(client_->Get(("/api/v1/emag/products/products?search=" + sku).c_str()));
  EXPECT_GE(found["data"].as_object()["pagination"].as_object()["total"].as_int64(), 1);

  auto conn = client_->Post("/api/v1/emag/products/test-connection?account_type=main", "", "application/json");
  ASSERT_EQ(conn->status, 200) << conn->body;
  EXPECT_EQ(Json(conn)["data"].as_object()["total_products"].as_int64(), Json(conn)["data"].as_object()["total_products"].as_int64());
  EXPECT_EQ(client_->Post("/api/v1/emag/products/test-connection?account_type=zzz", "", "application/json")->status, 404);
  ASSERT_OK(sim_->SetFaults(R"({"rules":[{"account":"fbe","fault":"http_401"}]})"));
  auto denied = client_->Post("/api/v1/emag/products/test-connection?account_type=fbe", "", "application/json");
  EXPECT_EQ(denied->status, 502);
  EXPECT_EQ(Json(denied)["error"].as_object()["code"].as_string(), "upstream_permission_denied");
  EXPECT_EQ(denied->body.find("secret"), std::string::npos);  // no credentials in errors
  ASSERT_OK(sim_->SetFaults(R"({"rules":[]})"));

  auto arr = client_->Get("/api/v1/events?after=0&limit=3");
  EXPECT_EQ(json::parse(arr->body).as_array().size(), 3u);
  auto nd = client_->Get("/api/v1/events?after=3&limit=4", {{"Accept", "application/x-ndjson"}});
  EXPECT_EQ(nd->get_header_value("Content-Type"), "application/x-ndjson");
  EXPECT_EQ(std::count(nd->body.begin(), nd->body.end(), '\n'), 4);
  auto head = Json(client_->Get("/api/v1/audit/head"));
  EXPECT_EQ(head["last_seq"].as_int64(), static_cast<int64_t>(log_->Head().seq));
  EXPECT_EQ(head["head_hash"].as_string(), HashToHex(log_->Head().hash));
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
  EXPECT_EQ(client_->Get("/readyz")->status, 200);
  auto metrics = client_->Get("/metrics");
  for (const char* name : {"marketsync_http_requests_total", "marketsync_http_request_duration_seconds_bucket",
                           "marketsync_runs_finished", "marketsync_offers_total", "marketsync_pages_total"}) {
    EXPECT_NE(metrics->body.find(name), std::string::npos) << name;
  }
}

TEST_F(HttpTest, TheOverviewAndAnOffersHistory) {
  StartServer();
  ASSERT_EQ(Post(kSync, R"({"account_type":"both","include_inactive":true,"run_async":false})")->status, 200);
  const uint64_t seq_after_first = log_->Head().seq;
  auto tick = sim_->Tick("main");
  ASSERT_OK(tick);
  ASSERT_EQ(Post(kSync, R"({"account_type":"main","include_inactive":true,"run_async":false})")->status, 200);

  // The overview's numbers are those of /statistics.
  auto overview = Json(client_->Get("/api/v1/emag/products/overview"));
  ASSERT_EQ(overview["status"].as_string(), "success");
  auto& o = overview["data"].as_object();
  auto stats = Json(client_->Get("/api/v1/emag/products/statistics"));
  const auto& accounts = o["accounts"].as_array();
  ASSERT_EQ(accounts.size(), 2u);
  for (const auto& a : accounts) {
    const std::string name(a.as_object().at("account_type").as_string());
    EXPECT_EQ(a.as_object().at("offers"), stats["products_by_account"].as_object().at(name)) << name;
    EXPECT_EQ(a.as_object().at("health").as_string(), "ok");
    EXPECT_TRUE(a.as_object().at("in_flight").is_null());
  }
  ASSERT_EQ(o["days"].as_array().size(), 30u);
  EXPECT_EQ(o["days"].as_array().back().as_object().at("requested").as_int64(), 3);
  EXPECT_EQ(o["days"].as_array().back().as_object().at("completed").as_int64(), 3);
  EXPECT_EQ(o["runs"].as_array().size(), 3u);
  EXPECT_EQ(o["as_of_seq"].as_int64(), static_cast<int64_t>(log_->Head().seq));
  // As of the end of the first sync; and one account over 7 days.
  auto then = Json(client_->Get(("/api/v1/emag/products/overview?as_of=" + std::to_string(seq_after_first)).c_str()));
  EXPECT_EQ(then["data"].as_object()["runs"].as_array().size(), 2u);
  EXPECT_EQ(then["data"].as_object()["as_of_seq"].as_int64(), static_cast<int64_t>(seq_after_first));
  auto fbe = Json(client_->Get("/api/v1/emag/products/overview?account_type=fbe&days=7&runs=5"));
  EXPECT_EQ(fbe["data"].as_object()["accounts"].as_array().size(), 1u);
  EXPECT_EQ(fbe["data"].as_object()["days"].as_array().size(), 7u);
  EXPECT_EQ(fbe["data"].as_object()["runs"].as_array().size(), 1u);

  // An offer the tick changed: created, then updated with the changed field old -> new.
  const std::string path = "/api/v1/emag/products/offers/main/" + std::to_string(tick->updated.front()) + "/history";
  auto offer = Json(client_->Get(path.c_str()));
  ASSERT_EQ(offer["status"].as_string(), "success");
  auto& h = offer["data"].as_object();
  EXPECT_EQ(json::parse(h["raw_json"].as_string()).as_object()["id"].as_int64(), static_cast<int64_t>(tick->updated.front()));
  const auto& changes = h["changes"].as_array();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].as_object().at("change").as_string(), "created");
  EXPECT_EQ(changes[1].as_object().at("change").as_string(), "updated");
  ASSERT_FALSE(changes[1].as_object().at("diff").as_array().empty());
  auto earlier = Json(client_->Get((path + "?as_of=" + std::to_string(seq_after_first)).c_str()));
  EXPECT_EQ(earlier["data"].as_object()["changes"].as_array().size(), 1u);
  EXPECT_EQ(client_->Get("/api/v1/emag/products/offers/main/1/history")->status, 404);
  EXPECT_EQ(client_->Get("/api/v1/emag/products/offers/main/12x/history")->status, 400);
}

TEST_F(HttpTest, TheConsoleIsServedWithAnETagAndAnIcon) {
  StartServer();
  auto page = client_->Get("/");
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("/vendor/chart.min.js"), std::string::npos);
  const std::string etag = page->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(page->get_header_value("Cache-Control"), "no-cache");
  // Revalidation: the same build answers 304 with no body; another tag gets the page.
  auto same = client_->Get("/", {{"If-None-Match", etag}});
  EXPECT_EQ(same->status, 304);
  EXPECT_TRUE(same->body.empty());
  EXPECT_EQ(client_->Get("/", {{"If-None-Match", "\"other\""}})->status, 200);
  // Chart.js as Debian ships it, and the icon browsers ask for.
  auto chart = client_->Get("/vendor/chart.min.js");
  EXPECT_EQ(chart->status, 200);
  EXPECT_NE(chart->body.find("Chart.js v3"), std::string::npos);
  EXPECT_EQ(chart->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  for (const char* icon : {"/favicon.ico", "/favicon.svg"}) {
    auto r = client_->Get(icon);
    EXPECT_EQ(r->status, 200) << icon;
    EXPECT_EQ(r->get_header_value("Content-Type"), "image/svg+xml") << icon;
    EXPECT_NE(r->body.find("<svg"), std::string::npos) << icon;
  }
}

TEST_F(HttpTest, BusyAccountsAndIdempotentReplays) {
  StartServer();
  ASSERT_OK(sim_->SetFaults(R"({"rules":[{"account":"main","resource":"read","page":1,"fault":"slow","delay_ms":1500,"times":1}]})"));
  auto first = Post(kSync, R"({"account_type":"main"})", {{"Idempotency-Key", "order-42"}});
  ASSERT_EQ(first->status, 202) << first->body;
  const std::string id(Json(first)["sync_id"].as_string());
  auto busy = Post(kSync, R"({"account_type":"main"})");
  EXPECT_EQ(busy->status, 409);
  EXPECT_EQ(Json(busy)["error"].as_object()["code"].as_string(), "account_busy");
  EXPECT_NE(busy->body.find(id), std::string::npos) << busy->body;
  auto replay = Post(kSync, R"({"account_type":"main"})", {{"Idempotency-Key", "order-42"}});
  ASSERT_EQ(replay->status, 202);
  EXPECT_EQ(Json(replay)["sync_id"].as_string(), id);
  EXPECT_TRUE(Json(replay)["replayed"].as_bool());
  json::object status;
  for (int i = 0; i < 200; ++i) {  // until SyncStarted brings the page count
    status = Json(client_->Get("/api/v1/emag/products/status"));
    if (status["current_sync"].is_object() && status["current_sync"].as_object()["total_pages"].as_int64() > 0) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(status["is_running"].as_bool());
  EXPECT_EQ(status["current_sync"].as_object()["id"].as_string(), id);
  EXPECT_EQ(status["current_sync"].as_object()["total_pages"].as_int64(), 2);
  // Cancel while it runs.
  EXPECT_EQ(client_->Delete((kSync + "/" + id).c_str())->status, 202);
  WaitIdle();
  auto run = Json(client_->Get((kSync + "/" + id).c_str()));
  EXPECT_EQ(run["data"].as_object()["status"].as_string(), "cancelled");
}

TEST_F(HttpTest, TokensGateCommandsAndReads) {
  http::ServerOptions o;
  o.operator_token = "op-token-123";
  o.auditor_token = "audit-token-456";
  StartServer(o);
  const httplib::Headers op{{"Authorization", "Bearer op-token-123"}};
  const httplib::Headers auditor{{"Authorization", "Bearer audit-token-456"}};
  const httplib::Headers wrong{{"Authorization", "Bearer nope"}};
  const std::string body = R"({"account_type":"fbe"})";
  EXPECT_EQ(Post(kSync, body)->status, 401);
  EXPECT_EQ(Post(kSync, body, wrong)->status, 401);
  EXPECT_EQ(Post(kSync, body, auditor)->status, 403);
  EXPECT_EQ(client_->Get("/api/v1/emag/products/history")->status, 401);
  EXPECT_EQ(client_->Get("/api/v1/emag/products/history", wrong)->status, 401);
  EXPECT_EQ(client_->Get("/api/v1/emag/products/history", auditor)->status, 200);
  EXPECT_EQ(client_->Get("/api/v1/emag/products/history", op)->status, 200);
  EXPECT_EQ(client_->Get("/metrics")->status, 401);
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
  EXPECT_EQ(client_->Delete((kSync + "/x").c_str(), auditor)->status, 403);
  EXPECT_EQ(Post(kSync, body, op)->status, 202);
  WaitIdle(auditor);
}

TEST_F(HttpTest, WithoutTokensOnlyLoopbackIsAllowed) {
  http::ServerOptions o;
  o.host = "0.0.0.0";
  EXPECT_EQ(http::Server::Create(*log_, *engine_, metrics_, o).status().code(), Status::Code::kInvalidArgument);
  o.operator_token = "t";
  o.allow_plain_http = true;  // tokens off loopback need TLS or a proxy (transport_security_test)
  EXPECT_OK(http::Server::Create(*log_, *engine_, metrics_, o));
  EXPECT_TRUE(http::IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(http::IsLoopbackHost("127.1.2.3"));
  EXPECT_FALSE(http::IsLoopbackHost("10.0.0.1"));
}

TEST_F(HttpTest, EventStreamResumesAfterLastEventId) {
  StartServer();
  ASSERT_EQ(Post(kSync, R"({"account_type":"main","run_async":false})")->status, 200);
  const uint64_t head = log_->Head().seq;
  ASSERT_GT(head, 10u);
  std::string received;
  httplib::Client sse("127.0.0.1", server_->port());
  sse.set_read_timeout(10, 0);
  auto r = sse.Get("/api/v1/events/stream", {{"Last-Event-ID", std::to_string(head - 3)}},
                   [&](const char* data, size_t n) {
                     received.append(data, n);
                     return std::count(received.begin(), received.end(), '\n') < 12;  // three events
                   });
  ASSERT_FALSE(received.empty());
  EXPECT_EQ(received.find("id: " + std::to_string(head - 2) + "\n"), 0u) << received.substr(0, 200);
  EXPECT_NE(received.find("id: " + std::to_string(head) + "\n"), std::string::npos);
  EXPECT_NE(received.find("event: SyncCompleted"), std::string::npos);
  EXPECT_EQ(received.find("id: " + std::to_string(head - 3) + "\n"), std::string::npos);
}

// Each bad request gets the right 4xx, the server stays up and the log does not move.
TEST_F(HttpTest, BadInputChangesNothing) {
  StartServer();
  ASSERT_EQ(Post(kSync, R"({"account_type":"fbe","run_async":false})")->status, 200);
  const std::string head = HeadJson();
  struct Case {
    std::string method, path, body, content_type;
    int expect;
  };
  std::vector<Case> cases;
  auto sync = [&](std::string body, int expect = 400) { cases.push_back({"POST", kSync, std::move(body), "application/json", expect}); };
  // Malformed JSON and non-objects.
  for (const char* b : {"", "{", "}", "{\"account_type\":}", "{'account_type':'main'}", "[1,2]", "\"main\"", "42", "null",
                        "true", "{\"account_type\":\"main\",}", "{\"a\" \"b\"}", "\x01\x02\x03", "{\"account_type\":\"main\"}x",
                        "{\"account_type\":\"ma", "NaN", "{\"account_type\":\"main\" \"mode\":\"full\"}", "[]", "{{}}",
                        "{\"account_type\":undefined}"}) {
    sync(b);
  }
  // Wrong types for every field.
  const std::vector<std::pair<std::string, std::vector<std::string>>> wrong = {
      {"account_type", {"1", "true", "null", "[]", "{}", "1.5"}},
      {"mode", {"1", "true", "null", "[]", "{}", "\"sometimes\"", "\"FULL\"", "\"\""}},
      {"max_pages", {"\"1\"", "true", "[]", "{}", "1.5", "0", "-1", "1e100", "99999999999999999999"}},
      {"items_per_page", {"\"10\"", "true", "null", "[]", "0", "101", "-5", "2.5", "1000000"}},
      {"include_inactive", {"1", "0", "\"true\"", "null", "[]", "{}"}},
      {"conflict_strategy", {"1", "null", "\"local_priority\"", "\"newest\"", "\"\"", "[]"}},
      {"run_async", {"1", "\"yes\"", "null", "[]", "{}"}},
      {"triggered_by", {"1", "null", "[]", "\"\""}},
  };
  for (const auto& [field, values] : wrong) {
    for (const auto& v : values) sync(R"({"account_type":"main",")" + field + "\":" + v + "}");
  }
  // Unknown fields and accounts.
  for (const char* f : {"accountType", "ACCOUNT_TYPE", "force", "page", "limit", "id", "", "run-async", "max_page",
                        "items", "x", "__proto__", "constructor", "include_inactive ", " mode", "modes", "async",
                        "sync_id", "token", "password"}) {
    sync(std::string(R"({"account_type":"main",")") + f + "\":1}");
  }
  for (const char* a : {"", "MAIN", "Main", "emag", "all", "main,fbe", "both ", " main", "../main", "main\\u0000",
                        "x", "0", "fbe2", "ambele"}) {
    sync(std::string(R"({"account_type":")") + a + "\"}");
  }
  // Wrong content types.
  for (const char* t : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/xml",
                        "text/json", "", "application/jsonp", "image/png"}) {
    cases.push_back({"POST", kSync, R"({"account_type":"main"})", t, 415});
  }
  // Oversized bodies.
  for (size_t n : {size_t{70'000}, size_t{200'000}, size_t{1'000'000}}) {
    cases.push_back({"POST", kSync, R"({"account_type":"main","triggered_by":")" + std::string(n, 'a') + "\"}", "application/json", 413});
  }
  // Wrong methods.
  const std::vector<std::pair<std::string, std::vector<std::string>>> methods = {
      {kSync, {"GET", "PUT", "DELETE", "PATCH"}},
      {"/api/v1/emag/products/status", {"POST", "PUT", "DELETE", "PATCH"}},
      {"/api/v1/emag/products/history", {"POST", "PUT", "DELETE"}},
      {"/api/v1/emag/products/statistics", {"POST", "PUT", "DELETE"}},
      {"/api/v1/emag/products/products", {"POST", "PUT", "DELETE"}},
      {"/api/v1/emag/products/overview", {"POST", "PUT", "DELETE"}},
      {"/api/v1/emag/products/offers/main/1/history", {"POST", "PUT", "DELETE"}},
      {"/api/v1/emag/products/test-connection", {"GET", "PUT", "DELETE"}},
      {kSync + "/abc", {"POST", "PUT", "PATCH"}},
      {"/api/v1/events", {"POST", "PUT", "DELETE"}},
      {"/api/v1/audit/head", {"POST", "PUT", "DELETE"}},
      {"/healthz", {"POST", "DELETE"}},
      {"/metrics", {"POST", "DELETE"}},
  };
  for (const auto& [path, ms] : methods) {
    for (const auto& m : ms) cases.push_back({m, path, "", "application/json", 405});
  }
  // Bad query parameters.
  for (const char* q : {"limit=0", "limit=-1", "limit=abc", "limit=1001", "limit=1e3", "limit=", "from=yesterday",
                        "to=2026-13-01", "from=2026-02-30T25:00:00Z", "as_of=abc", "as_of=-5", "as_of=2026-11-28Tnoon",
                        "cursor=" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "limit=99999999999999999999999",
                        "cursor=%25%25%25", "cursor=abc", "cursor=0006619cf6f27e72ba843ef8", "cursor=0006619CF6F27E72BA843EF8",
                        "as_of=5&cursor=zz", "account_type=main&cursor=..%2F"}) {
    cases.push_back({"GET", std::string("/api/v1/emag/products/history?") + q, "", "", 400});
  }
  for (const char* q : {"skip=-1", "skip=x", "limit=0", "limit=5000", "limit=ten", "search=" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}) {
    cases.push_back({"GET", std::string("/api/v1/emag/products/products?") + q, "", "", 400});
  }
  for (const char* q : {"days=0", "days=367", "days=x", "runs=0", "runs=1001", "as_of=abc", "as_of=-1",
                        "account_type=" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}) {
    cases.push_back({"GET", std::string("/api/v1/emag/products/overview?") + q, "", "", 400});
  }
  for (const char* p : {"main/abc", "main/-1", "main/1.5", "main/99999999999999999999999", "main/0x10", "main/%20"}) {
    cases.push_back({"GET", std::string("/api/v1/emag/products/offers/") + p + "/history", "", "", 400});
  }
  cases.push_back({"GET", "/api/v1/emag/products/offers/main/5/history?as_of=nope", "", "", 400});
  for (const char* p : {"/api/v1/emag/products/offers/main/5/history", "/api/v1/emag/products/offers/zzz/5/history"}) {
    cases.push_back({"GET", p, "", "", 404});
  }
  for (const char* q : {"after=-1", "after=x", "limit=0", "limit=1001", "limit=x"}) {
    cases.push_back({"GET", std::string("/api/v1/events?") + q, "", "", 400});
  }
  cases.push_back({"GET", "/api/v1/events/stream?after=x", "", "", 400});
  for (const char* id : {"abc", "1", "x%20y"}) {
    cases.push_back({"GET", "/api/v1/events/stream", "", "", 400});
    cases.back().path += std::string("?after=-") + id;
  }
  for (const char* q : {"status=", "account_type=nobody"}) {  // valid filters: empty answers, not errors
    cases.push_back({"GET", std::string("/api/v1/emag/products/history?") + q, "", "", 200});
  }
  // Bodies on routes that take none are ignored, but a wrong type on the sync route is not.
  for (const char* b : {R"({"account_type":"main","mode":"full","mode":"incremental","x":1})",
                        R"({"account_type":"main","max_pages":null,"items_per_page":"100"})",
                        R"({"account_type":["main"]})", R"({"account_type":{"name":"main"}})",
                        R"({"account_type":"main","include_inactive":"false"})",
                        R"({"account_type":"main","run_async":0})", R"({"account_type":"main","conflict_strategy":null})",
                        R"({"account_type":"main","items_per_page":100.0})", R"({"account_type":"main","max_pages":-0.0})"}) {
    sync(b);
  }
  // Unknown things.
  for (const char* p : {"/api/v1/emag/products/sync/does-not-exist", "/api/v1/emag/products/sync/../../etc/passwd",
                        "/api/v1/emag/products/sync/%00"}) {
    cases.push_back({"DELETE", p, "", "", 404});
  }
  for (const char* p : {"/nope", "/api/v2/emag/products/status", "/api/v1/emag/products", "/api/v1/emag/products/history/x"}) {
    cases.push_back({"GET", p, "", "", 404});
  }
  cases.push_back({"POST", "/api/v1/emag/products/test-connection", "", "application/json", 400});
  cases.push_back({"POST", "/api/v1/emag/products/test-connection?account_type=zzz", "", "application/json", 404});
  ASSERT_GE(cases.size(), 200u);

  for (const auto& c : cases) {
    httplib::Request req;
    req.method = c.method;
    req.path = c.path;
    req.body = c.body;
    if (!c.content_type.empty()) req.set_header("Content-Type", c.content_type);
    auto r = client_->send(req);
    ASSERT_TRUE(r) << c.method << " " << c.path << ": no answer";
    EXPECT_EQ(r->status, c.expect) << c.method << " " << c.path << " " << c.body.substr(0, 120) << " -> " << r->body.substr(0, 200);
    if (r->status >= 400) {
      boost::system::error_code ec;
      json::value v = json::parse(r->body, ec);
      EXPECT_FALSE(ec) << r->body;
      if (!ec && v.is_object()) {
        EXPECT_TRUE(v.as_object().contains("detail")) << r->body;
      }
    }
  }
  EXPECT_EQ(HeadJson(), head);
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
}

// marketsyncd listens before its engine has started (recovery, accounts): a command arriving
// then waits for the engine instead of being told the account does not exist; past ready_wait
// it gets 503 not_ready, and nothing is written.
class StartingServerTest : public HttpTest {
 protected:
  StartingServerTest() { start_engine_ = false; }
};

TEST_F(StartingServerTest, ACommandBeforeTheEngineStartedWaitsForIt) {
  StartServer();
  const uint64_t head = log_->Head().seq;
  std::thread starter([&] {
    std::this_thread::sleep_for(300ms);
    ASSERT_OK(engine_->Start());
  });
  auto r = Post(kSync, R"({"account_type":"main"})");
  starter.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  EXPECT_GT(log_->Head().seq, head);
}

TEST_F(StartingServerTest, ACommandGetsNotReadyWhenTheEngineTakesTooLong) {
  http::ServerOptions o;
  o.ready_wait = 200ms;
  StartServer(o);
  const uint64_t head = log_->Head().seq;
  auto r = Post(kSync, R"({"account_type":"main"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(Json(r)["error"].as_object()["code"].as_string(), "not_ready");
  EXPECT_EQ(log_->Head().seq, head);
  auto ready = client_->Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
}

}  // namespace
}  // namespace marketsync
