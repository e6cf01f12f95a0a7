// The PostgreSQL backend's connection and schema (issue 17), against a real server the test
// starts on loopback.
#include "pglog/pg_conn.h"

#include <gtest/gtest.h>

#include "pglog/schema.h"
#include "tests/pglog/pg_fixture.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync::pglog {
namespace {

class PgConnTest : public PgFixture {
 protected:
  PgConnTest() { with_schema_ = false; }  // the tests create it
};

TEST_F(PgConnTest, TheSchemaIsCreatedOnceWithAnEmptyHead) {
  ASSERT_OK(EnsureSchema(*conn_));
  ASSERT_OK(EnsureSchema(*conn_));  // a second time changes nothing
  auto head = ReadHead(*conn_);
  ASSERT_OK(head);
  EXPECT_EQ(head->seq, 0u);
  EXPECT_EQ(head->hash, std::string(32, '\0'));
  auto other = PgConn::Connect(server_->conninfo());
  ASSERT_OK(other);
  ASSERT_OK(EnsureSchema(**other));  // another node starting on the same database

  ASSERT_OK(conn_->Exec("UPDATE ms_schema SET version = 99"));
  Status s = EnsureSchema(*conn_);
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("version 99"), std::string::npos) << s.message();
}

TEST_F(PgConnTest, BytesGoInAndComeBackExactly) {
  ASSERT_OK(EnsureSchema(*conn_));
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));  // NULs and high bytes too
  ASSERT_OK(conn_->Exec("INSERT INTO ms_kv (family, key, value) VALUES ($1, $2, $3)",
                        {PgParam::Text("meta"), PgParam::Bytes(std::string("k\0ey", 4)), PgParam::Bytes(bytes)}));
  auto rows = conn_->Query("SELECT key, value, family FROM ms_kv WHERE family = $1", {PgParam::Text("meta")});
  ASSERT_OK(rows);
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0][0], std::string("k\0ey", 4));
  EXPECT_EQ(rows->rows[0][1], bytes);
  EXPECT_EQ(rows->rows[0][2], "meta");
  auto updated = conn_->Query("UPDATE ms_kv SET value = $1 WHERE family = 'meta'", {PgParam::Bytes("v")});
  ASSERT_OK(updated);
  EXPECT_EQ(updated->affected, 1u);
  auto nulls = conn_->Query("SELECT NULL::text");
  ASSERT_OK(nulls);
  EXPECT_FALSE(nulls->rows[0][0].has_value());
}

TEST_F(PgConnTest, ErrorsMapToWhatACallerCanDo) {
  ASSERT_OK(EnsureSchema(*conn_));
  const std::vector<PgParam> row{PgParam::Text("meta"), PgParam::Bytes("k"), PgParam::Bytes("v")};
  ASSERT_OK(conn_->Exec("INSERT INTO ms_kv (family, key, value) VALUES ($1, $2, $3)", row));
  Status dup = conn_->Exec("INSERT INTO ms_kv (family, key, value) VALUES ($1, $2, $3)", row);
  EXPECT_EQ(dup.code(), Status::Code::kFailedPrecondition) << dup.ToString();
  EXPECT_NE(dup.message().find("23505"), std::string::npos) << dup.message();
  EXPECT_EQ(conn_->Exec("SELEKT 1").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(conn_->Exec("INSERT INTO ms_head (id, seq, hash) VALUES (2, 0, '\\x00')").code(),
            Status::Code::kFailedPrecondition) << "one head row only";
  EXPECT_TRUE(conn_->ok());

  server_->Kill();
  Status gone = conn_->Exec("SELECT 1");
  EXPECT_EQ(gone.code(), Status::Code::kUnavailable) << gone.ToString();
  EXPECT_FALSE(conn_->ok());
  auto refused = PgConn::Connect(server_->conninfo());
  EXPECT_EQ(refused.status().code(), Status::Code::kUnavailable);
}

// A primary that vanishes without a reset must not hold a connection for the kernel's hours:
// every connection has keepalives and a user timeout, and a connection string that sets them
// (key=value or URI) has the last word.
TEST_F(PgConnTest, ConnectionsKeepAliveUnlessTheStringSaysOtherwise) {
  EXPECT_EQ(conn_->Setting("keepalives"), "1");
  EXPECT_EQ(conn_->Setting("keepalives_idle"), "10");
  EXPECT_EQ(conn_->Setting("keepalives_interval"), "3");
  EXPECT_EQ(conn_->Setting("keepalives_count"), "3");
  EXPECT_EQ(conn_->Setting("tcp_user_timeout"), "30000");
  EXPECT_EQ(conn_->Setting("dbname"), "postgres");  // the string's own settings are kept

  auto own = PgConn::Connect(server_->conninfo() + " keepalives_idle=42 tcp_user_timeout=0");
  ASSERT_OK(own);
  EXPECT_EQ((*own)->Setting("keepalives_idle"), "42");
  EXPECT_EQ((*own)->Setting("tcp_user_timeout"), "0");
  EXPECT_EQ((*own)->Setting("keepalives_count"), "3");

  auto port = conn_->Setting("port");
  auto user = conn_->Setting("user");
  ASSERT_TRUE(port && user);
  auto uri = PgConn::Connect("postgresql://" + *user + "@127.0.0.1:" + *port + "/postgres?keepalives_interval=7");
  ASSERT_OK(uri);
  EXPECT_EQ((*uri)->Setting("keepalives_interval"), "7");
  EXPECT_EQ((*uri)->Setting("keepalives_idle"), "10");
  auto r = (*uri)->Query("SELECT 1");
  ASSERT_OK(r);
}

TEST(PgConnConnectTest, APasswordInTheConnectionStringIsNotRepeated) {
  auto c = PgConn::Connect("host=127.0.0.1 port=1 user=u password=sekrit-123 connect_timeout=2");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(c.status().message().find("sekrit-123"), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace marketsync::pglog
