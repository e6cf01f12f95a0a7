#include "tests/testutil/log_backend.h"

#include "pglog/pg_event_log.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync::testing {

void LogBackendTest::SetUp() {
  if (!postgres()) return;
  if (auto why = PgServer::Unavailable()) GTEST_SKIP() << *why;
  auto server = PgServer::Start();
  ASSERT_OK(server);
  server_ = std::move(server).value();
}

Result<std::unique_ptr<EventLog>> LogBackendTest::Open(EventLogOptions options) {
  if (postgres()) return pglog::OpenPgEventLog(server_->conninfo(), std::move(options));
  return EventLog::Open(dir_.Sub("db"), std::move(options));
}

std::unique_ptr<EventLog> LogBackendTest::OpenOrDie(EventLogOptions options) {
  auto log = Open(std::move(options));
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return log.ok() ? std::move(log).value() : nullptr;
}

std::string LogBackendName(const ::testing::TestParamInfo<LogBackend>& info) {
  return info.param == LogBackend::kPostgres ? "PostgreSQL" : "RocksDB";
}

}  // namespace marketsync::testing
