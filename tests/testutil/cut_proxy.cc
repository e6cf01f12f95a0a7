#include "tests/testutil/cut_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "tests/testutil/loopback.h"

namespace marketsync::testing {

struct CutProxy::Link {
  int client = -1;
  int server = -1;
  std::atomic<bool> drop_answers{false};
  std::thread up, down;
  void Shut() {
    ::shutdown(client, SHUT_RDWR);
    ::shutdown(server, SHUT_RDWR);
  }
};

namespace {

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

std::unique_ptr<CutProxy> CutProxy::Start(int target_port) {
  std::unique_ptr<CutProxy> proxy(new CutProxy());
  proxy->target_port_ = target_port;
  proxy->listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (proxy->listen_fd_ < 0 || ::bind(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(proxy->listen_fd_, 64) != 0 ||
      ::getsockname(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return nullptr;
  }
  proxy->port_ = ntohs(addr.sin_port);
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->Accept(); });
  return proxy;
}

CutProxy::~CutProxy() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::lock_guard lk(mu_);
  for (auto& link : links_) {
    link->Shut();
    link->up.join();
    link->down.join();
    ::close(link->client);
    ::close(link->server);
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void CutProxy::Arm(std::string marker, Cut how) {
  std::lock_guard lk(mu_);
  marker_ = std::move(marker);
  how_ = how;
}

bool CutProxy::Trips(const std::string& chunk, Cut* how) {
  std::lock_guard lk(mu_);
  if (marker_.empty() || chunk.find(marker_) == std::string::npos) return false;
  marker_.clear();
  *how = how_;
  return true;
}

void CutProxy::Accept() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    const int server = ConnectLoopback(target_port_);
    if (server < 0) {
      ::close(client);
      continue;
    }
    auto link = std::make_unique<Link>();
    link->client = client;
    link->server = server;
    Link* l = link.get();
    std::lock_guard lk(mu_);
    link->up = std::thread([this, l] { ClientToServer(*l); });
    link->down = std::thread([this, l] { ServerToClient(*l); });
    links_.push_back(std::move(link));
  }
}

void CutProxy::ClientToServer(Link& link) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(link.client, buf, sizeof(buf), 0);
    if (n <= 0) break;
    Cut how;
    if (Trips(std::string(buf, static_cast<size_t>(n)), &how)) {
      if (how == Cut::kAnswer) {
        link.drop_answers = true;
        (void)WriteAll(link.server, buf, static_cast<size_t>(n));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the server acts on it
      }
      ++cuts_;
      break;
    }
    if (!WriteAll(link.server, buf, static_cast<size_t>(n))) break;
  }
  link.Shut();
}

void CutProxy::ServerToClient(Link& link) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(link.server, buf, sizeof(buf), 0);
    if (n <= 0) break;
    if (link.drop_answers) continue;
    if (!WriteAll(link.client, buf, static_cast<size_t>(n))) break;
  }
  link.Shut();
}

}  // namespace marketsync::testing
