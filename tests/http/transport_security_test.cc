// The API's own transport security: marketsyncd serves HTTPS from the operator's certificate
// (a CA made at test time), refuses to hand bearer tokens to plain HTTP off loopback unless told
// a TLS proxy sits in front, names the file when a certificate or key cannot be used, and
// compares tokens without a shortcut on the first differing byte or on the length.

#include <gtest/gtest.h>
#include <httplib.h>

#include "http/internal/token.h"
#include "http/metrics.h"
#include "http/server.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_certs.h"

namespace marketsync {
namespace {

constexpr char kToken[] = "operator-token-for-the-tls-test";

class TransportSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(h_.Start(20));
    certs_ = testing::MakeTestCerts(h_.dir.Sub("certs"));
  }
  http::ServerOptions Tokens(const std::string& host) {
    http::ServerOptions o;
    o.host = host;
    o.port = 0;
    o.operator_token = kToken;
    return o;
  }
  Status Create(const http::ServerOptions& o) { return http::Server::Create(*h_.log, *h_.engine, metrics_, o).status(); }

  testing::EngineHarness h_;
  testing::TestCerts certs_;
  http::Metrics metrics_;
};

TEST_F(TransportSecurityTest, ServesHttpsWithTheOperatorsCertificate) {
  http::ServerOptions o = Tokens("127.0.0.1");
  o.tls_cert_file = certs_.cert_file;
  o.tls_key_file = certs_.key_file;
  auto server = http::Server::Create(*h_.log, *h_.engine, metrics_, o);
  ASSERT_OK(server);
  ASSERT_OK((*server)->Start());
  const int port = (*server)->port();

  httplib::SSLClient trusting("127.0.0.1", port);
  trusting.set_ca_cert_path(certs_.ca_file.c_str());
  trusting.enable_server_certificate_verification(true);
  trusting.set_bearer_token_auth(kToken);
  auto health = trusting.Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  auto sync = trusting.Post("/api/v1/emag/products/sync", R"({"account_type":"main"})", "application/json");
  ASSERT_TRUE(sync) << httplib::to_string(sync.error());
  EXPECT_EQ(sync->status, 202) << sync->body;
  auto status = trusting.Get("/api/v1/emag/products/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200);

  // A client that does not trust the CA stops at the certificate.
  httplib::SSLClient stranger("127.0.0.1", port);
  stranger.enable_server_certificate_verification(true);
  auto refused = stranger.Get("/healthz");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), httplib::Error::SSLServerVerification);

  // Plain HTTP on the TLS port gets no HTTP answer.
  httplib::Client plain("127.0.0.1", port);
  plain.set_read_timeout(5, 0);
  auto cleartext = plain.Get("/healthz");
  EXPECT_FALSE(cleartext && cleartext->status == 200);
  (*server)->Stop();
}

TEST_F(TransportSecurityTest, TokensOverPlainHttpOffLoopbackAreRefusedUnlessAProxyTerminatesTls) {
  // Created, never started: nothing binds a public address.
  const Status refused = Create(Tokens("0.0.0.0"));
  ASSERT_EQ(refused.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(refused.message().find("plain HTTP on 0.0.0.0"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("--tls-cert"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("--allow-plain-http"), std::string::npos) << refused.message();
  EXPECT_EQ(refused.message().find(kToken), std::string::npos);

  http::ServerOptions proxied = Tokens("0.0.0.0");
  proxied.allow_plain_http = true;
  EXPECT_OK(Create(proxied));
  http::ServerOptions tls = Tokens("10.1.2.3");
  tls.tls_cert_file = certs_.cert_file;
  tls.tls_key_file = certs_.key_file;
  EXPECT_OK(Create(tls));
  EXPECT_OK(Create(Tokens("127.0.0.1")));  // loopback: nothing crosses a network
  EXPECT_OK(Create(Tokens("::1")));
}

TEST_F(TransportSecurityTest, ACertificateOrKeyThatCannotBeUsedIsNamed) {
  http::ServerOptions o = Tokens("127.0.0.1");
  o.tls_cert_file = certs_.cert_file;
  EXPECT_EQ(Create(o).code(), Status::Code::kInvalidArgument);  // no key

  o.tls_key_file = h_.dir.Sub("missing.key");
  Status missing = Create(o);
  ASSERT_EQ(missing.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(missing.message().find(o.tls_key_file), std::string::npos) << missing.message();

  o.tls_cert_file = h_.dir.Sub("missing.crt");
  o.tls_key_file = certs_.key_file;
  missing = Create(o);
  ASSERT_EQ(missing.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(missing.message().find(o.tls_cert_file), std::string::npos) << missing.message();

  const testing::TestCerts other = testing::MakeTestCerts(h_.dir.Sub("other"));
  o.tls_cert_file = certs_.cert_file;
  o.tls_key_file = other.key_file;  // a key, but not this certificate's
  const Status mismatch = Create(o);
  ASSERT_EQ(mismatch.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(mismatch.message().find(other.key_file), std::string::npos) << mismatch.message();
}

TEST(TokenEqualsTest, OnlyTheSameTokenMatches) {
  EXPECT_TRUE(http::TokenEquals("s3cret-token", "s3cret-token"));
  EXPECT_FALSE(http::TokenEquals("s3cret-tokem", "s3cret-token"));
  EXPECT_FALSE(http::TokenEquals("t3cret-token", "s3cret-token"));
  EXPECT_FALSE(http::TokenEquals("s3cret", "s3cret-token"));           // a prefix
  EXPECT_FALSE(http::TokenEquals("s3cret-token-and-more", "s3cret-token"));
  EXPECT_FALSE(http::TokenEquals("", "s3cret-token"));
  EXPECT_FALSE(http::TokenEquals("", ""));  // no token configured matches nothing
  EXPECT_FALSE(http::TokenEquals(std::string_view("s3cret-token\0", 13), "s3cret-token"));
}

}  // namespace
}  // namespace marketsync
