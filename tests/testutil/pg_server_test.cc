// The throwaway PostgreSQL server the PostgreSQL backend's tests will run against (issue 17):
// it starts on loopback, keeps what it acknowledged across a fast restart of the client,
// is as durable as configured, and is gone after a kill -9.
#include "tests/testutil/pg_server.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <filesystem>
#include <memory>
#include <string>

#include "tests/testutil/status_matchers.h"

namespace marketsync::testing {
namespace {

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, PgConnDeleter>;

Conn Connect(const PgServer& server) { return Conn(PQconnectdb(server.conninfo().c_str())); }

// The single value a query answers, or "ERROR: ..." with the server's message.
std::string Value(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  std::string out;
  const ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_TUPLES_OK && PQntuples(r) == 1) {
    out = PQgetvalue(r, 0, 0);
  } else if (st != PGRES_COMMAND_OK) {
    out = std::string("ERROR: ") + PQresultErrorMessage(r);
  }
  PQclear(r);
  return out;
}

TEST(PgServerTest, StartsOnLoopbackDurableAndStopsOnKill) {
  if (auto why = PgServer::Unavailable()) GTEST_SKIP() << *why;
  auto server = PgServer::Start();
  ASSERT_OK(server);
  Conn c = Connect(**server);
  ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
  EXPECT_EQ(Value(c.get(), "SHOW fsync"), "on");
  EXPECT_EQ(Value(c.get(), "SHOW synchronous_commit"), "on");
  EXPECT_EQ(Value(c.get(), "SHOW listen_addresses"), "127.0.0.1");
  EXPECT_EQ(Value(c.get(), "SELECT current_setting('server_version_num')::int / 10000"), "15");
  EXPECT_EQ(Value(c.get(), "CREATE TABLE t (x int PRIMARY KEY)"), "");
  EXPECT_EQ(Value(c.get(), "INSERT INTO t VALUES (1), (2)"), "");
  EXPECT_TRUE(Value(c.get(), "INSERT INTO t VALUES (1)").starts_with("ERROR:")) << "a constraint holds";
  Conn other = Connect(**server);
  EXPECT_EQ(Value(other.get(), "SELECT count(*) FROM t"), "2") << "committed rows seen by another session";

  const std::string dir = (*server)->data_dir();
  (*server)->Kill();
  Conn after = Connect(**server);
  EXPECT_NE(PQstatus(after.get()), CONNECTION_OK) << "a killed server answers nothing";
  server->reset();
  EXPECT_FALSE(std::filesystem::exists(dir)) << "its directory is removed";
}

TEST(PgServerTest, TwoServersRunSideBySide) {
  if (auto why = PgServer::Unavailable()) GTEST_SKIP() << *why;
  auto a = PgServer::Start();
  auto b = PgServer::Start();
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_NE((*a)->port(), (*b)->port());
  Conn ca = Connect(**a), cb = Connect(**b);
  EXPECT_EQ(Value(ca.get(), "CREATE TABLE only_a (x int)"), "");
  EXPECT_TRUE(Value(cb.get(), "SELECT count(*) FROM only_a").starts_with("ERROR:")) << "separate clusters";
}

}  // namespace
}  // namespace marketsync::testing
