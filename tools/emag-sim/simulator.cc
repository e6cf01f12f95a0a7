#include "tools/emag-sim/simulator.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "base/base64.h"
#include "base/worker_pool.h"
#include "tools/emag-sim/faults.h"

namespace marketsync::sim {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kNotAllowed = "You are not allowed to use this API.";

std::string Envelope(bool is_error, const std::vector<std::string>& messages, std::string_view results_json) {
  json::array m;
  for (const auto& s : messages) m.push_back(json::string(s));
  std::string out = "{\"isError\":" + std::string(is_error ? "true" : "false") + ",\"messages\":" +
                    json::serialize(m) + ",\"results\":";
  out += results_json;
  out += "}";
  return out;
}

std::string ErrorBody(const std::string& message) { return Envelope(true, {message}, "[]"); }

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out.push_back(static_cast<char>(v));
        i += 2;
      } else {
        out.push_back(s[i]);
      }
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// A parameter value as given: numbers and strings both arrive.
std::optional<int64_t> AsInt(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return static_cast<int64_t>(v.get_uint64());
  if (v.is_double()) return static_cast<int64_t>(v.get_double());
  if (v.is_string()) {
    int64_t out = 0;
    std::string_view s = v.get_string();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && p == s.data() + s.size()) return out;
  }
  return std::nullopt;
}

// The request's parameters from any of the three body forms: JSON at the top level, JSON under
// "data", or form-encoded data[...] fields.
Result<json::object> RequestParams(const httplib::Request& req) {
  const std::string type = req.get_header_value("Content-Type");
  if (req.body.empty()) return json::object{};
  if (type.find("application/x-www-form-urlencoded") != std::string::npos) {
    json::object params;
    std::string_view body = req.body;
    while (!body.empty()) {
      const size_t amp = body.find('&');
      std::string_view pair = body.substr(0, amp);
      body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
      const size_t eq = pair.find('=');
      std::string key = UrlDecode(pair.substr(0, eq));
      std::string value = eq == std::string_view::npos ? "" : UrlDecode(pair.substr(eq + 1));
      if (key.starts_with("data[") && key.ends_with("]")) key = key.substr(5, key.size() - 6);
      params[key] = value;
    }
    return params;
  }
  boost::system::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (ec || !v.is_object()) return Status::InvalidArgument("the request body is not a JSON object");
  auto& o = v.get_object();
  if (auto it = o.find("data"); it != o.end() && it->value().is_object()) return it->value().get_object();
  return o;
}

struct AccountState {
  AccountState(SimAccount l, Catalog c) : login(std::move(l)), catalog(std::move(c)) {}
  const SimAccount login;
  mutable std::mutex mu;  // guards the rest: accounts are answered in parallel
  Catalog catalog;
  uint64_t requests = 0;
  uint64_t rate_limited = 0;
  uint64_t in_flight = 0;
  uint64_t max_in_flight = 0;
  std::deque<Clock::time_point> accepted;  // arrival times inside the last minute
};

// httplib's task queue on a pool that grows with the connections.
class GrowingQueue final : public httplib::TaskQueue {
 public:
  GrowingQueue(size_t base, size_t max) : pool_(base, max, "emag-sim") {}
  void enqueue(std::function<void()> fn) override { pool_.Enqueue(std::move(fn)); }
  void shutdown() override { pool_.Shutdown(); }

 private:
  GrowingWorkerPool pool_;
};

