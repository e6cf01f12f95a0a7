#include "http/server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <functional>
#include <thread>

#include "engine/sync_engine.h"
#include "events/event_log.h"
#include "http/internal/accounts.h"
#include "http/internal/as_of_cache.h"
#include "http/internal/commands.h"
#include "http/internal/connection_pool.h"
#include "http/console_assets.h"
#include "http/internal/context.h"
#include "http/errors.h"
#include "http/internal/event_stream.h"
#include "http/metrics.h"
#include "http/internal/params.h"
#include "http/internal/queries.h"
#include "http/internal/routes.h"
#include "http/internal/run_metrics.h"
#include "http/internal/tls.h"
#include "http/internal/token.h"

namespace marketsync::http {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kProducts = "/api/v1/emag/products";
constexpr std::string_view kEventStream = "/api/v1/events/stream";
constexpr std::string_view kAccounts = "/api/v1/accounts";

Request ToRequest(const httplib::Request& req) {
  Request r;
  r.method = req.method;
  r.path = req.path;
  r.target = req.target;
  r.body = req.body;
  r.params.assign(req.params.begin(), req.params.end());
  r.headers.assign(req.headers.begin(), req.headers.end());
  return r;
}

// 405 for a path the table has under other methods, with the Allow header.
Reply MethodNotAllowed(const std::string& path, const std::string& method, const std::string& allowed) {
  Reply r = ErrorReply(405, "method_not_allowed", fmt::format("{} takes {}, not {}", path, allowed, method));
  r.headers.emplace_back("Allow", allowed);
  return r;
}

void Write(const Reply& r, httplib::Response& res) {
  res.status = r.status;
  for (const auto& [name, value] : r.headers) res.set_header(name, value);
  res.set_content(r.body, r.content_type);
}

class ServerImpl final : public Server {
 public:
  ServerImpl(EventLog& log, SyncEngine& engine, Metrics& metrics, ServerOptions options,
             std::unique_ptr<httplib::Server> listener)
      : o_(std::move(options)),
        ctx_{log, engine, metrics, o_, draining_},
        cache_(log),
        queries_(ctx_, cache_),
        commands_(ctx_),
        accounts_(ctx_),
        run_metrics_(ctx_),
        svr_(std::move(listener)) {}

  ~ServerImpl() override { Stop(); }

