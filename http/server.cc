#include "http/server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <sys/socket.h>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <set>
#include <unordered_map>
#include <list>
#include <mutex>
#include <thread>

#include "engine/emag/client.h"
#include "engine/sync_engine.h"
#include "events/event_log.h"
#include "events/event_type.h"
#include "events/payload_codec.h"
#include "events/sync_events.h"
#include "http/console_assets.h"
#include "http/errors.h"
#include "http/metrics.h"
#include "projections/all.h"
#include "projections/catalog.h"
#include "projections/history.h"
#include "projections/json_views.h"
#include "projections/stats.h"
#include "projections/status.h"

namespace marketsync::http {

namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kProducts = "/api/v1/emag/products";

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A request's outcome, before it is written: a status and a JSON body.
struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

Reply JsonReply(int status, const json::value& v) { return {status, json::serialize(v)}; }
Reply Error(int status, std::string_view code, std::string_view message) { return {status, ErrorBody(code, message)}; }
Reply FromStatus(const Status& s) {
  HttpError e = ToHttpError(s);
  return Error(e.status, e.code, s.message());
}

// Bad input in a request: 400 with what and why.
struct BadRequest {
  std::string message;
};

// Query parameters, checked.
std::optional<std::string> Param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  std::string v = req.get_param_value(name);
  if (v.size() > 200) throw BadRequest{fmt::format("{} is longer than 200 bytes", name)};
  return v;
}

uint64_t UintParam(const httplib::Request& req, const char* name, uint64_t fallback, uint64_t min, uint64_t max) {
  auto v = Param(req, name);
  if (!v) return fallback;
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < min || n > max) {
    throw BadRequest{fmt::format("{} must be a whole number in {}..{}, not \"{}\"", name, min, max, *v)};
  }
  return n;
}

std::optional<int64_t> TimeParam(const httplib::Request& req, const char* name) {
  auto v = Param(req, name);
  if (!v || v->empty()) return std::nullopt;
  auto t = ParseTimeUs(*v);
  if (!t) throw BadRequest{fmt::format("{} must be a UTC time like 2026-11-28T18:00:00Z, not \"{}\"", name, *v)};
  return t;
}

// "as_of": a seq (digits) or a UTC time.
std::optional<FoldLimit> AsOfParam(const httplib::Request& req) {
  auto v = Param(req, "as_of");
  if (!v || v->empty()) return std::nullopt;
  if (v->find_first_not_of("0123456789") == std::string::npos && v->size() <= 19) {
    return FoldLimit{std::stoull(*v), std::nullopt};
  }
  auto t = ParseTimeUs(*v);
  if (!t) throw BadRequest{"as_of must be a seq (a number) or a UTC time like 2026-11-28T18:00:00Z, not \"" + *v + "\""};
  return FoldLimit{std::nullopt, *t};
}

bool TokenEquals(const std::string& given, const std::string& expected) {
  return !expected.empty() && given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

// The route a path belongs to, for metrics and logs (run ids folded away).
std::string RouteLabel(const std::string& path) {
  const std::string sync_prefix = std::string(kProducts) + "/sync/";
  if (path.starts_with(sync_prefix)) {
    return path.ends_with("/events") ? sync_prefix + "{id}/events" : sync_prefix + "{id}";
  }
  static const std::set<std::string> kKnown = {
      std::string(kProducts) + "/sync",       std::string(kProducts) + "/status",
      std::string(kProducts) + "/history",    std::string(kProducts) + "/statistics",
      std::string(kProducts) + "/products",   std::string(kProducts) + "/test-connection",
      "/api/v1/events",                       "/api/v1/events/stream",
      "/api/v1/audit/head",                   "/healthz",
      "/readyz",                              "/metrics",
      "/",                                    "/index.html",
      "/app.js",                              "/style.css"};
  return kKnown.contains(path) ? path : "other";
}

// Which methods a known path takes (for 405 and Allow).
std::string AllowedMethods(const std::string& path) {
  const std::string route = RouteLabel(path);
  if (route == std::string(kProducts) + "/sync" || route == std::string(kProducts) + "/test-connection") return "POST";
  if (route == std::string(kProducts) + "/sync/{id}") return "GET, DELETE";
  if (route == "other") return "";
  return "GET";
}

// "application/json", with or without parameters ("; charset=utf-8"), any case.
bool IsJsonMediaType(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  constexpr std::string_view kWant = "application/json";
  if (type.size() != kWant.size()) return false;
  for (size_t i = 0; i < type.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(type[i])) != kWant[i]) return false;
  }
  return true;
}

enum class Access : uint8_t { kOpen, kRead, kCommand };

// The seed's sync request, strictly: unknown fields and wrong types are refused.
struct SyncBody {
  StartSyncRequest request;
  bool run_async = true;
};

