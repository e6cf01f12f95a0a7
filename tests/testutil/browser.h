#pragma once

// Headless Chromium driven over the DevTools protocol (a WebSocket, Boost.Beast), for the web
// console's end-to-end tests. No npm, no driver: the browser is Debian's `chromium`.

#include <sys/types.h>

#include <boost/json/value.hpp>
#include <memory>
#include <string>

namespace marketsync::testing {

// Thread safety: one thread.
class Browser {
 public:
  // Starts chromium (headless, its own profile in `profile_dir`) and attaches to its first page.
  // Throws std::runtime_error when it cannot.
  explicit Browser(const std::string& profile_dir);
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // Sends one DevTools command and returns its result (events in between are skipped).
  // Throws on a protocol error.
  boost::json::value Call(const std::string& method, const boost::json::object& params = {});
  // Navigates and waits until the document has loaded.
  void Go(const std::string& url);
  // Evaluates JavaScript in the page (promises awaited) and returns its value as JSON.
  // Throws with the page's exception text when it throws.
  boost::json::value Eval(const std::string& expression);
  // Writes a PNG screenshot of the page.
  void Screenshot(const std::string& path);

 private:
  struct Socket;
  pid_t pid_ = -1;
  std::unique_ptr<Socket> socket_;
  int next_id_ = 1;
};

}  // namespace marketsync::testing
