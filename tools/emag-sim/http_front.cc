#include "tools/emag-sim/http_front.h"

#include <pthread.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <thread>
#include <type_traits>

namespace marketsync::sim {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// What every connection shares: the options, the handler and the workers that run it.
struct Shared {
  const FrontOptions& options;
  const FrontHandler& handler;
  net::io_context& workers;
};

// One connection: read a request, answer it (after its delay), read the next. Its operations
// run one after another on the connection's strand.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(const Shared& shared, tcp::socket socket, ssl::context* tls, std::string remote)
      : shared_(shared), options_(shared.options), stream_(MakeStream(std::move(socket), tls)),
        timer_(stream_.get_executor()), remote_(std::move(remote)) {}

  void Start() {
    if constexpr (kTls) {
      Lowest().expires_after(options_.read_timeout);
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](error_code ec) {
        if (ec) return self->Close();
        self->Read();
      });
    } else {
      Read();
    }
  }

 private:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  static Stream MakeStream(tcp::socket socket, ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls);
    } else {
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  // The header within the idle timeout (the next request of a kept connection may never come),
  // the rest within the read timeout.
  void Read() {
    parser_.emplace();
    parser_->body_limit(options_.max_body);
    Lowest().expires_after(options_.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_, [self = this->shared_from_this()](error_code ec, size_t) {
      if (ec) return self->ReadFailed(ec);
      self->arrived_ = std::chrono::steady_clock::now();
      self->Lowest().expires_after(self->options_.read_timeout);
      http::async_read(self->stream_, self->buffer_, *self->parser_, [self](error_code body_ec, size_t) {
        if (body_ec) return self->ReadFailed(body_ec);
        self->Lowest().expires_never();
        self->Handle();
      });
    });
  }

  // A malformed or oversized request is answered, and the connection closed; a closed or
  // silent one is just closed.
  void ReadFailed(const error_code& ec) {
    const bool malformed = ec.category() == http::make_error_code(http::error::bad_target).category() &&
                           ec != http::error::end_of_stream && ec != http::error::partial_message;
    if (!malformed) return Close();
    keep_alive_ = false;
    reply_ = FrontReply{};
    reply_.content_type = "text/plain";
    reply_.status = ec == http::error::body_limit ? 413 : 400;
    reply_.body = ec == http::error::body_limit ? "Payload Too Large" : "Bad Request";
    Write();
  }

  // The handler runs on the workers; its answer comes back to the connection's strand.
  void Handle() {
    http::request<http::string_body>& req = parser_->get();
    FrontRequest request;
    request.method = std::string(req.method_string());
    const std::string_view target = req.target();
    request.path = std::string(target.substr(0, target.find('?')));
    request.content_type = std::string(req[http::field::content_type]);
    request.authorization = std::string(req[http::field::authorization]);
    request.body = std::move(req.body());
    request.remote_addr = remote_;
    request.arrived = arrived_;
    keep_alive_ = req.keep_alive();
    net::post(shared_.workers, [self = this->shared_from_this(), request = std::move(request)] {
      FrontReply reply = self->shared_.handler(request);
      net::post(self->stream_.get_executor(), [self, reply = std::move(reply)]() mutable {
        self->Answer(std::move(reply));
      });
    });
  }

  void Answer(FrontReply reply) {
    reply_ = std::move(reply);
    if (reply_.delay.count() <= 0) return Write();
    timer_.expires_after(reply_.delay);
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (!ec) self->Write();
    });
  }

  void Write() {
    if (reply_.on_delay_over) std::exchange(reply_.on_delay_over, nullptr)();
    Lowest().expires_after(options_.read_timeout);
    if (reply_.reset_halfway) {
      raw_ = "HTTP/1.1 " + std::to_string(reply_.status) + " OK\r\nContent-Type: " + reply_.content_type +
             "\r\nContent-Length: " + std::to_string(reply_.body.size()) + "\r\n\r\n" +
             reply_.body.substr(0, reply_.body.size() / 2);
      net::async_write(stream_, net::buffer(raw_), [self = this->shared_from_this()](error_code, size_t) {
        self->Close();
      });
      return;
    }
    response_.emplace();
    response_->version(11);
    response_->result(static_cast<unsigned>(reply_.status));
    response_->set(http::field::server, "emag-sim");
    response_->set(http::field::content_type, reply_.content_type);
    for (const auto& [name, value] : reply_.headers) response_->set(name, value);
    response_->keep_alive(keep_alive_);
    response_->body() = std::move(reply_.body);
    response_->prepare_payload();
    http::async_write(stream_, *response_, [self = this->shared_from_this()](error_code ec, size_t) {
      self->response_.reset();
      if (ec || !self->keep_alive_) return self->Close();
      self->Read();
    });
  }

  void Close() {
    error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
  }

  const Shared& shared_;
  const FrontOptions& options_;
  Stream stream_;
  net::steady_timer timer_;  // the answer's delay
  const std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  FrontReply reply_;
  std::string raw_;  // a reset's half answer
  std::chrono::steady_clock::time_point arrived_;
  bool keep_alive_ = true;
};

