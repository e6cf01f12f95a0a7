// The accounts routes on a real socket: the operator adds, changes and removes accounts, the
// auditor only reads; bad bodies get a 4xx and change nothing; no answer and no server log line
// ever carries a password.

#include <gtest/gtest.h>
#include <httplib.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <sstream>

#include "http/metrics.h"
#include "http/server.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

namespace json = boost::json;

constexpr char kOperator[] = "operator-token-accounts";
constexpr char kAuditor[] = "auditor-token-accounts";
constexpr char kPassword[] = "demo-main-secret";
const std::string kAccounts = "/api/v1/accounts";

class AccountsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Every server log line of the test, to look for the password in.
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_lines_);
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
    auto sim = sim::Simulator::Start(testing::QuietSimulator(40), "127.0.0.1", 0);
    ASSERT_OK(sim);
    sim_ = std::move(sim).value();
    auto log = testing::OpenEngineLog(dir_.Sub("db"));
    ASSERT_OK(log);
    log_ = std::move(log).value();
    EngineOptions eo = testing::EngineFor(*sim_, {"fbe"});
    eo.secret_key = *SecretKey::Generate();
    auto engine = SyncEngine::Create(*log_, eo);
    ASSERT_OK(engine);
    engine_ = std::move(engine).value();
    ASSERT_OK(engine_->Start());
    http::ServerOptions so;
    so.port = 0;
    so.operator_token = kOperator;
    so.auditor_token = kAuditor;
    auto server = http::Server::Create(*log_, *engine_, metrics_, so);
    ASSERT_OK(server);
    server_ = std::move(server).value();
    ASSERT_OK(server_->Start());
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (engine_) engine_->Shutdown();
    spdlog::set_default_logger(previous_);
  }
  httplib::Client Client(const char* token) {
    httplib::Client c("127.0.0.1", server_->port());
    if (token != nullptr) c.set_bearer_token_auth(token);
    return c;
  }
  std::string AddBody() {
    return json::serialize(json::object{{"name", "shop"},
                                        {"username", "demo-main"},
                                        {"password", kPassword},
                                        {"base_url", sim_->BaseUrl()},
                                        {"schedule_minutes", 120}});
  }

  std::ostringstream log_lines_;
  std::shared_ptr<spdlog::logger> previous_;
  testing::TempDir dir_;
  std::unique_ptr<sim::Simulator> sim_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<SyncEngine> engine_;
  http::Metrics metrics_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(AccountsApiTest, TheOperatorAddsChangesAndRemovesTheAuditorReads) {
  auto op = Client(kOperator);
  auto auditor = Client(kAuditor);
  auto anonymous = Client(nullptr);
  std::vector<std::string> bodies;  // every answer, to look for the password in

  auto forbidden = auditor.Post(kAccounts, AddBody(), "application/json");
  ASSERT_TRUE(forbidden);
  EXPECT_EQ(forbidden->status, 403);
  auto unauthenticated = anonymous.Post(kAccounts, AddBody(), "application/json");
  ASSERT_TRUE(unauthenticated);
  EXPECT_EQ(unauthenticated->status, 401);

  auto added = op.Post(kAccounts, AddBody(), "application/json");
  ASSERT_TRUE(added);
  EXPECT_EQ(added->status, 201) << added->body;
  bodies.push_back(added->body);
  json::object a = json::parse(added->body).as_object().at("data").as_object();
  EXPECT_EQ(a.at("name"), "shop");
  EXPECT_EQ(a.at("source"), "api");
  EXPECT_EQ(a.at("credentials"), "stored sealed");
  EXPECT_EQ(a.at("schedule_minutes"), 120);
  EXPECT_FALSE(a.contains("password"));
  EXPECT_FALSE(a.contains("username"));

  auto list = auditor.Get(kAccounts);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  bodies.push_back(list->body);
  EXPECT_EQ(json::parse(list->body).as_object().at("data").as_array().size(), 2u);  // fbe and shop
  auto one = auditor.Get(kAccounts + "/shop");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  auto none = auditor.Get(kAccounts + "/nope");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);

  // The added account syncs through the same API.
  auto sync = op.Post("/api/v1/emag/products/sync", R"({"account_type":"shop","run_async":false})", "application/json");
  ASSERT_TRUE(sync);
  EXPECT_EQ(sync->status, 200) << sync->body;
  EXPECT_EQ(json::parse(sync->body).as_object().at("status"), "completed");

  auto disabled = op.Patch(kAccounts + "/shop", R"({"enabled":false})", "application/json");
  ASSERT_TRUE(disabled);
  EXPECT_EQ(disabled->status, 200) << disabled->body;
  EXPECT_EQ(json::parse(disabled->body).as_object().at("data").as_object().at("enabled"), false);
  auto refused = op.Post("/api/v1/emag/products/sync", R"({"account_type":"shop"})", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 409) << refused->body;

  auto rotated = op.Patch(kAccounts + "/shop", std::string(R"({"username":"demo-main","password":")") + kPassword + "\"}",
                          "application/json");
  ASSERT_TRUE(rotated);
  EXPECT_EQ(rotated->status, 200);
  bodies.push_back(rotated->body);

  auto bad_purge = op.Delete(kAccounts + "/shop?purge=maybe");
  ASSERT_TRUE(bad_purge);
  EXPECT_EQ(bad_purge->status, 400);
  auto removed = op.Delete(kAccounts + "/shop?purge=true");
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->status, 200) << removed->body;
  json::object r = json::parse(removed->body).as_object().at("data").as_object();
  EXPECT_EQ(r.at("removed"), true);
  EXPECT_EQ(r.at("mirror_purged"), true);
  EXPECT_EQ(r.at("credentials"), "forgotten");
  auto gone = op.Delete(kAccounts + "/shop");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);

  for (const auto& body : bodies) EXPECT_EQ(body.find(kPassword), std::string::npos) << body;
  spdlog::default_logger()->flush();
  const std::string lines = log_lines_.str();
  EXPECT_NE(lines.find("account shop added"), std::string::npos) << "the log sink saw nothing";
  EXPECT_EQ(lines.find(kPassword), std::string::npos) << lines;
}

