#include "engine/emag/http_transport.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <mutex>
#include <optional>
#include <set>

namespace marketsync::emag {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// One connection and the strand its operations run on. `aborted` is set by AbortAll, which
// then closes the socket on the strand; every step checks it first.
struct Connection {
  Connection(net::io_context& io, ssl::context* tls_context) : strand(net::make_strand(io)), gate_timer(strand) {
    if (tls_context != nullptr) {
      tls.emplace(strand, *tls_context);
    } else {
      plain.emplace(strand);
    }
    // Room for a page per read: a small buffer made Beast read a 150 KB answer in dozens of
    // reads, each a syscall and a trip through the composed operation.
    buffer.reserve(size_t{64} << 10);
  }
  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  void Close() {
    gate_timer.cancel();
    error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

  net::strand<net::io_context::executor_type> strand;
  net::steady_timer gate_timer;  // waiting for the gate
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  std::atomic<bool> aborted{false};
};

class Transport;

// One POST: a connection (reused or new), the request written, the answer read.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<Transport> transport, http::request<http::string_body> request, HttpTransport::Gate gate,
           std::function<void(HttpReply)> done)
      : transport_(std::move(transport)), request_(std::move(request)), gate_(std::move(gate)), done_(std::move(done)) {}

  void Start();

 private:
  void Connect();
  void Resolved(const tcp::resolver::results_type& endpoints);
  void Handshake();
  void Admit();  // waits for the gate, then writes
  void Write();
  void Read();
  void Answered();
  // A failed step: once on a reused connection (the server may have closed it while idle),
  // the exchange starts over on a new one; otherwise the reply says why.
  void Failed(const error_code& ec, std::string_view step);
  void Finish(HttpReply reply);

  template <typename F>
  void WithStream(F&& f) {
    if (conn_->tls) {
      f(*conn_->tls);
    } else {
      f(*conn_->plain);
    }
  }

  std::shared_ptr<Transport> transport_;
  http::request<http::string_body> request_;
  HttpTransport::Gate gate_;
  std::function<void(HttpReply)> done_;
  std::shared_ptr<Connection> conn_;
  std::optional<tcp::resolver> resolver_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool reused_ = false;
};

class Transport final : public HttpTransport, public std::enable_shared_from_this<Transport> {
 public:
  Transport(IoPool& io, HttpEndpoint endpoint, HttpTransportOptions options)
      : io_(io), endpoint_(std::move(endpoint)), options_(std::move(options)) {}

  Status Init() {
    if (!endpoint_.tls) return Status::Ok();
    tls_context_.emplace(ssl::context::tls_client);
    tls_context_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                              ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    error_code ec;
    if (options_.ca_file.empty()) {
      tls_context_->set_default_verify_paths(ec);
    } else {
      tls_context_->load_verify_file(options_.ca_file, ec);
    }
    if (ec) {
      return Status::InvalidArgument(options_.ca_file.empty()
                                         ? "cannot load the system's CA certificates: " + ec.message()
                                         : "cannot read the CA file " + options_.ca_file + ": " + ec.message());
    }
    tls_context_->set_verify_mode(ssl::verify_peer);
    return Status::Ok();
  }

  void Post(std::string target, std::string body, std::string authorization, Gate gate,
            std::function<void(HttpReply)> done) override {
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, HostHeader());
    req.set(http::field::authorization, authorization);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "marketsync");
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    std::make_shared<Exchange>(shared_from_this(), std::move(req), std::move(gate), std::move(done))->Start();
  }

  void AbortAll() override {
    std::vector<std::shared_ptr<Connection>> busy;
    {
      // Marked under the lock GiveBack takes: a connection busy now is never handed to a later
      // call (marked after the lock, one could go idle and carry the next call into the abort).
      std::lock_guard lk(mu_);
      busy.assign(busy_.begin(), busy_.end());
      for (auto& c : busy) c->aborted = true;
    }
    for (auto& c : busy) net::post(c->strand, [c] { c->Close(); });
  }

  // An idle connection to reuse (marked busy), or null.
  std::shared_ptr<Connection> TakeIdle() {
    std::lock_guard lk(mu_);
    if (idle_.empty()) return nullptr;
    auto c = std::move(idle_.back());
    idle_.pop_back();
    busy_.insert(c);
    return c;
  }
  std::shared_ptr<Connection> NewConnection() {
    auto c = std::make_shared<Connection>(io_.context(), tls_context_ ? &*tls_context_ : nullptr);
    std::lock_guard lk(mu_);
    busy_.insert(c);
    return c;
  }
  // Done with `c`: kept for reuse when the exchange left it usable, else closed.
  void GiveBack(const std::shared_ptr<Connection>& c, bool reusable) {
    {
      std::lock_guard lk(mu_);
      busy_.erase(c);
      if (reusable && !c->aborted && idle_.size() < options_.max_idle) {
        idle_.push_back(c);
        return;
      }
    }
    c->Close();
  }

  std::optional<tcp::resolver::results_type> CachedEndpoints() {
    std::lock_guard lk(mu_);
    return endpoints_;
  }
  void CacheEndpoints(const tcp::resolver::results_type& r) {
    std::lock_guard lk(mu_);
    endpoints_ = r;
  }

  const HttpEndpoint& endpoint() const { return endpoint_; }
  const HttpTransportOptions& options() const { return options_; }

 private:
  std::string HostHeader() const {
    const bool default_port = endpoint_.port == (endpoint_.tls ? "443" : "80");
    return default_port ? endpoint_.host : endpoint_.host + ":" + endpoint_.port;
  }

  IoPool& io_;
  const HttpEndpoint endpoint_;
  const HttpTransportOptions options_;
  std::optional<ssl::context> tls_context_;

  std::mutex mu_;  // guards idle_, busy_, endpoints_
  std::deque<std::shared_ptr<Connection>> idle_;
  std::set<std::shared_ptr<Connection>> busy_;
  std::optional<tcp::resolver::results_type> endpoints_;
};