SyncBody ParseSyncBody(const std::string& body) {
  SyncBody out;
  out.request.account_type = "both";
  if (body.empty()) throw BadRequest{"the body must be a JSON object (at least {\"account_type\": \"main\"})"};
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) throw BadRequest{"the body is not valid JSON: " + ec.message()};
  if (!v.is_object()) throw BadRequest{"the body must be a JSON object"};
  auto str = [](const json::value& f, const char* name) {
    if (!f.is_string()) throw BadRequest{fmt::format("{} must be a string", name)};
    return std::string(f.as_string());
  };
  auto boolean = [](const json::value& f, const char* name) {
    if (!f.is_bool()) throw BadRequest{fmt::format("{} must be true or false", name)};
    return f.as_bool();
  };
  auto integer = [](const json::value& f, const char* name, int64_t min, int64_t max) {
    int64_t n = 0;
    if (f.is_int64()) {
      n = f.as_int64();
    } else if (f.is_uint64()) {
      n = f.as_uint64() > static_cast<uint64_t>(max) ? max + 1 : static_cast<int64_t>(f.as_uint64());
    } else {
      throw BadRequest{fmt::format("{} must be a whole number", name)};
    }
    if (n < min || n > max) throw BadRequest{fmt::format("{} must be in {}..{}", name, min, max)};
    return n;
  };
  for (const auto& [key, f] : v.as_object()) {
    if (key == "account_type") {
      out.request.account_type = str(f, "account_type");
    } else if (key == "mode") {
      out.request.mode = str(f, "mode");
    } else if (key == "max_pages") {
      if (f.is_null()) {
        out.request.max_pages.reset();
      } else {
        out.request.max_pages = static_cast<uint32_t>(integer(f, "max_pages", 1, 1'000'000));
      }
    } else if (key == "items_per_page") {
      out.request.items_per_page = static_cast<uint32_t>(integer(f, "items_per_page", 1, 100));
    } else if (key == "include_inactive") {
      out.request.include_inactive = boolean(f, "include_inactive");
    } else if (key == "conflict_strategy") {
      out.request.conflict_strategy = str(f, "conflict_strategy");
    } else if (key == "run_async") {
      out.run_async = boolean(f, "run_async");
    } else if (key == "triggered_by") {
      out.request.triggered_by = str(f, "triggered_by");
      if (out.request.triggered_by.empty()) throw BadRequest{"triggered_by must not be empty (leave it out for \"api\")"};
    } else {
      throw BadRequest{fmt::format("unknown field \"{}\" (accepted: account_type, mode, max_pages, items_per_page, "
                                   "include_inactive, conflict_strategy, run_async, triggered_by)",
                                   std::string_view(key))};
    }
  }
  return out;
}

class ServerImpl final : public Server {
 public:
  ServerImpl(EventLog& log, SyncEngine& engine, Metrics& metrics, ServerOptions options)
      : log_(log), engine_(engine), metrics_(metrics), o_(std::move(options)) {}

  ~ServerImpl() override { Stop(); }

