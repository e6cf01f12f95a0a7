// Accounts as data: added, changed and removed at run time, recorded as events (who, what
// changed, never the secret), credentials sealed beside the log under the operator's key. An
// added account syncs and survives a restart; a wrong key stops start-up and changes nothing;
// rotation re-seals under the new key; removal keeps the history and can purge the mirror; the
// environment's accounts are recorded too. The password's bytes appear nowhere in the database.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "projections/all.h"
#include "projections/catalog.h"
#include "schema/account_events.h"
#include "schema/payload_codec.h"
#include "schema/stream_ids.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;

// The simulator's login of its "main" account, under another name here.
const Credentials kShopLogin{"demo-main", "demo-main-secret"};

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sim = sim::Simulator::Start(testing::QuietSimulator(120), "127.0.0.1", 0);
    ASSERT_OK(sim);
    sim_ = std::move(sim).value();
    key_ = *SecretKey::Generate();
  }
  void TearDown() override { Stop(); }

  EngineOptions Options(std::optional<SecretKey> key, std::vector<std::string> env = {"fbe"}) {
    EngineOptions o = testing::EngineFor(*sim_, env);
    o.secret_key = std::move(key);
    return o;
  }
  Status Start(EngineOptions o) {
    Stop();
    MS_ASSIGN_OR_RETURN(log_, testing::OpenEngineLog(dir_.Sub("db")));
    options_ = std::move(o);
    MS_ASSIGN_OR_RETURN(engine_, SyncEngine::Create(*log_, options_));
    return engine_->Start();
  }
  void Stop() {
    if (engine_) engine_->Shutdown();
    engine_.reset();
    log_.reset();
  }
  AccountSpec Shop() {
    AccountSpec s;
    s.name = "shop";
    s.credentials = kShopLogin;
    s.base_url = sim_->BaseUrl();
    return s;
  }
  RunRecord SyncToEnd(const std::string& account) {
    auto ids = testing::SyncToEnd(*engine_, testing::FullSync(account));
    EXPECT_EQ(ids.size(), 1u);
    auto r = engine_->GetRun(ids.empty() ? "" : ids[0]);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : RunRecord{};
  }
  std::vector<Envelope> AccountEvents(const std::string& name) {
    auto events = log_->ReadStream(AccountStreamId(name));
    EXPECT_TRUE(events.ok());
    return events.ok() ? *events : std::vector<Envelope>{};
  }
  // Every file of the database, as bytes.
  std::string DatabaseBytes() {
    std::string all;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.Sub("db"))) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return all;
  }

  testing::TempDir dir_;
  std::unique_ptr<sim::Simulator> sim_;
  SecretKey key_;
  EngineOptions options_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<SyncEngine> engine_;
};

TEST_F(AccountsTest, AnAddedAccountSyncsAndIsThereAfterARestart) {
  ASSERT_OK(Start(Options(key_)));
  auto added = engine_->AddAccount(Shop(), "test");
  ASSERT_OK(added);
  EXPECT_EQ(added->settings.source, "api");
  EXPECT_EQ(added->settings.key_id, key_.id());
  EXPECT_EQ(SyncToEnd("shop").status, kRunCompleted);
  EXPECT_EQ(testing::MirroredProducts(*log_, "shop"), testing::ServedProducts(*sim_, "main"));

  ASSERT_OK(Start(Options(key_)));
  EXPECT_EQ(engine_->account_names(), (std::vector<std::string>{"fbe", "shop"}));
  EXPECT_EQ(SyncToEnd("shop").status, kRunCompleted);
  // The event says who and what, never the secret.
  const auto events = AccountEvents("shop");
  ASSERT_EQ(events.size(), 1u);
  auto payload = DecodePayload<AccountAdded>(events[0].payload_version, events[0].payload);
  ASSERT_OK(payload);
  EXPECT_EQ(payload->by, "test");
  EXPECT_EQ(payload->settings.base_url, sim_->BaseUrl());
  Stop();
  const std::string bytes = DatabaseBytes();
  EXPECT_EQ(bytes.find(kShopLogin.password), std::string::npos) << "the password is in the database";
}