void Exchange::Start() {
  conn_ = transport_->TakeIdle();
  if (conn_) {
    reused_ = true;
    net::dispatch(conn_->strand, [self = shared_from_this()] { self->Admit(); });
    return;
  }
  Connect();
}

void Exchange::Connect() {
  conn_ = transport_->NewConnection();
  net::dispatch(conn_->strand, [self = shared_from_this()] {
    if (auto cached = self->transport_->CachedEndpoints()) return self->Resolved(*cached);
    self->resolver_.emplace(self->conn_->strand);
    const HttpEndpoint& e = self->transport_->endpoint();
    self->resolver_->async_resolve(e.host, e.port, [self](const error_code& ec, tcp::resolver::results_type r) {
      if (ec) return self->Failed(ec, "resolve");
      self->transport_->CacheEndpoints(r);
      self->Resolved(r);
    });
  });
}

void Exchange::Resolved(const tcp::resolver::results_type& endpoints) {
  if (conn_->aborted) return Failed(net::error::operation_aborted, "connect");
  conn_->lowest().expires_after(transport_->options().connect_timeout);
  conn_->lowest().async_connect(endpoints, [self = shared_from_this()](const error_code& ec, const tcp::endpoint&) {
    if (ec) return self->Failed(ec, "connect");
    self->conn_->lowest().socket().set_option(tcp::no_delay(true));
    if (self->conn_->tls) return self->Handshake();
    self->Admit();
  });
}

void Exchange::Handshake() {
  const std::string& host = transport_->endpoint().host;
  SSL_set_tlsext_host_name(conn_->tls->native_handle(), host.c_str());
  conn_->tls->set_verify_callback(ssl::host_name_verification(host));
  conn_->lowest().expires_after(transport_->options().connect_timeout);
  conn_->tls->async_handshake(ssl::stream_base::client, [self = shared_from_this()](const error_code& ec) {
    if (ec) return self->Failed(ec, "TLS handshake");
    self->Admit();
  });
}

void Exchange::Admit() {
  if (conn_->aborted) return Failed(net::error::operation_aborted, "send");
  const auto later = gate_ ? gate_() : std::nullopt;
  if (!later) {
    gate_ = nullptr;  // admitted: a retry on a new connection is the same request
    return Write();
  }
  conn_->gate_timer.expires_at(*later);
  conn_->gate_timer.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec) return self->Failed(net::error::operation_aborted, "send");
    self->Admit();
  });
}

void Exchange::Write() {
  if (conn_->aborted) return Failed(net::error::operation_aborted, "send");
  conn_->lowest().expires_after(transport_->options().io_timeout);
  WithStream([&](auto& stream) {
    http::async_write(stream, request_, [self = shared_from_this()](const error_code& ec, size_t) {
      if (ec) return self->Failed(ec, "send");
      self->Read();
    });
  });
}

void Exchange::Read() {
  if (conn_->aborted) return Failed(net::error::operation_aborted, "receive");
  parser_.emplace();
  parser_->body_limit(transport_->options().max_body);
  conn_->lowest().expires_after(transport_->options().io_timeout);
  WithStream([&](auto& stream) {
    http::async_read(stream, conn_->buffer, *parser_, [self = shared_from_this()](const error_code& ec, size_t) {
      if (ec) return self->Failed(ec, "receive");
      self->Answered();
    });
  });
}

void Exchange::Answered() {
  http::response<http::string_body> res = parser_->release();
  HttpReply reply;
  reply.status = static_cast<int>(res.result_int());
  for (const auto& field : res) reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  reply.body = std::move(res.body());
  conn_->lowest().expires_never();
  transport_->GiveBack(conn_, res.keep_alive() && !res.need_eof());
  Finish(std::move(reply));
}

void Exchange::Failed(const error_code& ec, std::string_view step) {
  const bool aborted = conn_->aborted.load();
  const bool timed_out = ec == beast::error::timeout;
  transport_->GiveBack(conn_, false);
  const bool nothing_came = !parser_ || !parser_->got_some();
  if (reused_ && !aborted && !timed_out && nothing_came) {
    reused_ = false;  // the server closed it while idle: once more on a new connection
    parser_.reset();
    return Connect();
  }
  HttpReply reply;
  if (aborted) {
    reply.failure = HttpReply::Failure::kAborted;
    reply.error = "abandoned";
  } else if (timed_out) {
    reply.failure = HttpReply::Failure::kFailed;
    reply.error = std::string(step) + " timed out";
  } else if (ec.category() == net::error::get_ssl_category() &&
             ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    reply.failure = HttpReply::Failure::kUntrusted;
    reply.error = "certificate verify failed";
  } else {
    reply.failure = HttpReply::Failure::kFailed;
    reply.error = std::string(step) + " failed: " + ec.message();
  }
  Finish(std::move(reply));
}

void Exchange::Finish(HttpReply reply) {
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(reply));
}

}  // namespace

std::string HttpReply::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

Result<std::shared_ptr<HttpTransport>> HttpTransport::Create(IoPool& io, HttpEndpoint endpoint,
                                                             HttpTransportOptions options) {
  auto t = std::make_shared<Transport>(io, std::move(endpoint), std::move(options));
  MS_RETURN_IF_ERROR(t->Init());
  return std::shared_ptr<HttpTransport>(std::move(t));
}

}  // namespace marketsync::emag