  Status Start() override {
    Configure();
    if (o_.port == 0) {
      port_ = svr_.bind_to_any_port(o_.host);
      if (port_ <= 0) return Status::Unavailable("cannot bind " + o_.host);
    } else {
      if (!svr_.bind_to_port(o_.host, o_.port)) return Status::Unavailable(fmt::format("cannot bind {}:{}", o_.host, o_.port));
      port_ = o_.port;
    }
    // cpp-httplib listens with a backlog of 5; under connection churn that queues SYNs for
    // 0.15-1 s. listen() again on the bound socket raises it.
    if (listen_fd_ >= 0 && ::listen(listen_fd_, o_.listen_backlog) != 0) {
      spdlog::warn("could not raise the listen backlog to {}", o_.listen_backlog);
    }
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    tail_ = std::thread([this] { TailForMetrics(); });
    for (int i = 0; i < 500 && !svr_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return Status::Ok();
  }

  int port() const override { return port_; }

  void Drain() override { draining_ = true; }

  void Stop() override {
    stopping_ = true;
    draining_ = true;
    if (thread_.joinable()) {
      svr_.stop();
      thread_.join();
    }
    if (tail_.joinable()) tail_.join();
  }

 private:
  void Configure() {
    svr_.set_tcp_nodelay(true);
    svr_.set_socket_options([this](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_fd_ = sock;
    });
    svr_.new_task_queue = [n = o_.threads] { return new httplib::ThreadPool(n); };
    svr_.set_keep_alive_max_count(o_.keep_alive_max_requests);
    svr_.set_keep_alive_timeout(30);
    svr_.set_payload_max_length(o_.max_body_bytes);
    svr_.set_read_timeout(10);
    svr_.set_write_timeout(10);
    if (!o_.console_dir.empty()) svr_.set_mount_point("/", o_.console_dir);

    // Before the body is read: a sync command's body must be JSON (multipart and form bodies
    // would otherwise be parsed by cpp-httplib before the route sees them).
    svr_.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      request_start_ = Clock::now();
      if (req.method == "POST" && req.path == std::string(kProducts) + "/sync" &&
          !IsJsonMediaType(req.get_header_value("Content-Type"))) {
        res.status = 415;
        res.set_content(ErrorBody("unsupported_media_type", "send the body as Content-Type: application/json"),
                        std::string(kJson));
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    svr_.set_logger([this](const httplib::Request& req, const httplib::Response& res) { Observe(req, res); });
    svr_.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;  // a route already wrote its error
      Reply r;
      const std::string allowed = AllowedMethods(req.path);
      const bool method_ok = allowed.find(req.method) != std::string::npos || (req.method == "HEAD" && allowed == "GET");
      if ((res.status == 404 || res.status == 400) && !allowed.empty() && !method_ok) {
        res.status = 405;
        res.set_header("Allow", allowed);
        r = Error(405, "method_not_allowed", fmt::format("{} takes {}, not {}", req.path, allowed, req.method));
      } else if (res.status == 404) {
        r = Error(404, "not_found", "no route " + req.path);
      } else if (res.status == 413) {
        r = Error(413, "payload_too_large", fmt::format("the body is larger than {} bytes", o_.max_body_bytes));
      } else {
        r = Error(res.status, res.status < 500 ? "bad_request" : "internal", fmt::format("the request failed with HTTP {}", res.status));
      }
      res.set_content(r.body, std::string(kJson));
    });
    svr_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unexpected error";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      spdlog::error("request failed: {}", what);
      res.status = 500;
      res.set_content(ErrorBody("internal", what), std::string(kJson));
    });

    metrics_.Describe("marketsync_http_requests_total", "counter", "HTTP requests by route, method and status");
    metrics_.Describe("marketsync_http_request_duration_seconds", "histogram", "HTTP request latency by route");
    metrics_.Describe("marketsync_pages_total", "counter", "Pages committed or failed since start");
    metrics_.Describe("marketsync_offers_total", "counter", "Offers by outcome since start");
    metrics_.Describe("marketsync_emag_requests_total", "counter", "eMAG API requests made by committed pages");
    metrics_.Describe("marketsync_emag_rate_limited_total", "counter", "eMAG 429 answers");
    metrics_.Describe("marketsync_emag_retries_total", "counter", "eMAG request retries");
    metrics_.Describe("marketsync_events_appended_total", "counter", "Events appended since start, by type");
    metrics_.Describe("marketsync_runs_finished", "gauge", "Runs by account and final status (from the log)");
    metrics_.Describe("marketsync_runs_active", "gauge", "Runs not finished");
    metrics_.Describe("marketsync_offers", "gauge", "Offers mirrored per account");
    metrics_.Describe("marketsync_log_head_seq", "gauge", "The last durable seq");
    const std::string p(kProducts);
    Route("POST", p + "/sync", Access::kCommand, [this](const auto& req) { return PostSync(req); });
    Route("GET", p + "/status", Access::kRead, [this](const auto& req) { return GetStatus(req); });
    Route("GET", p + "/history", Access::kRead, [this](const auto& req) { return GetHistory(req); });
    Route("GET", p + R"(/sync/([^/]+)/events)", Access::kRead, [this](const auto& req) { return GetRunEvents(req); });
    Route("GET", p + R"(/sync/([^/]+))", Access::kRead, [this](const auto& req) { return GetRun(req); });
    Route("DELETE", p + R"(/sync/([^/]+))", Access::kCommand, [this](const auto& req) { return CancelRun(req); });
    Route("GET", p + "/statistics", Access::kRead, [this](const auto& req) { return GetStatistics(req); });
    Route("GET", p + "/products", Access::kRead, [this](const auto& req) { return GetProducts(req); });
    Route("POST", p + "/test-connection", Access::kCommand, [this](const auto& req) { return TestConnection(req); });
    Route("GET", "/api/v1/events", Access::kRead, [this](const auto& req) { return GetEvents(req); });
    Route("GET", "/api/v1/audit/head", Access::kRead, [this](const auto&) {
      const LogHead head = log_.Head();
      return JsonReply(200, json::object{{"last_seq", head.seq}, {"head_hash", HashToHex(head.hash)}});
    });
    Route("GET", "/healthz", Access::kOpen, [](const auto&) { return JsonReply(200, json::object{{"status", "ok"}}); });
    Route("GET", "/readyz", Access::kOpen, [this](const auto&) {
      if (!engine_.ready()) return Error(503, "not_ready", "recovery is still running");
      if (draining_) return Error(503, "draining", "the server is shutting down");
      return JsonReply(200, json::object{{"status", "ready"}});
    });
    // The web console: embedded files, or a directory given for development.
    if (o_.console_dir.empty()) {
      for (const ConsoleAsset& asset : ConsoleAssets()) {
        auto serve = [&asset](const httplib::Request&, httplib::Response& res) {
          res.set_content(std::string(asset.body), std::string(asset.content_type));
          res.set_header("Cache-Control", "no-cache");
        };
        svr_.Get(std::string(asset.path), serve);
        if (asset.path == "/index.html") svr_.Get("/", serve);
      }
    }
    svr_.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authorize(req, res, Access::kRead)) return;
      res.set_content(MetricsText(), "text/plain; version=0.0.4");
    });
    svr_.Get("/api/v1/events/stream", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authorize(req, res, Access::kRead)) return;
      Stream(req, res);
    });
  }

  template <typename Handler>
  void Route(const std::string& method, const std::string& pattern, Access access, Handler handler) {
    auto wrapped = [this, access, handler](const httplib::Request& req, httplib::Response& res) {
      if (!Authorize(req, res, access)) return;
      Reply r;
      try {
        r = handler(req);
      } catch (const BadRequest& b) {
        r = Error(400, "invalid_argument", b.message);
      }
      res.status = r.status;
      res.set_content(r.body, r.content_type);
    };
    if (method == "GET") svr_.Get(pattern, wrapped);
    if (method == "POST") svr_.Post(pattern, wrapped);
    if (method == "DELETE") svr_.Delete(pattern, wrapped);
  }

  bool Authorize(const httplib::Request& req, httplib::Response& res, Access access) {
    if (access == Access::kOpen || (o_.operator_token.empty() && o_.auditor_token.empty())) return true;
    const std::string header = req.get_header_value("Authorization");
    std::string token;
    if (header.starts_with("Bearer ")) {
      token = header.substr(7);
    } else if (req.path == "/api/v1/events/stream" && req.has_param("access_token")) {
      token = req.get_param_value("access_token");  // EventSource cannot send headers
    }
    const bool op = TokenEquals(token, o_.operator_token);
    const bool auditor = TokenEquals(token, o_.auditor_token);
    Reply r;
    if (token.empty()) {
      r = Error(401, "unauthenticated", "send Authorization: Bearer <token>");
      res.set_header("WWW-Authenticate", "Bearer");
    } else if (!op && !auditor) {
      r = Error(401, "unauthenticated", "the token is not valid");
      res.set_header("WWW-Authenticate", "Bearer");
    } else if (access == Access::kCommand && !op) {
      r = Error(403, "forbidden", "this command needs the operator token; the auditor token only reads");
    } else {
      return true;
    }
    res.status = r.status;
    res.set_content(r.body, std::string(kJson));
    return false;
  }

  void Observe(const httplib::Request& req, const httplib::Response& res) {
    const double secs = std::chrono::duration<double>(Clock::now() - request_start_).count();
    const std::string route = RouteLabel(req.path);
    const std::string labels = fmt::format("route=\"{}\",method=\"{}\",status=\"{}\"", LabelValue(route),
                                           LabelValue(req.method), res.status);
    metrics_.Add("marketsync_http_requests_total", labels);
    metrics_.Observe("marketsync_http_request_duration_seconds",
                     fmt::format("route=\"{}\"", LabelValue(route)), secs, LatencyBuckets());
    spdlog::info("{} {} {} {} {:.1f} ms", req.remote_addr, req.method, req.path, res.status, secs * 1e3);
  }

  std::string MetricsText() {
    // Runs by status and offers per account come from the stats projection at scrape time.
    auto stats = GetStats(log_);
    if (stats.ok()) {
      for (const auto& a : stats->accounts) {
        const std::string acc = fmt::format("account=\"{}\"", LabelValue(a.account));
        metrics_.Set("marketsync_offers", acc, static_cast<double>(a.offers));
        const std::pair<const char*, uint64_t> by_status[] = {{"completed", a.runs_completed},
                                                              {"completed_with_gaps", a.runs_completed_with_gaps},
                                                              {"failed", a.runs_failed},
                                                              {"cancelled", a.runs_cancelled}};
        for (const auto& [status, n] : by_status) {
          metrics_.Set("marketsync_runs_finished", fmt::format("{},status=\"{}\"", acc, status), static_cast<double>(n));
        }
      }
    }
    auto active = ListActiveRuns(log_, NowUs());
    if (active.ok()) metrics_.Set("marketsync_runs_active", "", static_cast<double>(active->size()));
    metrics_.Set("marketsync_log_head_seq", "", static_cast<double>(log_.Head().seq));
    return metrics_.Render();
  }

  // Counters of what runs do, folded from the events appended since the server started.
  void TailForMetrics() {
    uint64_t next = log_.Head().seq + 1;
    while (!stopping_) {
      log_.WaitForSeq(next - 1, std::chrono::milliseconds(200));
      for (auto it = log_.Read(next); it->Valid() && !stopping_; it->Next()) {
        const Envelope& e = it->envelope();
        next = e.seq + 1;
        CountEvent(e);
      }
    }
  }

  void CountEvent(const Envelope& e) {
    const auto type = static_cast<EventType>(e.type);
    metrics_.Add("marketsync_events_appended_total", fmt::format("type=\"{}\"", EventTypeName(e.type)));
    if (type == EventType::kPageCommitted) {
      auto p = DecodePayload<PageCommitted>(e.payload_version, e.payload);
      if (!p.ok()) return;
      metrics_.Add("marketsync_pages_total", "outcome=\"committed\"");
      metrics_.Add("marketsync_offers_total", "outcome=\"created\"", p->created);
      metrics_.Add("marketsync_offers_total", "outcome=\"updated\"", p->updated);
      metrics_.Add("marketsync_offers_total", "outcome=\"unchanged\"", p->unchanged);
      metrics_.Add("marketsync_emag_requests_total", "", p->requests);
      metrics_.Add("marketsync_emag_rate_limited_total", "", p->rate_limit_hits);
      metrics_.Add("marketsync_emag_retries_total", "", p->retries);
    } else if (type == EventType::kPageFailed) {
      metrics_.Add("marketsync_pages_total", "outcome=\"failed\"");
    } else if (type == EventType::kProductRemoved) {
      metrics_.Add("marketsync_offers_total", "outcome=\"removed\"");
    }
  }

  // --- commands -----------------------------------------------------------------------------

  Reply PostSync(const httplib::Request& req) {
    if (draining_) return Error(503, "draining", "the server is shutting down and takes no new syncs");
    SyncBody body = ParseSyncBody(req.body);
    body.request.idempotency_key = req.get_header_value("Idempotency-Key");
    if (body.request.triggered_by.empty()) body.request.triggered_by = "api";
    auto started = engine_.StartSync(body.request);
    if (!started.ok()) {
      if (started.status().IsFailedPrecondition()) return Error(409, "account_busy", started.status().message());
      return FromStatus(started.status());
    }
    json::array runs;
    for (const auto& r : started->runs) runs.push_back(json::object{{"sync_id", r.run_id}, {"account_type", r.account}});
    const std::string first = started->runs.front().run_id;
    if (body.run_async) {
      json::object o{{"status", "accepted"},
                     {"message", started->replayed ? "these runs were already started with this Idempotency-Key"
                                                   : fmt::format("sync started for {}", body.request.account_type)},
                     {"sync_id", first},
                     {"group_id", started->group_id},
                     {"replayed", started->replayed},
                     {"runs", std::move(runs)}};
      return JsonReply(202, o);
    }
    // run_async: false waits for every run's end (bounded).
    const auto deadline = Clock::now() + o_.sync_wait;
    uint64_t processed = 0, created = 0, updated = 0, unchanged = 0, removed = 0, failed = 0;
    json::array errors;
    std::string status = "completed";
    for (const auto& r : started->runs) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      auto record = engine_.WaitForRun(r.run_id, std::max(left, std::chrono::milliseconds(0)));
      if (!record.ok()) return FromStatus(record.status());
      if (!record->terminal()) {
        return JsonReply(202, json::object{{"status", "running"},
                                           {"message", "the sync is still running; poll /status or the run"},
                                           {"sync_id", first},
                                           {"runs", runs}});
      }
      processed += record->processed_items;
      created += record->created_items;
      updated += record->updated_items;
      unchanged += record->unchanged_items;
      removed += record->removed_items;
      failed += record->failed_items;
      for (const auto& e : record->errors) errors.push_back(json::string(record->account_type + ": " + e.message));
      if (record->status != kRunCompleted) status = record->status;
    }
    json::object data{{"total_processed", processed}, {"created", created},     {"updated", updated},
                      {"unchanged", unchanged},       {"removed", removed},     {"failed", failed},
                      {"errors", std::move(errors)}};
    return JsonReply(200, json::object{{"status", status},
                                       {"message", fmt::format("sync of {} ended {}", body.request.account_type, status)},
                                       {"sync_id", first},
                                       {"runs", std::move(runs)},
                                       {"data", std::move(data)}});
  }

  Reply CancelRun(const httplib::Request& req) {
    const std::string id = req.matches[1];
    auto r = engine_.CancelSync(id, "api");
    if (!r.ok()) return FromStatus(r.status());
    switch (r->outcome) {
      case CancelResult::Outcome::kAlreadyFinished:
        return Error(409, "already_finished", fmt::format("run {} already finished: {}", id, r->status));
      case CancelResult::Outcome::kAlreadyRequested:
        return JsonReply(202, json::object{{"status", "accepted"}, {"message", "cancellation was already requested"}, {"sync_id", id}});
      case CancelResult::Outcome::kRequested:
        break;
    }
    return JsonReply(202, json::object{{"status", "accepted"},
                                       {"message", "cancellation requested; the run stops at its next page boundary"},
                                       {"sync_id", id}});
  }

  Reply TestConnection(const httplib::Request& req) {
    const std::string account = Param(req, "account_type").value_or("");
    if (account.empty()) return Error(400, "invalid_argument", "account_type is required");
    emag::EmagClient* client = engine_.client(account);
    if (client == nullptr) return Error(404, "unknown_account", "no account named " + account);
    emag::CallStats stats;
    emag::CallControl control;
    control.deadline = emag::SteadyTime(Clock::now() + std::chrono::seconds(30));
    auto count = client->Count({}, &stats, control);
    if (!count.ok()) {
      const Status& s = count.status();
      if (s.code() == Status::Code::kPermissionDenied) return Error(502, "upstream_permission_denied", s.message());
      if (s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kDeadlineExceeded) {
        return Error(502, "upstream_unavailable", s.message());
      }
      return Error(502, "upstream_error", s.message());
    }
    return JsonReply(200, json::object{{"status", "success"},
                                       {"message", fmt::format("connected to eMAG as {}", account)},
                                       {"data", json::object{{"account_type", account},
                                                             {"base_url", client->base_url()},
                                                             {"total_products", count->items}}}});
  }

  // --- queries ------------------------------------------------------------------------------

  // The reader for a request: the live log, or a fold as of a point (cached: folds cost).
  struct View {
    std::shared_ptr<AsOfView> as_of;
    const KvReader* reader = nullptr;
    uint64_t seq = 0;
    int64_t now_us = 0;
  };

  Result<View> ViewFor(const std::optional<FoldLimit>& limit, std::vector<std::string_view> projections) {
    View v;
    if (!limit) {
      v.reader = &log_;
      v.seq = log_.Head().seq;
      v.now_us = NowUs();
      return v;
    }
    const std::string key = fmt::format("{}|{}|{}", limit->to_seq ? std::to_string(*limit->to_seq) : "",
                                        limit->to_time_us ? std::to_string(*limit->to_time_us) : "",
                                        fmt::join(projections, ","));
    {
      std::lock_guard lk(cache_mu_);
      for (auto it = cache_.begin(); it != cache_.end(); ++it) {
        if (it->first == key) {
          v.as_of = it->second;
          cache_.splice(cache_.begin(), cache_, it);
          break;
        }
      }
    }
    if (!v.as_of) {
      const uint64_t head = log_.Head().seq;
      MS_ASSIGN_OR_RETURN(auto folded, FoldAsOf(log_, *limit, projections));
      v.as_of = std::shared_ptr<AsOfView>(std::move(folded));
      // A seq up to the head, or a time the fold stopped short of the head for, is settled;
      // a point past the head is not cached, as the log will grow into it.
      if ((limit->to_seq && *limit->to_seq <= head) || v.as_of->fold.last_seq < head) {
        std::lock_guard lk(cache_mu_);
        cache_.emplace_front(key, v.as_of);
        if (cache_.size() > 8) cache_.pop_back();
      }
    }
    v.reader = &v.as_of->store;
    v.seq = v.as_of->fold.last_seq;
    v.now_us = v.as_of->fold.last_recorded_at_us;
    return v;
  }

  // Rendered history pages by request target, valid while the log head has not moved (a
  // listing changes only when an event is appended). Pages with a run in flight are not kept:
  // their durations move with the clock.
  std::optional<std::string> CachedHistory(const std::string& target, uint64_t head) {
    std::lock_guard lk(history_mu_);
    auto it = history_cache_.find(target);
    if (it == history_cache_.end() || it->second.first != head) return std::nullopt;
    return it->second.second;
  }
  void KeepHistory(const std::string& target, uint64_t head, const std::string& body) {
    std::lock_guard lk(history_mu_);
    if (history_cache_.size() >= 256) history_cache_.clear();
    history_cache_[target] = {head, body};
  }

  Reply GetHistory(const httplib::Request& req) {
    const uint64_t head = log_.Head().seq;
    if (auto cached = CachedHistory(req.target, head)) return {200, std::move(*cached)};
    HistoryQuery q;
    q.limit = UintParam(req, "limit", 50, 1, 1000);
    q.cursor = Param(req, "cursor").value_or("");
    if (auto a = Param(req, "account_type"); a && !a->empty()) q.account = *a;
    if (auto s = Param(req, "status"); s && !s->empty()) q.status = *s;
    q.from_us = TimeParam(req, "from");
    q.to_us = TimeParam(req, "to");
    auto view = ViewFor(AsOfParam(req), {HistoryProjection::kName});
    if (!view.ok()) return FromStatus(view.status());
    auto page = ListHistory(*view->reader, q);
    if (!page.ok()) return FromStatus(page.status());
    json::array syncs;
    bool in_flight = false;
    for (const auto& r : page->runs) {
      syncs.push_back(RunJson(r, view->now_us));
      in_flight = in_flight || !r.terminal();
    }
    const size_t count = syncs.size();
    // Runs started together (account_type "both"), each with its per-account children.
    json::array groups;
    for (const HistoryGroup& g : GroupHistory(page->runs)) {
      json::array children, accounts;
      uint64_t created = 0, updated = 0, unchanged = 0, removed = 0, failed = 0;
      for (const RunRecord* r : g.runs) {
        children.push_back(json::string(r->id));
        accounts.push_back(json::string(r->account_type));
        created += r->created_items;
        updated += r->updated_items;
        unchanged += r->unchanged_items;
        removed += r->removed_items;
        failed += r->failed_items;
      }
      groups.push_back(json::object{{"group_id", g.group_id}, {"status", g.status}, {"account_types", std::move(accounts)},
                                    {"children", std::move(children)}, {"created_items", created},
                                    {"updated_items", updated}, {"unchanged_items", unchanged},
                                    {"removed_items", removed}, {"failed_items", failed}});
    }
    Reply reply = JsonReply(200, json::object{{"status", "success"},
                                              {"data", json::object{{"syncs", std::move(syncs)},
                                                                    {"groups", std::move(groups)},
                                                                    {"count", count},
                                                                    {"next_cursor", page->next_cursor.empty() ? json::value(nullptr) : json::value(page->next_cursor)},
                                                                    {"as_of_seq", view->seq}}}});
    if (!in_flight && log_.Head().seq == head) KeepHistory(req.target, head, reply.body);
    return reply;
  }

  Reply GetStatus(const httplib::Request&) {
    const int64_t now = NowUs();
    auto active = ListActiveRuns(log_, now);
    if (!active.ok()) return FromStatus(active.status());
    auto recent = ListHistory(log_, HistoryQuery{std::nullopt, std::nullopt, std::nullopt, std::nullopt, 10, ""});
    if (!recent.ok()) return FromStatus(recent.status());
    json::array current;
    for (const auto& a : *active) current.push_back(ActiveRunJson(a, now));
    json::array recent_syncs;
    for (const auto& r : recent->runs) recent_syncs.push_back(RunJson(r, now));
    const bool running = !current.empty();
    json::value first = running ? current.front() : json::value(nullptr);
    return JsonReply(200, json::object{{"is_running", running},
                                       {"current_sync", std::move(first)},
                                       {"current_syncs", std::move(current)},
                                       {"recent_syncs", std::move(recent_syncs)},
                                       {"last_seq", log_.Head().seq}});
  }

  Reply GetRun(const httplib::Request& req) {
    const std::string id = req.matches[1];
    auto run = GetHistoryRun(log_, id);
    if (!run.ok()) return FromStatus(run.status());
    if (!*run) return Error(404, "not_found", "no run " + id);
    return JsonReply(200, json::object{{"status", "success"}, {"data", RunJson(**run, NowUs())}});
  }

  Reply GetRunEvents(const httplib::Request& req) {
    const std::string id = req.matches[1];
    auto events = log_.ReadStream(RunStreamId(id));
    if (!events.ok()) return FromStatus(events.status());
    if (events->empty()) return Error(404, "not_found", "no run " + id);
    json::array out;
    for (const auto& e : *events) {
      auto j = EventJson(e);
      if (!j.ok()) return FromStatus(j.status());
      out.push_back(std::move(*j));
    }
    return JsonReply(200, json::object{{"status", "success"}, {"data", json::object{{"sync_id", id}, {"events", std::move(out)}}}});
  }

  Reply GetStatistics(const httplib::Request&) {
    auto stats = GetStats(log_);
    if (!stats.ok()) return FromStatus(stats.status());
    json::object by_account;
    for (const auto& account : engine_.account_names()) by_account[account] = 0;
    json::array accounts;
    for (const auto& a : stats->accounts) {
      by_account[a.account] = a.offers;
      accounts.push_back(AccountStatsJson(a));
    }
    auto recent = ListHistory(log_, HistoryQuery{std::nullopt, std::nullopt, std::nullopt, std::nullopt, 10, ""});
    if (!recent.ok()) return FromStatus(recent.status());
    json::array recent_syncs;
    const int64_t now = NowUs();
    for (const auto& r : recent->runs) recent_syncs.push_back(RunJson(r, now));
    return JsonReply(200, json::object{{"status", "success"},
                                       {"products_by_account", std::move(by_account)},
                                       {"total_products", stats->total_offers},
                                       {"recent_syncs", std::move(recent_syncs)},
                                       {"accounts", std::move(accounts)},
                                       {"runs_finished", stats->total_runs_finished},
                                       {"runs_completed", stats->total_runs_completed}});
  }

  Reply GetProducts(const httplib::Request& req) {
    CatalogQuery q;
    q.skip = UintParam(req, "skip", 0, 0, 100'000'000);
    q.limit = UintParam(req, "limit", 50, 1, 1000);
    if (auto a = Param(req, "account_type"); a && !a->empty()) q.account = *a;
    q.search = Param(req, "search").value_or("");
    auto page = SearchCatalog(log_, q);
    if (!page.ok()) return FromStatus(page.status());
    std::map<std::string, int64_t> last_synced;
    if (auto stats = GetStats(log_); stats.ok()) {
      for (const auto& a : stats->accounts) last_synced[a.account] = a.last_success_at_us;
    }
    json::array products;
    for (const auto& e : page->offers) {
      json::object o = CatalogEntryJson(e);
      const int64_t at = last_synced[e.account];
      o["last_synced_at"] = at != 0 ? json::value(FormatTimeUs(at)) : json::value(nullptr);
      products.push_back(std::move(o));
    }
    return JsonReply(200, json::object{{"status", "success"},
                                       {"data", json::object{{"products", std::move(products)},
                                                             {"pagination", json::object{{"skip", q.skip}, {"limit", q.limit}, {"total", page->total}}}}}});
  }

  Reply GetEvents(const httplib::Request& req) {
    const uint64_t after = UintParam(req, "after", 0, 0, UINT64_MAX >> 1);
    const uint64_t limit = UintParam(req, "limit", 100, 1, 1000);
    const bool ndjson = req.get_header_value("Accept").find("application/x-ndjson") != std::string::npos;
    std::string body;
    json::array arr;
    uint64_t n = 0;
    auto it = log_.Read(after + 1);
    for (; it->Valid() && n < limit; it->Next(), ++n) {
      auto j = EventJson(it->envelope());
      if (!j.ok()) return FromStatus(j.status());
      if (ndjson) {
        body += json::serialize(*j);
        body += '\n';
      } else {
        arr.push_back(std::move(*j));
      }
    }
    if (!it->status().ok()) return FromStatus(it->status());
    if (ndjson) return {200, std::move(body), "application/x-ndjson"};
    return JsonReply(200, arr);
  }

  // Server-Sent Events: every event from `after` (or Last-Event-ID) on, then live.
  void Stream(const httplib::Request& req, httplib::Response& res) {
    uint64_t after = 0;
    try {
      after = UintParam(req, "after", 0, 0, UINT64_MAX >> 1);
      if (const std::string last = req.get_header_value("Last-Event-ID"); !last.empty()) {
        uint64_t n = 0;
        auto [p, ec] = std::from_chars(last.data(), last.data() + last.size(), n);
        if (ec != std::errc() || p != last.data() + last.size()) throw BadRequest{"Last-Event-ID must be a seq"};
        after = n;
      }
    } catch (const BadRequest& b) {
      res.status = 400;
      res.set_content(ErrorBody("invalid_argument", b.message), std::string(kJson));
      return;
    }
    if (sse_clients_.fetch_add(1) >= static_cast<int>(o_.max_sse_clients)) {
      sse_clients_.fetch_sub(1);
      res.status = 503;
      res.set_content(ErrorBody("too_many_streams", "too many event streams are open; try again later"), std::string(kJson));
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    const bool runs_only = req.has_param("runs_only") && req.get_param_value("runs_only") != "0";
    auto next = std::make_shared<uint64_t>(after + 1);
    auto last_write = std::make_shared<Clock::time_point>(Clock::now());
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, next, last_write, runs_only](size_t, httplib::DataSink& sink) {
          if (stopping_ || !sink.is_writable()) return false;
          std::string chunk;
          uint64_t n = 0;
          for (auto it = log_.Read(*next); it->Valid() && n < 500; it->Next(), ++n) {
            if (runs_only && !it->envelope().stream_id.starts_with("run-")) {
              *next = it->envelope().seq + 1;
              continue;
            }
            auto j = EventJson(it->envelope());
            if (!j.ok()) return false;
            chunk += fmt::format("id: {}\nevent: {}\ndata: {}\n\n", it->envelope().seq,
                                 EventTypeName(it->envelope().type), json::serialize(*j));
            *next = it->envelope().seq + 1;
          }
          if (chunk.empty()) {
            log_.WaitForSeq(*next - 1, std::chrono::milliseconds(500));
            if (Clock::now() - *last_write < o_.sse_heartbeat) return true;
            chunk = ": keep-alive\n\n";
          }
          *last_write = Clock::now();
          return sink.write(chunk.data(), chunk.size());
        },
        [this](bool) { sse_clients_.fetch_sub(1); });
  }

  EventLog& log_;
  SyncEngine& engine_;
  Metrics& metrics_;
  ServerOptions o_;
  httplib::Server svr_;
  std::thread thread_;
  std::thread tail_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int> sse_clients_{0};
  std::mutex history_mu_;
  std::unordered_map<std::string, std::pair<uint64_t, std::string>> history_cache_;
  std::mutex cache_mu_;
  std::list<std::pair<std::string, std::shared_ptr<AsOfView>>> cache_;
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

Result<std::unique_ptr<Server>> Server::Create(EventLog& log, SyncEngine& engine, Metrics& metrics,
                                               ServerOptions options) {
  if (options.operator_token.empty() && options.auditor_token.empty() && !IsLoopbackHost(options.host)) {
    return Status::InvalidArgument("refusing to listen on " + options.host +
                                   " without tokens: set MARKETSYNC_OPERATOR_TOKEN (and MARKETSYNC_AUDITOR_TOKEN) "
                                   "or listen on 127.0.0.1");
  }
  if (options.threads < 2) return Status::InvalidArgument("the server needs at least 2 threads");
  if (options.max_sse_clients >= options.threads) {
    return Status::InvalidArgument("max_sse_clients must leave threads for other requests");
  }
  return std::unique_ptr<Server>(std::make_unique<ServerImpl>(log, engine, metrics, std::move(options)));
}

}  // namespace marketsync::http