  Status Start() override {
    BuildRoutes();
    Configure();
    if (o_.port == 0) {
      port_ = svr_->bind_to_any_port(o_.host);
      if (port_ <= 0) return Status::Unavailable("cannot bind " + o_.host);
    } else {
      if (!svr_->bind_to_port(o_.host, o_.port)) return Status::Unavailable(fmt::format("cannot bind {}:{}", o_.host, o_.port));
      port_ = o_.port;
    }
    // cpp-httplib listens with a backlog of 5; under connection churn that queues SYNs for
    // 0.15-1 s. listen() again on the bound socket raises it.
    if (listen_fd_ >= 0 && ::listen(listen_fd_, o_.listen_backlog) != 0) {
      spdlog::warn("could not raise the listen backlog to {}", o_.listen_backlog);
    }
    thread_ = std::thread([this] { svr_->listen_after_bind(); });
    tail_ = std::thread([this] { run_metrics_.Follow(stopping_); });
    for (int i = 0; i < 500 && !svr_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return Status::Ok();
  }

  int port() const override { return port_; }

  void Drain() override { draining_ = true; }

  void Stop() override {
    stopping_ = true;
    draining_ = true;
    if (thread_.joinable()) {
      svr_->stop();
      thread_.join();
    }
    if (tail_.joinable()) tail_.join();
  }

 private:
  // The route table: every route of the API once (docs/API.md).
  void BuildRoutes() {
    const std::string p(kProducts);
    auto add = [this](std::string method, std::string pattern, Access access, auto member, auto* handlers) {
      table_.Add({std::move(method), std::move(pattern), access,
                  [member, handlers](const Request& req) { return (handlers->*member)(req); }});
    };
    add("POST", p + "/sync", Access::kCommand, &CommandHandlers::StartSync, &commands_);
    add("GET", p + "/status", Access::kRead, &QueryHandlers::Current, &queries_);
    add("GET", p + "/history", Access::kRead, &QueryHandlers::History, &queries_);
    add("GET", p + "/sync/{id}/events", Access::kRead, &QueryHandlers::RunEvents, &queries_);
    add("GET", p + "/sync/{id}", Access::kRead, &QueryHandlers::Run, &queries_);
    add("DELETE", p + "/sync/{id}", Access::kCommand, &CommandHandlers::CancelRun, &commands_);
    add("GET", p + "/statistics", Access::kRead, &QueryHandlers::Statistics, &queries_);
    add("GET", p + "/overview", Access::kRead, &QueryHandlers::Overview, &queries_);
    add("GET", p + "/products", Access::kRead, &QueryHandlers::Products, &queries_);
    add("GET", p + "/offers/{account}/{offer_id}/history", Access::kRead, &QueryHandlers::OfferHistory, &queries_);
    add("POST", p + "/test-connection", Access::kCommand, &CommandHandlers::TestConnection, &commands_);
    add("GET", "/api/v1/events", Access::kRead, &QueryHandlers::Events, &queries_);
    add("GET", "/api/v1/audit/head", Access::kRead, &QueryHandlers::AuditHead, &queries_);
    add("GET", std::string(kAccounts), Access::kRead, &AccountHandlers::List, &accounts_);
    add("POST", std::string(kAccounts), Access::kCommand, &AccountHandlers::Add, &accounts_);
    add("GET", std::string(kAccounts) + "/{name}", Access::kRead, &AccountHandlers::Get, &accounts_);
    add("PATCH", std::string(kAccounts) + "/{name}", Access::kCommand, &AccountHandlers::Change, &accounts_);
    add("DELETE", std::string(kAccounts) + "/{name}", Access::kCommand, &AccountHandlers::Remove, &accounts_);
    table_.Add({"GET", std::string(kEventStream), Access::kRead, nullptr});  // served by Stream
    table_.Add({"GET", "/metrics", Access::kRead, [this](const Request&) {
                  return Reply{200, run_metrics_.Text(), "text/plain; version=0.0.4", {}};
                }});
    table_.Add({"GET", "/healthz", Access::kOpen, [](const Request&) {
                  return Reply{200, R"({"status":"ok"})", std::string(kJson), {}};
                }});
    table_.Add({"GET", "/readyz", Access::kOpen, [this](const Request&) {
                  if (!ctx_.engine.ready()) return ErrorReply(503, "not_ready", "recovery is still running");
                  if (Status w = ctx_.log.WriterStatus(); !w.ok()) return ErrorReply(503, "log_fail_stopped", w.message());
                  if (draining_) return ErrorReply(503, "draining", "the server is shutting down");
                  return Reply{200, R"({"status":"ready"})", std::string(kJson), {}};
                }});
    // The web console (a directory given for development is mounted in front of these).
    // Browsers revalidate each load (no-cache) and get a 304 while the build is the same.
    for (const ConsoleAsset& asset : ConsoleAssets()) {
      const std::string etag = fmt::format("\"{:016x}\"", std::hash<std::string_view>()(asset.body));
      auto serve = [&asset, etag](const Request& req) {
        Reply r{200, std::string(), std::string(asset.content_type), {{"Cache-Control", "no-cache"}, {"ETag", etag}}};
        if (req.Header("If-None-Match") == etag) {
          r.status = 304;
        } else {
          r.body = asset.body;
        }
        return r;
      };
      table_.Add({"GET", std::string(asset.path), Access::kOpen, serve});
      if (asset.path == "/index.html") table_.Add({"GET", "/", Access::kOpen, serve});
      if (asset.path == "/favicon.svg") table_.Add({"GET", "/favicon.ico", Access::kOpen, serve});
    }
  }

  void Configure() {
    svr_->set_tcp_nodelay(true);
    svr_->set_socket_options([this](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_fd_ = sock;
    });
    // A worker per connection, grown on demand: idle or slow clients cannot starve the others.
    svr_->new_task_queue = [n = o_.threads, m = o_.max_connections] { return NewConnectionPool(n, m); };
    svr_->set_keep_alive_max_count(o_.keep_alive_max_requests);
    svr_->set_keep_alive_timeout(5);  // an idle keep-alive connection holds its worker this long
    svr_->set_payload_max_length(o_.max_body_bytes);
    svr_->set_read_timeout(10);
    svr_->set_write_timeout(10);
    if (!o_.console_dir.empty()) svr_->set_mount_point("/", o_.console_dir);

    // Before the body is read: a sync command's body must be JSON (multipart and form bodies
    // would otherwise be parsed by cpp-httplib before the route sees them).
    svr_->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      request_start_ = Clock::now();
      const bool json_body = (req.method == "POST" && req.path == std::string(kProducts) + "/sync") ||
                             ((req.method == "POST" || req.method == "PATCH") && req.path.starts_with(kAccounts));
      if (json_body && !IsJsonMediaType(req.get_header_value("Content-Type"))) {
        Write(ErrorReply(415, "unsupported_media_type", "send the body as Content-Type: application/json"), res);
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    svr_->set_logger([this](const httplib::Request& req, const httplib::Response& res) { Observe(req, res); });
    svr_->set_error_handler([this](const httplib::Request& req, httplib::Response& res) { OnError(req, res); });
    svr_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unexpected error";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      spdlog::error("request failed: {}", what);
      Write(ErrorReply(500, "internal", what), res);
    });
    run_metrics_.Describe();
    // Every path goes through the route table.
    auto dispatch = [this](const httplib::Request& req, httplib::Response& res) { Dispatch(req, res); };
    const std::string any = "/.*";
    svr_->Get(any, dispatch);
    svr_->Post(any, dispatch);
    svr_->Put(any, dispatch);
    svr_->Patch(any, dispatch);
    svr_->Delete(any, dispatch);
    svr_->Options(any, dispatch);
  }

