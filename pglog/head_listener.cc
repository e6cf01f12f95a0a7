#include "pglog/head_listener.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <memory>

#include "pglog/pg_conn.h"
#include "pglog/schema.h"

namespace marketsync::pglog {

HeadListener::HeadListener(std::string conninfo, std::function<void(uint64_t)> on_head)
    : conninfo_(std::move(conninfo)), on_head_(std::move(on_head)) {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;  // then polls time out instead
  thread_ = std::thread([this] { Loop(); });
}

HeadListener::~HeadListener() {
  stop_ = true;
  if (wake_[1] >= 0) (void)!::write(wake_[1], "x", 1);
  thread_.join();
  for (int fd : wake_) {
    if (fd >= 0) ::close(fd);
  }
}

bool HeadListener::Pause(int ms) {
  pollfd p{wake_[0], POLLIN, 0};
  (void)::poll(&p, wake_[0] >= 0 ? 1 : 0, ms);
  return !stop_;
}

void HeadListener::Loop() {
  int backoff_ms = 50;
  while (!stop_) {
    auto conn = PgConn::Connect(conninfo_);
    if (!conn.ok() || !(*conn)->Exec("LISTEN " + std::string(kHeadChannel)).ok()) {
      if (!Pause(backoff_ms)) return;
      backoff_ms = std::min(backoff_ms * 2, 1000);
      continue;
    }
    backoff_ms = 50;
    ++connections_;
    listening_ = true;
    while (!stop_) {
      pollfd fds[2] = {{(*conn)->socket(), POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(fds, wake_[0] >= 0 ? 2 : 1, 1000) < 0 && errno != EINTR) break;
      if (stop_) break;
      auto payloads = (*conn)->TakeNotifications();
      if (!payloads.ok()) break;  // the connection is gone: reconnect
      uint64_t head = 0;
      for (const std::string& p : *payloads) {
        uint64_t seq = 0;
        if (std::from_chars(p.data(), p.data() + p.size(), seq).ec == std::errc()) head = std::max(head, seq);
      }
      if (head > 0) on_head_(head);
    }
    listening_ = false;
  }
}

}  // namespace marketsync::pglog
