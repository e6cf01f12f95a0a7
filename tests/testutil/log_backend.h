#pragma once

// One EventLog test suite, every backend: a test written against LogBackendTest runs on
// RocksDB (a fresh directory) and on PostgreSQL (a fresh server on loopback; skipped with the
// reason where PostgreSQL is not installed). Instantiate with MS_ON_EVERY_LOG_BACKEND(Suite).

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "events/event_log.h"
#include "tests/testutil/log_fixtures.h"
#include "tests/testutil/pg_server.h"
#include "tests/testutil/temp_dir.h"

namespace marketsync::testing {

enum class LogBackend { kRocksDb, kPostgres };

class LogBackendTest : public ::testing::TestWithParam<LogBackend> {
 protected:
  void SetUp() override;
  bool postgres() const { return GetParam() == LogBackend::kPostgres; }
  // Opens (again) the log this test's place holds: the same directory, or the same database.
  Result<std::unique_ptr<EventLog>> Open(EventLogOptions options = TestLogOptions());
  std::unique_ptr<EventLog> OpenOrDie(EventLogOptions options = TestLogOptions());
  // The server of a PostgreSQL test (nullptr on RocksDB).
  PgServer* server() const { return server_.get(); }

 private:
  TempDir dir_;
  std::unique_ptr<PgServer> server_;
};

std::string LogBackendName(const ::testing::TestParamInfo<LogBackend>& info);

}  // namespace marketsync::testing

#define MS_ON_EVERY_LOG_BACKEND(suite)                                                                        \
  INSTANTIATE_TEST_SUITE_P(Backends, suite,                                                                    \
                           ::testing::Values(::marketsync::testing::LogBackend::kRocksDb,                     \
                                             ::marketsync::testing::LogBackend::kPostgres),                   \
                           ::marketsync::testing::LogBackendName)
