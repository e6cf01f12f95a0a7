#include "tests/testutil/browser.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "base/base64.h"

namespace marketsync::testing {

namespace beast = boost::beast;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;

struct Browser::Socket {
  boost::asio::io_context io;
  beast::websocket::stream<tcp::socket> ws{io};
};

namespace {

// A plain HTTP GET of the DevTools JSON endpoints.
std::string HttpGet(int port, const std::string& path) {
  boost::asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  boost::asio::write(s, boost::asio::buffer(req));
  // Chromium keeps the connection open: read the headers, then Content-Length bytes.
  std::string out;
  boost::system::error_code ec;
  char buf[4096];
  size_t body = std::string::npos, want = std::string::npos;
  while (true) {
    const size_t n = s.read_some(boost::asio::buffer(buf), ec);
    if (n == 0) break;
    out.append(buf, n);
    if (body == std::string::npos && (body = out.find("\r\n\r\n")) != std::string::npos) {
      body += 4;
      std::string headers = out.substr(0, body);
      for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const size_t cl = headers.find("content-length:");
      if (cl != std::string::npos) want = std::stoul(headers.substr(cl + 15));
    }
    if (body != std::string::npos && want != std::string::npos && out.size() >= body + want) break;
  }
  return body == std::string::npos ? "" : out.substr(body);
}

}  // namespace

Browser::Browser(const std::string& profile_dir) {
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::setpgid(0, 0);  // its own group: the destructor kills the renderers with it
    const std::string profile = "--user-data-dir=" + profile_dir;
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execlp("chromium", "chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--remote-debugging-port=0", "--window-size=1280,900",
             profile.c_str(), "about:blank", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Chromium writes the port it chose into DevToolsActivePort.
  int port = 0;
  for (int i = 0; i < 300 && port == 0; ++i) {
    std::ifstream f(profile_dir + "/DevToolsActivePort");
    if (f >> port) break;
    port = 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (port == 0) throw std::runtime_error("chromium did not start (is it installed? tools/install-deps adds it)");
  std::string ws_path;
  for (int i = 0; i < 100 && ws_path.empty(); ++i) {
    boost::system::error_code ec;
    json::value targets = json::parse(HttpGet(port, "/json/list"), ec);
    if (ec || !targets.is_array()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    for (const auto& t : targets.as_array()) {
      if (t.as_object().at("type").as_string() == "page") {
        std::string url(t.as_object().at("webSocketDebuggerUrl").as_string());
        ws_path = url.substr(url.find("/devtools/"));
        break;
      }
    }
    if (ws_path.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (ws_path.empty()) throw std::runtime_error("chromium has no page to attach to");
  socket_ = std::make_unique<Socket>();
  auto& lowest = beast::get_lowest_layer(socket_->ws);
  lowest.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  socket_->ws.read_message_max(256u << 20);
  socket_->ws.handshake("127.0.0.1:" + std::to_string(port), ws_path);
  Call("Page.enable");
  Call("Runtime.enable");
}

Browser::~Browser() {
  if (socket_) {
    boost::system::error_code ec;
    socket_->ws.next_layer().close(ec);
  }
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

json::value Browser::Call(const std::string& method, const json::object& params) {
  const int id = next_id_++;
  socket_->ws.write(boost::asio::buffer(json::serialize(json::object{{"id", id}, {"method", method}, {"params", params}})));
  while (true) {
    beast::flat_buffer buffer;
    socket_->ws.read(buffer);
    json::value msg = json::parse(beast::buffers_to_string(buffer.data()));
    const json::object& o = msg.as_object();
    if (!o.contains("id") || o.at("id").to_number<int>() != id) continue;  // an event
    if (o.contains("error")) throw std::runtime_error(method + ": " + json::serialize(o.at("error")));
    return o.at("result");
  }
}

void Browser::Go(const std::string& url) {
  Call("Page.navigate", {{"url", url}});
  Eval("new Promise(r => { if (document.readyState === 'complete') r(1); else addEventListener('load', () => r(1)); })");
}

json::value Browser::Eval(const std::string& expression) {
  json::value r = Call("Runtime.evaluate", {{"expression", expression}, {"awaitPromise", true}, {"returnByValue", true}});
  const json::object& o = r.as_object();
  if (o.contains("exceptionDetails")) {
    const json::object& d = o.at("exceptionDetails").as_object();
    std::string text = d.contains("exception") && d.at("exception").as_object().contains("description")
                           ? std::string(d.at("exception").as_object().at("description").as_string())
                           : json::serialize(d);
    throw std::runtime_error("page threw: " + text);
  }
  const json::object& result = o.at("result").as_object();
  return result.contains("value") ? result.at("value") : json::value(nullptr);
}

void Browser::Screenshot(const std::string& path) {
  json::value r = Call("Page.captureScreenshot", {{"format", "png"}, {"captureBeyondViewport", true}});
  auto png = Base64Decode(std::string(r.as_object().at("data").as_string()));
  if (!png) throw std::runtime_error("screenshot is not base64");
  std::ofstream(path, std::ios::binary) << *png;
}

}  // namespace marketsync::testing