  void Dispatch(const httplib::Request& req, httplib::Response& res) {
    RouteTable::Match m = table_.Find(req.method, req.path);
    if (m.route == nullptr) {
      const std::string allowed = table_.Allowed(req.path);
      if (allowed.empty()) return Write(ErrorReply(404, "not_found", "no route " + req.path), res);
      return Write(MethodNotAllowed(req.path, req.method, allowed), res);
    }
    if (!Authorize(req, res, m.route->access)) return;
    if (m.route->access == Access::kCommand) {
      // A fail-stopped log takes no command; reads go on.
      if (Status w = ctx_.log.WriterStatus(); !w.ok()) return Write(ErrorReply(503, "log_fail_stopped", w.message()), res);
      // The server listens before the engine has started (readyz says so); a command waits for
      // it rather than meet an engine that knows no account yet.
      if (!WaitReady()) {
        return Write(ErrorReply(503, "not_ready", "marketsyncd is still starting (recovering runs); retry shortly"), res);
      }
    }
    if (!m.route->handler) return Stream(req, res);
    Request r = ToRequest(req);
    r.path_args = std::move(m.args);
    Reply reply = m.route->handler(r);
    if (m.route->access == Access::kCommand && reply.status == 500) {
      // The command's write is what fail-stopped the log (its outcome is unknown: retry it
      // with its Idempotency-Key once the server is back).
      if (Status w = ctx_.log.WriterStatus(); !w.ok()) reply = ErrorReply(503, "log_fail_stopped", w.message());
    }
    Write(reply, res);
  }

  // Errors cpp-httplib answers itself (a body too large, a request it cannot parse).
  void OnError(const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // a route already wrote its error
    Reply r;
    const std::string allowed = table_.Allowed(req.path);
    const bool method_ok = allowed.find(req.method) != std::string::npos || (req.method == "HEAD" && allowed == "GET");
    if ((res.status == 404 || res.status == 400) && !allowed.empty() && !method_ok) {
      r = MethodNotAllowed(req.path, req.method, allowed);
    } else if (res.status == 404) {
      r = ErrorReply(404, "not_found", "no route " + req.path);
    } else if (res.status == 413) {
      r = ErrorReply(413, "payload_too_large", fmt::format("the body is larger than {} bytes", o_.max_body_bytes));
    } else {
      r = ErrorReply(res.status, res.status < 500 ? "bad_request" : "internal",
                     fmt::format("the request failed with HTTP {}", res.status));
    }
    Write(r, res);
  }

  bool Authorize(const httplib::Request& req, httplib::Response& res, Access access) {
    if (access == Access::kOpen || (o_.operator_token.empty() && o_.auditor_token.empty())) return true;
    const std::string header = req.get_header_value("Authorization");
    std::string token;
    if (header.starts_with("Bearer ")) {
      token = header.substr(7);
    } else if (req.path == kEventStream && req.has_param("access_token")) {
      token = req.get_param_value("access_token");  // EventSource cannot send headers
    }
    const bool op = TokenEquals(token, o_.operator_token);
    const bool auditor = TokenEquals(token, o_.auditor_token);
    Reply r;
    if (token.empty()) {
      r = ErrorReply(401, "unauthenticated", "send Authorization: Bearer <token>");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
    } else if (!op && !auditor) {
      r = ErrorReply(401, "unauthenticated", "the token is not valid");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
    } else if (access == Access::kCommand && !op) {
      r = ErrorReply(403, "forbidden", "this command needs the operator token; the auditor token only reads");
    } else {
      return true;
    }
    Write(r, res);
    return false;
  }

  void Observe(const httplib::Request& req, const httplib::Response& res) {
    const double secs = std::chrono::duration<double>(Clock::now() - request_start_).count();
    const std::string route = table_.Label(req.path);
    const std::string labels = fmt::format("route=\"{}\",method=\"{}\",status=\"{}\"", LabelValue(route),
                                           LabelValue(req.method), res.status);
    ctx_.metrics.Add("marketsync_http_requests_total", labels);
    ctx_.metrics.Observe("marketsync_http_request_duration_seconds", fmt::format("route=\"{}\"", LabelValue(route)),
                         secs, LatencyBuckets());
    spdlog::info("{} {} {} {} {:.1f} ms", req.remote_addr, req.method, req.path, res.status, secs * 1e3);
  }