class Front final : public HttpFront {
 public:
  Front(FrontOptions options, FrontHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)), io_(std::make_unique<net::io_context>()),
        workers_(std::make_unique<net::io_context>()), shared_{options_, handler_, *workers_},
        acceptor_(std::make_unique<tcp::acceptor>(*io_)), retry_(*io_), idle_(net::make_work_guard(*workers_)) {}

  ~Front() override { Stop(); }

  Status Bind(const std::string& host, int port) {
    if (!options_.tls_cert.empty()) {
      tls_.emplace(ssl::context::tls_server);
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      error_code ec;
      tls_->use_certificate_chain_file(options_.tls_cert, ec);
      if (!ec) tls_->use_private_key_file(options_.tls_key, ssl::context::pem, ec);
      if (ec) {
        return Status::InvalidArgument("emag-sim cannot serve TLS with certificate " + options_.tls_cert + " and key " +
                                       options_.tls_key + ": " + ec.message());
      }
    }
    const std::string where = host + ":" + std::to_string(port);
    error_code ec;
    tcp::resolver resolver(*io_);
    const auto found = resolver.resolve(host, std::to_string(port), ec);
    if (ec || found.empty()) return Status::Unavailable("emag-sim cannot resolve " + where + ": " + ec.message());
    const tcp::endpoint endpoint = found.begin()->endpoint();
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    // Room for a burst of connections: hundreds of accounts start at once.
    if (!ec) acceptor_->listen(4096, ec);
    if (ec) return Status::Unavailable("emag-sim cannot bind " + where + ": " + ec.message());
    port_ = acceptor_->local_endpoint().port();
    Accept();
    // Named here, before Start returns: whoever counts threads right after sees them named.
    for (size_t i = 0; i < std::max<size_t>(options_.threads, 1); ++i) {
      threads_.emplace_back([this] { io_->run(); });
      pthread_setname_np(threads_.back().native_handle(), "emag-sim");
    }
    for (size_t i = 0; i < std::max<size_t>(options_.workers, 1); ++i) {
      threads_.emplace_back([this] { workers_->run(); });
      pthread_setname_np(threads_.back().native_handle(), "emag-sim-work");
    }
    return Status::Ok();
  }

  int port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    if (io_) io_->stop();
    if (workers_) workers_->stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    // Destroying the contexts destroys the connections their handlers hold, closing them: the
    // workers' first, while the connections' own context still exists.
    idle_.reset();
    workers_.reset();
    retry_.reset();
    acceptor_.reset();
    io_.reset();
  }

 private:
  void Accept() {
    acceptor_->async_accept(net::make_strand(*io_), [this](error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted) return;
      if (ec) {  // out of descriptors, say: try again shortly rather than spin
        retry_->expires_after(std::chrono::milliseconds(50));
        retry_->async_wait([this](error_code e) {
          if (!e) Accept();
        });
        return;
      }
      Launch(std::move(socket));
      Accept();
    });
  }

  void Launch(tcp::socket socket) {
    error_code ec;
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    std::string address = ec ? std::string() : remote.address().to_string();
    socket.set_option(tcp::no_delay(true), ec);
    if (tls_) {
      std::make_shared<Session<TlsStream>>(shared_, std::move(socket), &*tls_, std::move(address))->Start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(shared_, std::move(socket), nullptr, std::move(address))->Start();
    }
  }

  const FrontOptions options_;
  const FrontHandler handler_;
  std::optional<ssl::context> tls_;  // outlives the context: its sessions use it
  std::unique_ptr<net::io_context> io_;       // reads and writes
  std::unique_ptr<net::io_context> workers_;  // runs the handler
  const Shared shared_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::optional<net::steady_timer> retry_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> idle_;  // workers wait for work
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
  int port_ = 0;
};

}  // namespace

Result<std::unique_ptr<HttpFront>> HttpFront::Start(FrontOptions options, const std::string& host, int port,
                                                     FrontHandler handler) {
  auto front = std::make_unique<Front>(std::move(options), std::move(handler));
  MS_RETURN_IF_ERROR(front->Bind(host, port));
  return std::unique_ptr<HttpFront>(std::move(front));
}

}  // namespace marketsync::sim