class HttpSimulator final : public Simulator {
 public:
  HttpSimulator(SimulatorOptions options, std::string host)
      : options_(std::move(options)), host_(std::move(host)), faults_(options_.seed), rng_(options_.seed) {
    if (options_.tls_cert.empty()) {
      server_ = std::make_unique<httplib::Server>();
    } else {
      server_ = std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(), options_.tls_key.c_str());
    }
    uint32_t index = 0;
    for (const auto& a : options_.accounts) {
      auto [it, fresh] = accounts_.try_emplace(a.name, a, Catalog(options_.seed, index++, options_.offers));
      if (fresh) by_username_[a.username] = &it->second;
    }
  }

  ~HttpSimulator() override { Stop(); }

  Status Bind(int port) {
    if (!server_->is_valid()) {
      return Status::InvalidArgument("emag-sim cannot serve TLS with certificate " + options_.tls_cert + " and key " +
                                     options_.tls_key);
    }
    const size_t threads = std::max<size_t>(options_.threads, 4);
    // httplib owns the queue it is handed. A worker per connection, grown as connections come
    // (as eMAG's front does not stall behind idle keep-alive connections, neither does this).
    server_->new_task_queue = [threads] { return new GrowingQueue(threads, std::max<size_t>(threads, 16384)); };
    server_->set_tcp_nodelay(true);
    server_->set_keep_alive_max_count(100000);
    server_->set_read_timeout(30, 0);
    server_->set_payload_max_length(1 << 20);
    server_->set_socket_options([this](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_fd_ = sock;
    });
    Routes();
    if (port == 0) {
      port_ = server_->bind_to_any_port(host_);
    } else {
      port_ = server_->bind_to_port(host_, port) ? port : -1;
    }
    if (port_ <= 0) return Status::Unavailable("emag-sim cannot bind " + host_ + ":" + std::to_string(port));
    // httplib listens with a backlog of 5: a burst of new connections (hundreds of accounts
    // starting at once) overflows it, the kernel drops SYNs and clients connect a second later,
    // which bunches their requests' arrivals into a later second. Listen again with room.
    if (listen_fd_ >= 0) ::listen(listen_fd_, 4096);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    return Status::Ok();
  }

  int port() const override { return port_; }
  std::string BaseUrl() const override {
    return (options_.tls_cert.empty() ? "http://" : "https://") + host_ + ":" + std::to_string(port_) + "/api-3";
  }

  void Stop() override {
    {
      std::lock_guard lk(stop_mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    stop_cv_.notify_all();
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  Result<TickChanges> Tick(const std::string& account) override {
    auto it = accounts_.find(account);
    if (it == accounts_.end()) return Status::NotFound("no account " + account);
    std::lock_guard lk(it->second.mu);
    return it->second.catalog.Tick();
  }

  Status SetFaults(std::string_view text) override { return faults_.Load(text); }

  Result<AccountStats> Stats(const std::string& account) const override {
    auto it = accounts_.find(account);
    if (it == accounts_.end()) return Status::NotFound("no account " + account);
    std::lock_guard lk(it->second.mu);
    return AccountStats{it->second.requests, it->second.rate_limited, it->second.max_in_flight};
  }

  Result<std::vector<std::pair<uint64_t, std::string>>> OffersForTest(const std::string& account) const override {
    auto it = accounts_.find(account);
    if (it == accounts_.end()) return Status::NotFound("no account " + account);
    std::lock_guard lk(it->second.mu);
    std::vector<std::pair<uint64_t, std::string>> out;
    for (const auto& o : it->second.catalog.offers()) out.emplace_back(o.id, it->second.catalog.RenderJson(o));
    return out;
  }

 private:
  void Routes() {
    server_->Post(R"(/api-3/product_offer/(read|count))", [this](const httplib::Request& req, httplib::Response& res) {
      ServeApi(req, res, req.matches[1].str());
    });
    server_->Post(R"(/_sim/accounts/([^/]+)/tick)", [this](const httplib::Request& req, httplib::Response& res) {
      auto changes = Tick(req.matches[1].str());
      if (!changes.ok()) return Json(res, 404, json::object{{"error", changes.status().message()}});
      auto ids = [](const std::vector<uint64_t>& v) { return json::value_from(v); };
      Json(res, 200, json::object{{"created", ids(changes->created)}, {"updated", ids(changes->updated)},
                                  {"removed", ids(changes->removed)}});
    });
    server_->Get(R"(/_sim/accounts/([^/]+)/stats)", [this](const httplib::Request& req, httplib::Response& res) {
      auto stats = Stats(req.matches[1].str());
      if (!stats.ok()) return Json(res, 404, json::object{{"error", stats.status().message()}});
      Json(res, 200, json::object{{"requests", stats->requests}, {"rate_limited", stats->rate_limited},
                                  {"max_in_flight", stats->max_in_flight}});
    });
    server_->Get("/_sim/faults", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(faults_.ToJson(), "application/json");
    });
    server_->Put("/_sim/faults", [this](const httplib::Request& req, httplib::Response& res) {
      Status s = faults_.Load(req.body);
      if (!s.ok()) return Json(res, 400, json::object{{"error", s.message()}});
      res.set_content(faults_.ToJson(), "application/json");
    });
    server_->Delete("/_sim/faults", [this](const httplib::Request&, httplib::Response& res) {
      faults_.Clear();
      res.set_content(faults_.ToJson(), "application/json");
    });
    server_->Get("/_sim/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status":"ok"})", "application/json");
    });
  }

  static void Json(httplib::Response& res, int status, const json::object& body) {
    res.status = status;
    res.set_content(json::serialize(body), "application/json");
  }

  uint32_t Jitter() {
    std::lock_guard lk(rng_mu_);
    return static_cast<uint32_t>(rng_() % (options_.jitter_ms + 1));
  }

  // Waits, cut short by Stop().
  void Sleep(std::chrono::milliseconds d) {
    std::unique_lock lk(stop_mu_);
    stop_cv_.wait_for(lk, d, [&] { return stopped_; });
  }

  void ServeApi(const httplib::Request& req, httplib::Response& res, const std::string& resource) {
    const auto started = Clock::now();
    std::string account_name = "?";
    uint32_t page = 0;
    Answer(req, res, resource, started, &account_name, &page);
    if (options_.log_requests) {
      spdlog::info("emag-sim {} {} {}{} -> {} ({} ms)", account_name, req.method, req.path,
                   page > 0 ? " page=" + std::to_string(page) : "", res.status == -1 ? 200 : res.status,
                   std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
    }
  }

  // `arrived`: when the request was read, before any lock: what eMAG's limits count.
  void Answer(const httplib::Request& req, httplib::Response& res, const std::string& resource,
              Clock::time_point arrived, std::string* account_name, uint32_t* page_out) {
    std::unique_lock<std::mutex> lk;
    AccountState* account = Authenticate(req, res, lk);
    if (account == nullptr) return;
    *account_name = account->login.name;
    const uint64_t nth = ++account->requests;
    if (!options_.ip_allow.empty() &&
        std::find(options_.ip_allow.begin(), options_.ip_allow.end(), req.remote_addr) == options_.ip_allow.end()) {
      res.set_content(ErrorBody("ERROR: Invalid vendor ip [" + req.remote_addr + "]"), "application/json");
      return;
    }
    if (!Admit(*account, arrived)) {
      ++account->rate_limited;
      lk.unlock();
      RateLimited(res, 0);
      return;
    }
    auto query = ParseQuery(req);
    if (!query.ok()) {
      res.status = 400;
      res.set_content(ErrorBody(query.status().message()), "application/json");
      return;
    }
    if (query->current_page < 1 || query->per_page < 1) {
      res.set_content(ErrorBody("Invalid currentPage or itemsPerPage"), "application/json");
      return;
    }
    query->per_page = std::min<int64_t>(query->per_page, 100);  // capped silently
    *page_out = resource == "read" ? static_cast<uint32_t>(query->current_page) : 0;
    // Render under the lock (the catalogue may drift), answer outside it.
    std::string body = Render(account->catalog, resource, *query);
    const std::optional<FaultRule> fault = faults_.Match({account->login.name, resource, *page_out, nth});
    const uint32_t jitter = options_.jitter_ms > 0 ? Jitter() : 0;
    account->max_in_flight = std::max(account->max_in_flight, ++account->in_flight);
    lk.unlock();

    if (options_.latency_ms + jitter > 0) Sleep(std::chrono::milliseconds(options_.latency_ms + jitter));
    if (fault) {
      ApplyFault(*fault, req, res, std::move(body));
    } else {
      res.set_content(std::move(body), "application/json");
    }
    lk.lock();
    --account->in_flight;
  }

  // The account whose Basic credentials the request carries, with `lk` on its mutex; nullptr
  // after answering 401 or 403.
  AccountState* Authenticate(const httplib::Request& req, httplib::Response& res, std::unique_lock<std::mutex>& lk) {
    const std::string auth = req.get_header_value("Authorization");
    std::optional<std::string> decoded;
    if (auth.starts_with("Basic ")) decoded = Base64Decode(std::string_view(auth).substr(6));
    if (!decoded || decoded->find(':') == std::string::npos) {
      res.status = 401;
      res.set_content(ErrorBody(kNotAllowed), "application/json");
      return nullptr;
    }
    const std::string username = decoded->substr(0, decoded->find(':'));
    const std::string password = decoded->substr(decoded->find(':') + 1);
    auto found = by_username_.find(username);
    AccountState* account = found == by_username_.end() ? nullptr : found->second;
    if (account == nullptr || account->login.password != password) {
      res.status = 403;
      res.set_content(ErrorBody(kNotAllowed), "application/json");
      return nullptr;
    }
    lk = std::unique_lock(account->mu);
    return account;
  }

  // eMAG's limits, counted at arrival over every route of the account: true when the request
  // is within them (and counted). Requires the account's mutex.
  bool Admit(AccountState& account, Clock::time_point now) {
    if (!options_.rate_limit) return true;
    while (!account.accepted.empty() && now - account.accepted.front() >= std::chrono::seconds(60)) {
      account.accepted.pop_front();
    }
    const size_t in_minute = account.accepted.size();
    size_t in_second = 0;
    for (auto it = account.accepted.rbegin(); it != account.accepted.rend() && now - *it < std::chrono::seconds(1); ++it) {
      ++in_second;
    }
    if (in_second >= options_.per_second || in_minute >= options_.per_minute) return false;
    // Stamped before the lock, so a later stamp may have got here first: kept in order.
    account.accepted.insert(std::upper_bound(account.accepted.begin(), account.accepted.end(), now), now);
    return true;
  }

  // A count or read request's paging and filters.
  struct OfferQuery {
    int64_t current_page = 1;
    int64_t per_page = 100;
    std::optional<int64_t> status, id;
    std::optional<std::string> part_number, part_number_key;
  };

  static Result<OfferQuery> ParseQuery(const httplib::Request& req) {
    MS_ASSIGN_OR_RETURN(json::object params, RequestParams(req));
    OfferQuery q;
    for (const auto& [key, value] : params) {
      if (key == "currentPage") {
        q.current_page = AsInt(value).value_or(-1);
      } else if (key == "itemsPerPage") {
        q.per_page = AsInt(value).value_or(-1);
      } else if (key == "status") {
        q.status = AsInt(value);
      } else if (key == "id") {
        q.id = AsInt(value);
      } else if (key == "part_number" && value.is_string()) {
        q.part_number = std::string(value.get_string());
      } else if (key == "part_number_key" && value.is_string()) {
        q.part_number_key = std::string(value.get_string());
      }  // unknown filter keys are ignored, as eMAG is reported to do
    }
    return q;
  }

  // The answer's body: the count of matching offers, or the page of them. Requires the
  // account's mutex.
  static std::string Render(const Catalog& catalog, const std::string& resource, const OfferQuery& q) {
    std::vector<const SimOffer*> matching;
    for (const auto& o : catalog.offers()) {
      if (q.status && o.status != *q.status) continue;
      if (q.id && static_cast<int64_t>(o.id) != *q.id) continue;
      if (q.part_number && o.part_number != *q.part_number) continue;
      if (q.part_number_key) {
        // PNKs are derived from the product; render to compare.
        json::value v = json::parse(catalog.RenderJson(o));
        if (v.at("part_number_key").as_string() != *q.part_number_key) continue;
      }
      matching.push_back(&o);
    }
    const auto per_page = static_cast<uint64_t>(q.per_page);
    if (resource == "count") {
      const uint64_t items = matching.size();
      const uint64_t pages = (items + per_page - 1) / per_page;
      return Envelope(false, {}, "{\"noOfItems\":\"" + std::to_string(items) + "\",\"noOfPages\":\"" +
                                     std::to_string(pages) + "\",\"itemsPerPage\":\"" + std::to_string(per_page) + "\"}");
    }
    std::string results = "[";
    const uint64_t from = static_cast<uint64_t>(q.current_page - 1) * per_page;
    for (uint64_t i = from; i < matching.size() && i < from + per_page; ++i) {
      if (results.size() > 1) results += ",";
      results += catalog.RenderJson(*matching[i]);
    }
    results += "]";
    return Envelope(false, {}, results);
  }

  void RateLimited(httplib::Response& res, int retry_after) {
    res.status = 429;
    res.set_header("X-RateLimit-Limit-3second", std::to_string(options_.per_second * 3));
    res.set_header("X-RateLimit-Remaining-3second", "0");
    if (retry_after > 0) res.set_header("Retry-After", std::to_string(retry_after));
    res.set_content(R"({"message":"API rate limit exceeded"})", "application/json");
  }

  void ApplyFault(const FaultRule& fault, const httplib::Request& req, httplib::Response& res, std::string body) {
    auto status_page = [&](int code, const char* text) {
      res.status = code;
      res.set_content(std::string("<html><body><h1>") + std::to_string(code) + " " + text + "</h1></body></html>", "text/html");
    };
    switch (fault.fault) {
      case FaultKind::kHttp500: return status_page(500, "Internal Server Error");
      case FaultKind::kHttp502: return status_page(502, "Bad Gateway");
      case FaultKind::kHttp504: return status_page(504, "Gateway Time-out");
      case FaultKind::kHttp408: return status_page(408, "Request Timeout");
      case FaultKind::kHttp400:
        res.status = 400;
        res.set_content(ErrorBody(fault.message.empty() ? "Bad request" : fault.message), "application/json");
        return;
      case FaultKind::kHttp429: return RateLimited(res, static_cast<int>(fault.retry_after_s));
      case FaultKind::kHttp401:
        res.status = 401;
        res.set_content(ErrorBody(kNotAllowed), "application/json");
        return;
      case FaultKind::kHttp403:
        res.status = 403;
        res.set_content(ErrorBody(kNotAllowed), "application/json");
        return;
      case FaultKind::kSlow:
        Sleep(std::chrono::milliseconds(fault.delay_ms));
        res.set_content(std::move(body), "application/json");
        return;
      case FaultKind::kReset: {
        // Announce the whole body, send half, then drop the connection.
        auto shared = std::make_shared<std::string>(std::move(body));
        res.set_content_provider(shared->size(), "application/json",
                                 [shared](size_t offset, size_t, httplib::DataSink& sink) {
                                   if (offset == 0) sink.write(shared->data(), shared->size() / 2);
                                   return offset == 0 ? true : false;
                                 });
        return;
      }
      case FaultKind::kTruncated:
        body.resize(body.size() / 2);
        res.set_content(std::move(body), "application/json");
        return;
      case FaultKind::kMalformed:
        res.set_content(R"({"isError":false,,"results":[{"id":)", "application/json");
        return;
      case FaultKind::kIsError:
        res.set_content(ErrorBody(fault.message.empty() ? "Simulated error" : fault.message), "application/json");
        return;
      case FaultKind::kInvalidIp:
        res.set_content(ErrorBody("ERROR: Invalid vendor ip [" + req.remote_addr + "]"), "application/json");
        return;
    }
  }

  const SimulatorOptions options_;
  const std::string host_;
  std::unique_ptr<httplib::Server> server_;  // an SSLServer when options_ name a certificate
  int listen_fd_ = -1;
  std::thread thread_;
  int port_ = 0;
  FaultScript faults_;

  // Built before the server starts, never changed after: read without a lock.
  std::map<std::string, AccountState> accounts_;
  std::unordered_map<std::string, AccountState*> by_username_;
  std::mutex rng_mu_;  // guards rng_
  std::mt19937_64 rng_;

  std::mutex stop_mu_;  // guards stopped_
  std::condition_variable stop_cv_;
  bool stopped_ = false;
};

}  // namespace

SimAccount DemoAccount(const std::string& name) {
  return SimAccount{name, "demo-" + name, "demo-" + name + "-secret"};
}

Result<std::unique_ptr<Simulator>> Simulator::Start(SimulatorOptions options, const std::string& host, int port) {
  if (options.accounts.empty()) return Status::InvalidArgument("the simulator needs at least one account");
  for (const auto& a : options.accounts) {
    if (a.name.empty() || a.username.empty()) return Status::InvalidArgument("every account needs a name and a username");
  }
  if (port < 0 || port > 65535) return Status::InvalidArgument("port must be 0..65535");
  auto sim = std::make_unique<HttpSimulator>(options, host);
  if (!options.faults_json.empty()) MS_RETURN_IF_ERROR(sim->SetFaults(options.faults_json).WithContext("fault script"));
  MS_RETURN_IF_ERROR(sim->Bind(port));
  return std::unique_ptr<Simulator>(std::move(sim));
}

}  // namespace marketsync::sim
