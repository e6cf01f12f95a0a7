#include "tools/emag-sim/simulator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "base/base64.h"
#include "tools/emag-sim/faults.h"
#include "tools/emag-sim/http_front.h"

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
Result<json::object> RequestParams(const FrontRequest& req) {
  const std::string& type = req.content_type;
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

class HttpSimulator final : public Simulator {
 public:
  HttpSimulator(SimulatorOptions options, std::string host)
      : options_(std::move(options)), host_(std::move(host)), faults_(options_.seed), rng_(options_.seed) {
    uint32_t index = 0;
    for (const auto& a : options_.accounts) {
      auto [it, fresh] = accounts_.try_emplace(a.name, a, Catalog(options_.seed, index++, options_.offers));
      if (fresh) by_username_[a.username] = &it->second;
    }
  }

  ~HttpSimulator() override { Stop(); }

  // Every offer rendered before the first request, a thread per core: eMAG's answers cost its
  // servers, not the machine whose engine is being measured (the first pages of a thousand
  // accounts would otherwise queue behind their first rendering).
  void Prerender() {
    std::vector<AccountState*> all;
    for (auto& [name, account] : accounts_) all.push_back(&account);
    const size_t n = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < n; ++t) {
      threads.emplace_back([&all, t, n] {
        for (size_t i = t; i < all.size(); i += n) {
          std::lock_guard lk(all[i]->mu);
          for (const auto& offer : all[i]->catalog.offers()) all[i]->catalog.RenderJson(offer);
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }

  Status Bind(int port) {
    Prerender();
    FrontOptions o;
    o.threads = std::max<size_t>(options_.threads, 1);
    o.tls_cert = options_.tls_cert;
    o.tls_key = options_.tls_key;
    MS_ASSIGN_OR_RETURN(front_, HttpFront::Start(std::move(o), host_, port,
                                                 [this](const FrontRequest& req) { return Route(req); }));
    port_ = front_->port();
    return Status::Ok();
  }

  int port() const override { return port_; }
  std::string BaseUrl() const override {
    return (options_.tls_cert.empty() ? "http://" : "https://") + host_ + ":" + std::to_string(port_) + "/api-3";
  }

  void Stop() override {
    if (front_) front_->Stop();
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
  // The reply to one request: the API, or a control route.
  FrontReply Route(const FrontRequest& req) {
    const std::string_view path = req.path;
    const bool post = req.method == "POST", get = req.method == "GET";
    if (post && (path == "/api-3/product_offer/read" || path == "/api-3/product_offer/count")) {
      return ServeApi(req, std::string(path.substr(path.rfind('/') + 1)));
    }
    constexpr std::string_view kAccounts = "/_sim/accounts/";
    if (path.starts_with(kAccounts)) {
      const std::string_view rest = path.substr(kAccounts.size());
      const size_t slash = rest.find('/');
      const std::string account(rest.substr(0, slash));
      const std::string_view action = slash == std::string_view::npos ? "" : rest.substr(slash);
      if (post && action == "/tick") {
        auto changes = Tick(account);
        if (!changes.ok()) return Json(404, json::object{{"error", changes.status().message()}});
        auto ids = [](const std::vector<uint64_t>& v) { return json::value_from(v); };
        return Json(200, json::object{{"created", ids(changes->created)}, {"updated", ids(changes->updated)},
                                      {"removed", ids(changes->removed)}});
      }
      if (get && action == "/stats") {
        auto stats = Stats(account);
        if (!stats.ok()) return Json(404, json::object{{"error", stats.status().message()}});
        return Json(200, json::object{{"requests", stats->requests}, {"rate_limited", stats->rate_limited},
                                      {"max_in_flight", stats->max_in_flight}});
      }
    }
    if (path == "/_sim/faults") {
      if (req.method == "PUT") {
        Status s = faults_.Load(req.body);
        if (!s.ok()) return Json(400, json::object{{"error", s.message()}});
      } else if (req.method == "DELETE") {
        faults_.Clear();
      } else if (!get) {
        return Reply(405, ErrorBody("method not allowed"));
      }
      return Reply(200, faults_.ToJson());
    }
    if (get && path == "/_sim/health") return Reply(200, R"({"status":"ok"})");
    return Reply(404, ErrorBody("no route " + req.method + " " + req.path));
  }

  static FrontReply Reply(int status, std::string body) {
    FrontReply r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static FrontReply Json(int status, const json::object& body) { return Reply(status, json::serialize(body)); }

  uint32_t Jitter() {
    std::lock_guard lk(rng_mu_);
    return static_cast<uint32_t>(rng_() % (options_.jitter_ms + 1));
  }

  FrontReply ServeApi(const FrontRequest& req, const std::string& resource) {
    std::string account_name = "?";
    uint32_t page = 0;
    FrontReply reply = Answer(req, resource, req.arrived, &account_name, &page);
    if (options_.log_requests) {
      spdlog::info("emag-sim {} {} {}{} -> {}{}", account_name, req.method, req.path,
                   page > 0 ? " page=" + std::to_string(page) : "", reply.status,
                   reply.delay.count() > 0 ? " after " + std::to_string(reply.delay.count()) + " ms" : "");
    }
    return reply;
  }

  // `arrived`: when the request's header was read: what eMAG's limits count.
  FrontReply Answer(const FrontRequest& req, const std::string& resource, Clock::time_point arrived,
                    std::string* account_name, uint32_t* page_out) {
    std::unique_lock<std::mutex> lk;
    FrontReply refused;
    AccountState* account = Authenticate(req, lk, &refused);
    if (account == nullptr) return refused;
    *account_name = account->login.name;
    const uint64_t nth = ++account->requests;
    if (!options_.ip_allow.empty() &&
        std::find(options_.ip_allow.begin(), options_.ip_allow.end(), req.remote_addr) == options_.ip_allow.end()) {
      return Reply(200, ErrorBody("ERROR: Invalid vendor ip [" + req.remote_addr + "]"));
    }
    if (!Admit(*account, arrived)) {
      ++account->rate_limited;
      return RateLimited(0);
    }
    auto query = ParseQuery(req);
    if (!query.ok()) return Reply(400, ErrorBody(query.status().message()));
    if (query->current_page < 1 || query->per_page < 1) {
      return Reply(200, ErrorBody("Invalid currentPage or itemsPerPage"));
    }
    query->per_page = std::min<int64_t>(query->per_page, 100);  // capped silently
    *page_out = resource == "read" ? static_cast<uint32_t>(query->current_page) : 0;
    // Rendered under the lock (the catalogue may drift), answered after the delay outside it.
    std::string body = Render(account->catalog, resource, *query);
    const std::optional<FaultRule> fault = faults_.Match({account->login.name, resource, *page_out, nth});
    const uint32_t jitter = options_.jitter_ms > 0 ? Jitter() : 0;
    account->max_in_flight = std::max(account->max_in_flight, ++account->in_flight);
    lk.unlock();

    FrontReply reply = fault ? ApplyFault(*fault, req, std::move(body)) : Reply(200, std::move(body));
    reply.delay += std::chrono::milliseconds(options_.latency_ms + jitter);
    reply.on_delay_over = [account] {
      std::lock_guard in_flight_lk(account->mu);
      --account->in_flight;
    };
    return reply;
  }

  // The account whose Basic credentials the request carries, with `lk` on its mutex; nullptr
  // with *refused set to the 401 or 403 answer.
  AccountState* Authenticate(const FrontRequest& req, std::unique_lock<std::mutex>& lk, FrontReply* refused) {
    const std::string& auth = req.authorization;
    std::optional<std::string> decoded;
    if (auth.starts_with("Basic ")) decoded = Base64Decode(std::string_view(auth).substr(6));
    if (!decoded || decoded->find(':') == std::string::npos) {
      *refused = Reply(401, ErrorBody(kNotAllowed));
      return nullptr;
    }
    const std::string username = decoded->substr(0, decoded->find(':'));
    const std::string password = decoded->substr(decoded->find(':') + 1);
    auto found = by_username_.find(username);
    AccountState* account = found == by_username_.end() ? nullptr : found->second;
    if (account == nullptr || account->login.password != password) {
      *refused = Reply(403, ErrorBody(kNotAllowed));
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

  static Result<OfferQuery> ParseQuery(const FrontRequest& req) {
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
    const bool filtered = q.status || q.id || q.part_number || q.part_number_key;
    if (!filtered) return RenderSlice(catalog, catalog.offers(), resource, q);
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
    return RenderSlice(catalog, matching, resource, q);
  }

  // One page (or the count) of `matching`, a vector of offers or of pointers to them: without a
  // filter the catalogue itself, so a page costs its own offers, not a scan of the catalogue.
  static const SimOffer& Deref(const SimOffer& o) { return o; }
  static const SimOffer& Deref(const SimOffer* o) { return *o; }

  template <typename Offers>
  static std::string RenderSlice(const Catalog& catalog, const Offers& matching, const std::string& resource,
                                 const OfferQuery& q) {
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
      results += catalog.RenderJson(Deref(matching[i]));
    }
    results += "]";
    return Envelope(false, {}, results);
  }

  FrontReply RateLimited(int retry_after) const {
    FrontReply r = Reply(429, R"({"message":"API rate limit exceeded"})");
    r.headers.emplace_back("X-RateLimit-Limit-3second", std::to_string(options_.per_second * 3));
    r.headers.emplace_back("X-RateLimit-Remaining-3second", "0");
    if (retry_after > 0) r.headers.emplace_back("Retry-After", std::to_string(retry_after));
    return r;
  }

  FrontReply ApplyFault(const FaultRule& fault, const FrontRequest& req, std::string body) const {
    auto status_page = [&](int code, const char* text) {
      FrontReply r = Reply(code, std::string("<html><body><h1>") + std::to_string(code) + " " + text + "</h1></body></html>");
      r.content_type = "text/html";
      return r;
    };
    switch (fault.fault) {
      case FaultKind::kHttp500: return status_page(500, "Internal Server Error");
      case FaultKind::kHttp502: return status_page(502, "Bad Gateway");
      case FaultKind::kHttp504: return status_page(504, "Gateway Time-out");
      case FaultKind::kHttp408: return status_page(408, "Request Timeout");
      case FaultKind::kHttp400: return Reply(400, ErrorBody(fault.message.empty() ? "Bad request" : fault.message));
      case FaultKind::kHttp429: return RateLimited(static_cast<int>(fault.retry_after_s));
      case FaultKind::kHttp401: return Reply(401, ErrorBody(kNotAllowed));
      case FaultKind::kHttp403: return Reply(403, ErrorBody(kNotAllowed));
      case FaultKind::kSlow: {
        FrontReply r = Reply(200, std::move(body));
        r.delay = std::chrono::milliseconds(fault.delay_ms);
        return r;
      }
      case FaultKind::kReset: {
        FrontReply r = Reply(200, std::move(body));
        r.reset_halfway = true;  // announce the whole body, send half, drop the connection
        return r;
      }
      case FaultKind::kTruncated:
        body.resize(body.size() / 2);
        return Reply(200, std::move(body));
      case FaultKind::kMalformed: return Reply(200, R"({"isError":false,,"results":[{"id":)");
      case FaultKind::kIsError:
        return Reply(200, ErrorBody(fault.message.empty() ? "Simulated error" : fault.message));
      case FaultKind::kInvalidIp: return Reply(200, ErrorBody("ERROR: Invalid vendor ip [" + req.remote_addr + "]"));
    }
    return Reply(500, ErrorBody("unknown fault"));
  }

  const SimulatorOptions options_;
  const std::string host_;
  int port_ = 0;
  FaultScript faults_;

  // Built before the server starts, never changed after: read without a lock.
  std::map<std::string, AccountState> accounts_;
  std::unordered_map<std::string, AccountState*> by_username_;
  std::mutex rng_mu_;  // guards rng_
  std::mt19937_64 rng_;

  std::unique_ptr<HttpFront> front_;  // last: stopped and gone before what it calls into
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