TEST_F(AccountsTest, ChangesAreRecordedByFieldAndNewCredentialsTakeEffect) {
  ASSERT_OK(Start(Options(key_)));
  ASSERT_OK(engine_->AddAccount(Shop(), "test"));
  AccountSpec change;
  change.name = "shop";
  change.credentials = Credentials{"demo-main", "wrong-password-9f2c"};
  change.schedule_minutes = 90;
  auto changed = engine_->ChangeAccount(change, "ops");
  ASSERT_OK(changed);
  EXPECT_EQ(changed->settings.schedule_minutes, 90u);
  EXPECT_EQ(SyncToEnd("shop").status, kRunFailed);  // the simulator refuses the new password

  change = AccountSpec{};
  change.name = "shop";
  change.credentials = kShopLogin;
  ASSERT_OK(engine_->ChangeAccount(change, "ops"));
  EXPECT_EQ(SyncToEnd("shop").status, kRunCompleted);

  // Nothing to change: no event.
  const uint64_t head = log_->Head().seq;
  change = AccountSpec{};
  change.name = "shop";
  change.schedule_minutes = 90;
  ASSERT_OK(engine_->ChangeAccount(change, "ops"));
  EXPECT_EQ(log_->Head().seq, head);

  const auto events = AccountEvents("shop");
  ASSERT_EQ(events.size(), 3u);
  auto first = DecodePayload<AccountChanged>(events[1].payload_version, events[1].payload);
  ASSERT_OK(first);
  EXPECT_EQ(first->changed, (std::vector<std::string>{"schedule_minutes", "credentials"}));
  EXPECT_EQ(first->by, "ops");
  Stop();
  const std::string bytes = DatabaseBytes();
  EXPECT_EQ(bytes.find("wrong-password-9f2c"), std::string::npos);
  EXPECT_EQ(bytes.find(kShopLogin.password), std::string::npos);
}

TEST_F(AccountsTest, DisabledAccountsDoNotSync) {
  ASSERT_OK(Start(Options(key_)));
  AccountSpec s = Shop();
  s.enabled = false;
  ASSERT_OK(engine_->AddAccount(s, "test"));
  auto refused = engine_->StartSync(testing::FullSync("shop"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("disabled"), std::string::npos);
  auto both = engine_->StartSync(testing::FullSync("both"));
  ASSERT_OK(both);
  ASSERT_EQ(both->runs.size(), 1u);  // only fbe
  EXPECT_EQ(both->runs[0].account, "fbe");
  ASSERT_OK(engine_->WaitForRun(both->runs[0].run_id, 30s));
  AccountSpec enable;
  enable.name = "shop";
  enable.enabled = true;
  ASSERT_OK(engine_->ChangeAccount(enable, "test"));
  EXPECT_EQ(SyncToEnd("shop").status, kRunCompleted);
}

TEST_F(AccountsTest, WithNoAccountBothIsRefused) {
  ASSERT_OK(Start(Options(key_, {})));
  const uint64_t head = log_->Head().seq;
  auto refused = engine_->StartSync(testing::FullSync("both"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("names no account"), std::string::npos);
  EXPECT_EQ(log_->Head().seq, head);
  ASSERT_OK(engine_->AddAccount(Shop(), "test"));
  auto both = engine_->StartSync(testing::FullSync("both"));
  ASSERT_OK(both);
  EXPECT_EQ(both->runs.size(), 1u);
  ASSERT_OK(engine_->WaitForRun(both->runs[0].run_id, 30s));
}

TEST_F(AccountsTest, WithoutAKeyNothingIsStored) {
  ASSERT_OK(Start(Options(std::nullopt)));
  const uint64_t head = log_->Head().seq;
  auto refused = engine_->AddAccount(Shop(), "test");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("MARKETSYNC_SECRET_KEY"), std::string::npos);
  EXPECT_EQ(log_->Head().seq, head);
}

TEST_F(AccountsTest, BadAccountsAreRefusedAndChangeNothing) {
  ASSERT_OK(Start(Options(key_)));
  const uint64_t head = log_->Head().seq;
  auto refuse = [&](AccountSpec s, const char* says) {
    auto r = engine_->AddAccount(s, "test");
    ASSERT_FALSE(r.ok()) << says;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find(kShopLogin.password), std::string::npos);
  };
  AccountSpec s = Shop();
  s.name = "Shop!";
  refuse(s, "must be 1-32 characters");
  s = Shop();
  s.name = "both";
  refuse(s, "not \"both\"");
  s = Shop();
  s.credentials.reset();
  refuse(s, "username and password are required");
  s = Shop();
  s.credentials->password.clear();
  refuse(s, "1-512 bytes");
  s = Shop();
  s.base_url = "ftp://example.com/api-3";
  refuse(s, "base");
  s = Shop();
  s.base_url = "https://user:" + kShopLogin.password + "@example.com/api-3";
  refuse(s, "credentials");
  s = Shop();
  s.schedule_minutes = 20000;
  refuse(s, "schedule_minutes");
  EXPECT_EQ(log_->Head().seq, head);
  // An existing name, and the environment's accounts, are not the API's to change.
  ASSERT_OK(engine_->AddAccount(Shop(), "test"));
  auto twice = engine_->AddAccount(Shop(), "test");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().code(), Status::Code::kFailedPrecondition);
  AccountSpec env;
  env.name = "fbe";
  env.enabled = false;
  auto from_env = engine_->ChangeAccount(env, "test");
  ASSERT_FALSE(from_env.ok());
  EXPECT_NE(from_env.status().message().find("environment"), std::string::npos);
  EXPECT_EQ(engine_->RemoveAccount("fbe", false, "test").status().code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(engine_->RemoveAccount("nope", false, "test").status().code(), Status::Code::kNotFound);
}

