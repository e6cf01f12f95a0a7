// Idle and slow clients do not stop the API from answering others: a hundred connections that
// never send a byte and forty that send a header a byte at a time hold their own workers, and a
// request from someone else is answered at once (before: with 16 workers and a 30 s keep-alive,
// /healthz behind 100 idle connections waited more than two minutes).

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "http/metrics.h"
#include "http/server.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/loopback.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;

int Connect(int port) {
  const int fd = testing::ConnectLoopback(port);
  EXPECT_GE(fd, 0) << "connect to port " << port;
  return fd;
}

class SlowClientsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(h_.Start(10)); }

  testing::EngineHarness h_;
  http::Metrics metrics_;
};

TEST_F(SlowClientsTest, IdleAndSlowConnectionsDoNotStopOthersBeingAnswered) {
  http::ServerOptions so;
  so.port = 0;  // 16 workers ready, as marketsyncd starts
  auto server = http::Server::Create(*h_.log, *h_.engine, metrics_, so);
  ASSERT_OK(server);
  ASSERT_OK((*server)->Start());
  const int port = (*server)->port();

  std::vector<int> held;
  for (int i = 0; i < 100; ++i) held.push_back(Connect(port));  // never send anything
  for (int i = 0; i < 40; ++i) {  // slowloris: a request line, then a byte now and then
    const int fd = Connect(port);
    const std::string start = "GET /healthz HTTP/1.1\r\nX-Slow: ";
    ASSERT_EQ(::send(fd, start.data(), start.size(), 0), static_cast<ssize_t>(start.size()));
    held.push_back(fd);
  }
  std::this_thread::sleep_for(300ms);  // every one of them accepted and handed to a worker
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 100; i < held.size(); ++i) (void)::send(held[i], "x", 1, MSG_NOSIGNAL);
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(5, 0);
    c.set_read_timeout(5, 0);  // far below the minutes the 140 would cost a fixed pool
    auto health = c.Get("/healthz");
    ASSERT_TRUE(health) << "round " << round << ": no answer (" << httplib::to_string(health.error()) << ")";
    EXPECT_EQ(health->status, 200);
    auto status = c.Get("/api/v1/emag/products/status");
    ASSERT_TRUE(status) << "round " << round;
    EXPECT_EQ(status->status, 200);
    std::this_thread::sleep_for(200ms);
  }
  for (int fd : held) ::close(fd);
  (*server)->Stop();
}

TEST_F(SlowClientsTest, FewerConnectionsThanWorkersIsRefused) {
  http::ServerOptions so;
  so.threads = 16;
  so.max_connections = 8;
  auto server = http::Server::Create(*h_.log, *h_.engine, metrics_, so);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace marketsync