  bool WaitReady() const {
    const auto deadline = Clock::now() + o_.ready_wait;
    while (!ctx_.engine.ready()) {
      if (stopping_ || Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  // Server-Sent Events: every event from `after` (or Last-Event-ID) on, then live.
  void Stream(const httplib::Request& req, httplib::Response& res) {
    auto after = StreamStart(ToRequest(req));
    if (!after.ok()) return Write(StatusReply(after.status()), res);
    if (sse_clients_.fetch_add(1) >= static_cast<int>(o_.max_sse_clients)) {
      sse_clients_.fetch_sub(1);
      return Write(ErrorReply(503, "too_many_streams", "too many event streams are open; try again later"), res);
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    const bool runs_only = req.has_param("runs_only") && req.get_param_value("runs_only") != "0";
    auto next = std::make_shared<uint64_t>(*after + 1);
    auto last_write = std::make_shared<Clock::time_point>(Clock::now());
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, next, last_write, runs_only](size_t, httplib::DataSink& sink) {
          if (stopping_ || !sink.is_writable()) return false;
          auto chunk = NextEventChunk(ctx_.log, next.get(), runs_only);
          if (!chunk.ok()) return false;
          if (chunk->empty()) {
            ctx_.log.WaitForSeq(*next - 1, std::chrono::milliseconds(500));
            if (Clock::now() - *last_write < o_.sse_heartbeat) return true;
            *chunk = ": keep-alive\n\n";
          }
          *last_write = Clock::now();
          return sink.write(chunk->data(), chunk->size());
        },
        [this](bool) { sse_clients_.fetch_sub(1); });
  }

  const ServerOptions o_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopping_{false};
  ServerContext ctx_;
  AsOfCache cache_;
  QueryHandlers queries_;
  CommandHandlers commands_;
  AccountHandlers accounts_;
  RunMetrics run_metrics_;
  RouteTable table_;
  std::unique_ptr<httplib::Server> svr_;  // an SSLServer when the options name a certificate
  std::thread thread_;
  std::thread tail_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<int> sse_clients_{0};
  static thread_local Clock::time_point request_start_;
};

thread_local Clock::time_point ServerImpl::request_start_;

}  // namespace

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr addr{};
  if (::inet_pton(AF_INET, host.c_str(), &addr) == 1) return (ntohl(addr.s_addr) >> 24) == 127;
  return false;
}

Status CheckServerOptions(const ServerOptions& options) {
  if (options.operator_token.empty() && options.auditor_token.empty() && !IsLoopbackHost(options.host)) {
    return Status::InvalidArgument("refusing to listen on " + options.host +
                                   " without tokens: set MARKETSYNC_OPERATOR_TOKEN (and MARKETSYNC_AUDITOR_TOKEN) "
                                   "or listen on 127.0.0.1");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return Status::InvalidArgument("a TLS certificate needs its key and a key its certificate: give both or neither");
  }
  const bool tokens = !options.operator_token.empty() || !options.auditor_token.empty();
  if (tokens && options.tls_cert_file.empty() && !options.allow_plain_http && !IsLoopbackHost(options.host)) {
    return Status::InvalidArgument(
        "refusing to send bearer tokens over plain HTTP on " + options.host +
        ": give a TLS certificate and key (--tls-cert, --tls-key), or --allow-plain-http when a reverse "
        "proxy in front of marketsyncd terminates TLS (docs/DEPLOY.md)");
  }
  if (options.threads < 2) return Status::InvalidArgument("the server needs at least 2 threads");
  if (options.max_connections < options.threads) {
    return Status::InvalidArgument("max_connections must be at least the number of threads");
  }
  if (options.max_sse_clients >= options.threads) {
    return Status::InvalidArgument("max_sse_clients must leave threads for other requests");
  }
  return Status::Ok();
}

Result<std::unique_ptr<Server>> Server::Create(EventLog& log, SyncEngine& engine, Metrics& metrics,
                                               ServerOptions options) {
  MS_RETURN_IF_ERROR(CheckServerOptions(options));
  MS_ASSIGN_OR_RETURN(std::unique_ptr<httplib::Server> listener,
                      NewListener(options.tls_cert_file, options.tls_key_file));
  return std::unique_ptr<Server>(
      std::make_unique<ServerImpl>(log, engine, metrics, std::move(options), std::move(listener)));
}

}  // namespace marketsync::http
