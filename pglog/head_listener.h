#pragma once

// HeadListener: a thread on a connection of its own that LISTENs on the head channel
// (schema.h's kHeadChannel) and hands every committed group's seq to a callback, so a node
// waiting for the log (the live tail, WaitForSeq) wakes when any node appends instead of
// polling the head row. A lost connection (the server restarted, or failed over: a standby
// refuses LISTEN) is reconnected with backoff; while it is down, listening() is false and the
// waiter polls instead. Notifications can be missed around a reconnect: a waiter still polls
// now and then. No libpq in this header.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace marketsync::pglog {

class HeadListener {
 public:
  // Starts the thread; `on_head` runs on it with each notified seq (in commit order).
  HeadListener(std::string conninfo, std::function<void(uint64_t)> on_head);
  // Stops and joins the thread (at once: it is woken, not polled).
  ~HeadListener();
  HeadListener(const HeadListener&) = delete;
  HeadListener& operator=(const HeadListener&) = delete;

  // True while LISTEN is in force on a live connection.
  bool listening() const { return listening_.load(); }
  // Connections made so far (1 after the first, more after reconnects).
  uint64_t connections() const { return connections_.load(); }

 private:
  void Loop();
  // Sleeps `ms` or until stopped; false when stopped.
  bool Pause(int ms);

  const std::string conninfo_;
  const std::function<void(uint64_t)> on_head_;
  int wake_[2] = {-1, -1};  // a pipe: the destructor writes, the thread's poll wakes
  std::atomic<bool> stop_{false};
  std::atomic<bool> listening_{false};
  std::atomic<uint64_t> connections_{0};
  std::thread thread_;
};

}  // namespace marketsync::pglog
