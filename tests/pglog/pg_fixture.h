#pragma once

// The set-up every pglog test shares: a throwaway server (skipped with the reason where
// PostgreSQL is not installed), a connection, and the log's tables.

#include <gtest/gtest.h>

#include <memory>

#include "pglog/pg_conn.h"
#include "pglog/schema.h"
#include "tests/testutil/pg_server.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync::pglog {

class PgFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::PgServer::Unavailable()) GTEST_SKIP() << *why;
    auto server = testing::PgServer::Start();
    ASSERT_OK(server);
    server_ = std::move(server).value();
    conn_ = Connect();
    ASSERT_NE(conn_, nullptr);
    if (with_schema_) ASSERT_OK(EnsureSchema(*conn_));
  }
  // Another connection to the server, as another node would have.
  std::unique_ptr<PgConn> Connect() {
    auto c = PgConn::Connect(server_->conninfo());
    EXPECT_OK(c);
    return c.ok() ? std::move(c).value() : nullptr;
  }

  bool with_schema_ = true;
  std::unique_ptr<testing::PgServer> server_;
  std::unique_ptr<PgConn> conn_;
};

}  // namespace marketsync::pglog