TEST_F(AccountsTest, AWrongKeyStopsStartUpAndChangesNothing) {
  ASSERT_OK(Start(Options(key_)));
  ASSERT_OK(engine_->AddAccount(Shop(), "test"));
  Stop();
  const SecretKey other = *SecretKey::Generate();
  for (const std::optional<SecretKey>& wrong : {std::optional<SecretKey>(other), std::optional<SecretKey>()}) {
    auto log = testing::OpenEngineLog(dir_.Sub("db"));
    ASSERT_OK(log);
    const uint64_t head = (*log)->Head().seq;
    EngineOptions o = Options(wrong);
    auto engine = SyncEngine::Create(**log, o);
    ASSERT_OK(engine);
    const Status s = (*engine)->Start();
    ASSERT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
    EXPECT_NE(s.message().find("shop (key " + key_.id() + ")"), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find(key_.ToHex()), std::string::npos);
    EXPECT_EQ(s.message().find(other.ToHex()), std::string::npos);
    (*engine)->Shutdown();
    EXPECT_EQ((*log)->Head().seq, head);
  }
  ASSERT_OK(Start(Options(key_)));
  EXPECT_EQ(SyncToEnd("shop").status, kRunCompleted);
}

TEST_F(AccountsTest, RotationSealsEveryRowUnderTheNewKey) {
  ASSERT_OK(Start(Options(key_)));
  ASSERT_OK(engine_->AddAccount(Shop(), "test"));
  const SecretKey next = *SecretKey::Generate();
  EngineOptions rotating = Options(next);
  rotating.previous_secret_key = key_;
  ASSERT_OK(Start(rotating));
  auto row = log_->Get(kCredentialsFamily, "shop");
  ASSERT_OK(row);
  ASSERT_TRUE(row->has_value());
  EXPECT_EQ(*SealedKeyId(**row), next.id());
  const auto events = AccountEvents("shop");
  ASSERT_EQ(events.size(), 2u);
  auto rotated = DecodePayload<AccountChanged>(events[1].payload_version, events[1].payload);
  ASSERT_OK(rotated);
  EXPECT_EQ(rotated->changed, std::vector<std::string>{"key"});
  EXPECT_EQ(rotated->settings.key_id, next.id());
  // The old key is no longer needed.
  ASSERT_OK(Start(Options(next)));
  EXPECT_EQ(SyncToEnd("shop").status, kRunCompleted);
}

