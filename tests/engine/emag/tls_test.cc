// eMAG is HTTPS. Against a simulator behind TLS with a CA made at test time: trusted through
// ca_file, a full sync completes; untrusted, the call fails at once naming the certificate (no
// retries) and a run fails fatally instead of going on.

#include <gtest/gtest.h>

#include "engine/sync_engine.h"
#include "tests/engine/emag/emag_client_fixture.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/test_certs.h"

namespace marketsync::emag {
namespace {

using namespace std::chrono_literals;

class TlsTest : public EmagClientTest {
 protected:
  void SetUp() override {
    certs_ = testing::MakeTestCerts(dir_.path().string());
    sim::SimulatorOptions o = Defaults();
    o.tls_cert = certs_.cert_file;
    o.tls_key = certs_.key_file;
    StartSim(o);
    ASSERT_TRUE(sim_->BaseUrl().starts_with("https://")) << sim_->BaseUrl();
  }
  ClientOptions Trusting() {
    ClientOptions o = FastRetries();
    o.ca_file = certs_.ca_file;
    return o;
  }

  testing::TempDir dir_;
  testing::TestCerts certs_;
};

TEST_F(TlsTest, WithTheCaTrustedTheClientReadsEveryPage) {
  auto client = Client("main", Trusting());
  auto count = client->Count({}, nullptr);
  ASSERT_OK(count);
  EXPECT_EQ(count->items, kOffers);
  auto page = client->ReadPage({}, 3, 100, nullptr);
  ASSERT_OK(page);
  EXPECT_EQ(page->offers.size(), kOffers - 200);
}

TEST_F(TlsTest, AnUntrustedCertificateFailsAtOnceNamingIt) {
  auto client = Client("main");  // the system's trust store: it does not know the test CA
  CallStats stats;
  auto count = client->Count({}, &stats);
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), Status::Code::kFailedPrecondition) << count.status().ToString();
  EXPECT_TRUE(IsFatalEmagError(count.status()));
  EXPECT_NE(count.status().message().find("TLS certificate is not trusted"), std::string::npos)
      << count.status().message();
  EXPECT_EQ(stats.requests, 1u);
  EXPECT_EQ(stats.retries, 0u);
  EXPECT_EQ(sim_->Stats("main")->requests, 0u);  // nothing reached the API
  // The wrong CA is no better than none.
  ClientOptions other = FastRetries();
  other.ca_file = certs_.cert_file;  // a certificate, not its issuer
  auto again = Client("main", other)->Count({}, nullptr);
  EXPECT_EQ(again.status().code(), Status::Code::kFailedPrecondition) << again.status().ToString();
}

TEST_F(TlsTest, ARunSyncsOverTlsAndFailsFatallyWhenTheCertificateIsNotTrusted) {
  auto log = testing::OpenEngineLog(dir_.Sub("db"));
  ASSERT_OK(log);
  // One full sync of "main" by an engine with `ca_file`, to its end.
  auto run = [&](const std::string& ca_file) -> RunRecord {
    EngineOptions o = testing::EngineFor(*sim_, {"main"});
    o.client.ca_file = ca_file;
    auto engine = SyncEngine::Create(**log, o);
    EXPECT_TRUE(engine.ok() && (*engine)->Start().ok());
    if (!engine.ok()) return {};
    auto ids = testing::SyncToEnd(**engine, testing::FullSync("main"));
    EXPECT_EQ(ids.size(), 1u);
    auto r = ids.empty() ? Result<RunRecord>(Status::NotFound("no run")) : (*engine)->GetRun(ids[0]);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RunRecord{};
  };
  const RunRecord trusted = run(certs_.ca_file);
  EXPECT_EQ(trusted.status, kRunCompleted);
  EXPECT_EQ(trusted.created_items, kOffers);
  const RunRecord untrusted = run("");
  EXPECT_EQ(untrusted.status, kRunFailed);
  EXPECT_EQ(untrusted.error_class, "fatal");
  EXPECT_NE(untrusted.error_message.find("TLS certificate is not trusted"), std::string::npos) << untrusted.error_message;
  EXPECT_EQ(untrusted.retries, 0u);
}

}  // namespace
}  // namespace marketsync::emag