TEST_F(AccountsApiTest, BadBodiesAreRefusedAndChangeNothing) {
  auto op = Client(kOperator);
  const uint64_t head = log_->Head().seq;
  auto expect = [&](httplib::Result r, int status, const char* says) {
    ASSERT_TRUE(r) << says;
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_NE(r->body.find(says), std::string::npos) << r->body;
    EXPECT_EQ(r->body.find(kPassword), std::string::npos) << r->body;
  };
  expect(op.Post(kAccounts, "", "application/json"), 400, "JSON object");
  expect(op.Post(kAccounts, "{", "application/json"), 400, "not valid JSON");
  expect(op.Post(kAccounts, "[]", "application/json"), 400, "JSON object");
  expect(op.Post(kAccounts, AddBody(), "text/plain"), 415, "application/json");
  expect(op.Post(kAccounts, R"({"username":"u","password":"p"})", "application/json"), 400, "name is required");
  expect(op.Post(kAccounts, R"({"name":"x","username":"u"})", "application/json"), 400, "go together");
  expect(op.Post(kAccounts, std::string(R"({"name":"x","username":"u","password":")") + kPassword + R"(","tier":1})",
                 "application/json"),
         400, "unknown field \\\"tier\\\"");
  expect(op.Post(kAccounts, R"({"name":"x","username":7,"password":"p"})", "application/json"), 400,
         "username must be a string");
  expect(op.Post(kAccounts, R"({"name":"x","username":"u","password":"p","enabled":"yes"})", "application/json"), 400,
         "enabled must be true or false");
  expect(op.Post(kAccounts, R"({"name":"x","username":"u","password":"p","schedule_minutes":-1})", "application/json"),
         400, "schedule_minutes");
  expect(op.Post(kAccounts, R"({"name":"NO WAY","username":"u","password":"p"})", "application/json"), 400,
         "must be 1-32 characters");
  expect(op.Patch(kAccounts + "/fbe", R"({"name":"other"})", "application/json"), 400, "unknown field");
  expect(op.Patch(kAccounts + "/fbe", R"({"enabled":false})", "application/json"), 409, "environment");
  expect(op.Patch(kAccounts + "/nope", R"({"enabled":false})", "application/json"), 404, "no account nope");
  expect(op.Put(kAccounts + "/fbe", "{}", "application/json"), 405, "PATCH");
  EXPECT_EQ(log_->Head().seq, head);
}

}  // namespace
}  // namespace marketsync