TEST_F(AccountsTest, RemovalKeepsTheHistoryAndPurgesTheMirrorWhenAsked) {
  ASSERT_OK(Start(Options(key_)));
  ASSERT_OK(engine_->AddAccount(Shop(), "test"));
  const RunRecord run = SyncToEnd("shop");
  ASSERT_EQ(run.status, kRunCompleted);
  const size_t offers = testing::MirroredProducts(*log_, "shop").size();
  ASSERT_GT(offers, 0u);

  // A run holding the account stops the removal (its answers are slowed so it is still running).
  ASSERT_OK(sim_->SetFaults(R"({"rules":[{"fault":"slow","delay_ms":400}]})"));
  auto started = engine_->StartSync(testing::FullSync("shop"));
  ASSERT_OK(started);
  auto busy = engine_->RemoveAccount("shop", true, "test");
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(busy.status().message().find(started->runs[0].run_id), std::string::npos) << busy.status().message();
  ASSERT_OK(sim_->SetFaults(R"({"rules":[]})"));
  ASSERT_OK(engine_->WaitForRun(started->runs[0].run_id, 30s));

  auto removed = engine_->RemoveAccount("shop", true, "test");
  ASSERT_OK(removed);
  EXPECT_TRUE(removed->removed);
  EXPECT_TRUE(removed->mirror_purged);
  EXPECT_TRUE(testing::MirroredProducts(*log_, "shop").empty());
  EXPECT_FALSE(log_->Get(kCredentialsFamily, "shop")->has_value());  // forgotten
  EXPECT_TRUE(engine_->GetRun(run.id).ok());                         // its history stays
  EXPECT_FALSE(engine_->StartSync(testing::FullSync("shop")).ok());
  auto payload = DecodePayload<AccountRemoved>(AccountEvents("shop").back().payload_version,
                                               AccountEvents("shop").back().payload);
  ASSERT_OK(payload);
  EXPECT_EQ(payload->offers_purged, offers);
  CatalogQuery query;
  query.account = "shop";
  auto catalog = SearchCatalog(*log_, query);
  ASSERT_OK(catalog);
  EXPECT_EQ(catalog->total, 0u);
  auto checks = VerifyProjections(*log_);
  ASSERT_OK(checks);
  for (const auto& c : *checks) EXPECT_TRUE(c.ok()) << c.name;

  // The name can be used again; it starts from an empty mirror.
  ASSERT_OK(engine_->AddAccount(Shop(), "test"));
  EXPECT_EQ(SyncToEnd("shop").created_items, offers);
  EXPECT_EQ(AccountEvents("shop").size(), 3u);
}

TEST_F(AccountsTest, TheEnvironmentsAccountsAreRecordedAndTheirDepartureToo) {
  ASSERT_OK(Start(Options(key_, {"main", "fbe"})));
  auto listed = engine_->ListAccounts();
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 2u);
  for (const auto& a : *listed) {
    EXPECT_EQ(a.settings.source, "environment");
    EXPECT_EQ(a.changed_by, "environment");
  }
  const uint64_t head = log_->Head().seq;
  ASSERT_OK(Start(Options(key_, {"main", "fbe"})));
  EXPECT_EQ(log_->Head().seq, head);  // the same environment again: nothing to record
  ASSERT_OK(Start(Options(key_, {"main"})));
  listed = engine_->ListAccounts();
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "fbe");
  EXPECT_TRUE((*listed)[0].removed);
  EXPECT_FALSE((*listed)[1].removed);
  EXPECT_EQ(engine_->account_names(), std::vector<std::string>{"main"});
}

}  // namespace
}  // namespace marketsync
