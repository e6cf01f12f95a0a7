#pragma once

// Which other nodes are alive, judged by this node alone. A node's heartbeat row
// (meta/heartbeat/<node>) changes with every beat; a node whose row this node has seen
// unchanged for a lease ttl of its own monotonic clock is taken for dead. No two nodes' clocks
// are compared: the row's value (the writer's "alive until" time) is for operators to read, and
// a node whose clock is off by minutes neither loses its runs nor takes others' early. The
// price: a node that starts cannot judge a row it has never seen change, so it takes over a
// dead node's runs one ttl after it first looks, not at once.

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace marketsync {

// Thread-safe.
class HeartbeatWatch {
 public:
  using Clock = std::chrono::steady_clock;

  // Whether `node`, whose row reads `beat` now, has beaten within `ttl` of this node's time:
  // true for a value not seen before (it changed, or this node has just started looking).
  bool Alive(const std::string& node, const std::string& beat, std::chrono::milliseconds ttl,
             Clock::time_point now = Clock::now()) {
    std::lock_guard lk(mu_);
    auto [it, fresh] = seen_.try_emplace(node, Seen{beat, now});
    if (fresh || it->second.beat != beat) {
      it->second = Seen{beat, now};
      return true;
    }
    return now - it->second.since < ttl;
  }

 private:
  struct Seen {
    std::string beat;
    Clock::time_point since;  // when this node first saw the row at this value
  };
  std::mutex mu_;
  std::map<std::string, Seen> seen_;
};

}  // namespace marketsync
