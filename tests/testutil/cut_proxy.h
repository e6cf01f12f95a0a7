#pragma once

// CutProxy: a TCP relay on loopback in front of a server, which can cut one connection at the
// moment a client sends a marker (for the log on PostgreSQL: "COMMIT"). Two cuts: drop the
// request, so the server never sees it, or deliver it and drop the answer, so the server acts
// on it and the client never learns that it did. Both sides are then closed. This is the
// network failure that leaves a commit in doubt, made exact.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace marketsync::testing {

class CutProxy {
 public:
  enum class Cut {
    kRequest,  // the chunk with the marker is not forwarded
    kAnswer,   // it is forwarded; what the server answers from then on is dropped
  };

  // Listens on 127.0.0.1 (a free port) and relays each connection to 127.0.0.1:target_port.
  // Null when it cannot listen.
  static std::unique_ptr<CutProxy> Start(int target_port);
  ~CutProxy();  // closes every connection and joins its threads
  CutProxy(const CutProxy&) = delete;
  CutProxy& operator=(const CutProxy&) = delete;

  int port() const { return port_; }
  // The next chunk a client sends that contains `marker` cuts its connection `how` (once).
  void Arm(std::string marker, Cut how);
  // Connections cut so far.
  int cuts() const { return cuts_.load(); }

 private:
  struct Link;
  CutProxy() = default;
  void Accept();
  void ClientToServer(Link& link);
  void ServerToClient(Link& link);
  // The marker when the proxy is armed and `chunk` holds it (and disarms it); else nothing.
  bool Trips(const std::string& chunk, Cut* how);

  int listen_fd_ = -1;
  int target_port_ = 0;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> cuts_{0};
  std::mutex mu_;
  std::string marker_;
  Cut how_ = Cut::kRequest;
  std::vector<std::unique_ptr<Link>> links_;
  std::thread acceptor_;
};

}  // namespace marketsync::testing
