#include "engine/emag/client.h"

#include <httplib.h>

#include <boost/json.hpp>
#include <mutex>
#include <random>
#include <set>
#include <vector>

#include "engine/emag/response_parser.h"

namespace marketsync::emag {
namespace {

namespace json = boost::json;

struct ParsedUrl {
  std::string origin;  // scheme://host[:port]
  std::string path;    // "/api-3", without a trailing slash
};

Result<ParsedUrl> ParseBaseUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return Status::InvalidArgument("base URL must start with http:// or https://");
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return Status::InvalidArgument("base URL must start with http:// or https://");
  const size_t host_start = scheme_end + 3;
  const size_t path_start = url.find('/', host_start);
  const std::string authority = url.substr(host_start, path_start == std::string::npos ? std::string::npos : path_start - host_start);
  if (authority.empty()) return Status::InvalidArgument("base URL has no host");
  if (authority.find('@') != std::string::npos) {
    // Never echo the URL: it holds a secret.
    return Status::InvalidArgument("base URL must not carry credentials; use the account's username and password settings");
  }
  ParsedUrl out;
  out.origin = scheme + "://" + authority;
  out.path = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!out.path.empty() && out.path.back() == '/') out.path.pop_back();
  return out;
}

std::string HeaderOr(const httplib::Response& r, const char* name, const std::string& fallback = "") {
  return r.has_header(name) ? r.get_header_value(name) : fallback;
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// The outcome of one HTTP attempt.
struct Attempt {
  enum class Kind : uint8_t { kOk, kRetry, kFatal } kind = Kind::kOk;
  Status status;          // for kRetry and kFatal
  std::string body;       // for kOk
};

class HttpClient final : public EmagClient {
 public:
  HttpClient(Account account, ClientOptions options, ParsedUrl url)
      : account_(std::move(account)), options_(std::move(options)), url_(std::move(url)),
        limiter_(options_.rate_limit, options_.clock) {}

  ~HttpClient() override { AbortInFlight(); }

  Result<OfferCount> Count(const OfferFilter& filter, CallStats* stats, const CallControl& control) override {
    return Call<OfferCount>("product_offer/count", "", FilterBody(filter), stats, control, &ParseCountResponse);
  }

  Result<OfferPage> ReadPage(const OfferFilter& filter, uint32_t page, uint32_t items_per_page,
                             CallStats* stats, const CallControl& control) override {
    const std::string where = "page " + std::to_string(page);
    if (page < 1) return Status::InvalidArgument(Where("product_offer/read", where) + ": pages start at 1");
    if (items_per_page < 1 || items_per_page > 100) {
      return Status::InvalidArgument(Where("product_offer/read", where) + ": items per page must be 1..100");
    }
    json::object body = FilterBody(filter);
    body["currentPage"] = page;
    body["itemsPerPage"] = items_per_page;
    return Call<OfferPage>("product_offer/read", where, body, stats, control, &ParseReadResponse);
  }

  void AbortInFlight() override {
    std::lock_guard lk(pool_mu_);
    for (httplib::Client* c : busy_) c->stop();
  }

  const std::string& account_name() const override { return account_.name; }
  const std::string& base_url() const override { return account_.base_url; }
  RateLimiter& rate_limiter() override { return limiter_; }

 private:
  std::string Where(std::string_view resource, std::string_view detail) const {
    std::string w = "account " + account_.name + ", " + std::string(resource);
    if (!detail.empty()) w += " " + std::string(detail);
    return w;
  }

  static json::object FilterBody(const OfferFilter& f) {
    json::object o;
    if (f.status) o["status"] = *f.status;
    if (f.id) o["id"] = *f.id;
    if (f.part_number) o["part_number"] = *f.part_number;
    if (f.part_number_key) o["part_number_key"] = *f.part_number_key;
    return o;
  }

  std::unique_ptr<httplib::Client> AcquireConnection() {
    std::unique_ptr<httplib::Client> c;
    {
      std::lock_guard lk(pool_mu_);
      if (!idle_.empty()) {
        c = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!c) {
      c = std::make_unique<httplib::Client>(url_.origin);
      c->set_basic_auth(account_.username, account_.password);
      c->set_keep_alive(true);
      c->set_tcp_nodelay(true);
      c->set_connection_timeout(std::chrono::duration_cast<std::chrono::microseconds>(options_.connect_timeout));
      c->set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(options_.read_timeout));
      c->set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(options_.read_timeout));
      // HTTPS verifies the server's certificate, always: against ca_file when given, else the
      // system's trust store. There is no switch to turn it off.
      c->enable_server_certificate_verification(true);
      if (!options_.ca_file.empty()) c->set_ca_cert_path(options_.ca_file.c_str());
    }
    std::lock_guard lk(pool_mu_);
    busy_.insert(c.get());
    return c;
  }

  void ReleaseConnection(std::unique_ptr<httplib::Client> c) {
    std::lock_guard lk(pool_mu_);
    busy_.erase(c.get());
    if (idle_.size() < 32) idle_.push_back(std::move(c));
  }

  double Random() {
    if (options_.random) return options_.random();
    std::lock_guard lk(rng_mu_);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }

  // One HTTP request and its classification.
  Attempt Send(const std::string& path, const std::string& body, CallStats* stats, const std::string& where) {
    Attempt a;
    auto conn = AcquireConnection();
    auto res = conn->Post(path, body, "application/json");
    ReleaseConnection(std::move(conn));
    ++stats->requests;
    if (!res && res.error() == httplib::Error::SSLServerVerification) {
      // An untrusted certificate is not a passing fault: retrying cannot help, continuing must not.
      a.kind = Attempt::Kind::kFatal;
      a.status = Status::FailedPrecondition(
          where + ": the server's TLS certificate is not trusted (" + httplib::to_string(res.error()) +
          "); if eMAG is reached through a proxy or a test server with its own CA, give that CA with --ca-file "
          "(EMAG_CA_FILE)");
      return a;
    }
    if (!res) {
      a.kind = Attempt::Kind::kRetry;
      a.status = Status::Unavailable(where + ": " + httplib::to_string(res.error()));
      return a;
    }
    const int code = res->status;
    if (code == 200) {
      a.body = std::move(res->body);
      return a;
    }
    if (code == 429) {
      ++stats->rate_limit_hits;
      const auto now = options_.clock->Now();
      // Retry-After is the most specific; without it an exhausted 3-second window is waited out.
      const long retry_after = std::strtol(HeaderOr(*res, "Retry-After", "0").c_str(), nullptr, 10);
      if (retry_after > 0 && retry_after <= 3600) {
        limiter_.BlockUntil(now + std::chrono::seconds(retry_after));
      } else if (HeaderOr(*res, "X-RateLimit-Remaining-3second") == "0") {
        limiter_.BlockUntil(now + std::chrono::seconds(3));
      }
      a.kind = Attempt::Kind::kRetry;
      a.status = Status::Unavailable(where + ": HTTP 429, rate limit exceeded");
      return a;
    }
    if (code == 408 || code >= 500) {
      a.kind = Attempt::Kind::kRetry;
      a.status = Status::Unavailable(where + ": HTTP " + std::to_string(code));
      return a;
    }
    a.kind = Attempt::Kind::kFatal;
    std::string detail;
    if (auto env = ParseEnvelope(res->body); env.ok()) {
      for (const auto& m : env->messages) detail += (detail.empty() ? "" : "; ") + m;
    }
    const std::string suffix = detail.empty() ? "" : " (" + detail + ")";
    if (code == 401 || code == 403) {
      a.status = Status::PermissionDenied(where + ": HTTP " + std::to_string(code) +
                                          ", eMAG refused the credentials" + suffix);
    } else {
      a.status = Status::InvalidArgument(where + ": HTTP " + std::to_string(code) + suffix);
    }
    return a;
  }

  // Sleeps until `slot`, then until the limiter admits the request by the times requests were
  // really sent. Errors: kCancelled (cancelled, or no longer wanted), kDeadlineExceeded.
  Status WaitToSend(SteadyTime slot, const CallControl& control, const std::string& where) {
    auto cancelled = [&] { return control.cancel != nullptr && control.cancel->load(); };
    if (control.deadline && slot > *control.deadline) {
      return Status::DeadlineExceeded(where + ": the deadline passed while waiting for the rate limit");
    }
    if (!options_.clock->SleepUntil(slot, control.cancel) || cancelled()) return Status::Cancelled(where + ": cancelled");
    while (std::optional<SteadyTime> later = limiter_.Start()) {
      if (control.wanted && !control.wanted()) return Status::Cancelled(where + ": no longer needed");
      if (control.deadline && *later > *control.deadline) {
        return Status::DeadlineExceeded(where + ": the deadline passed while waiting for the rate limit");
      }
      if (!options_.clock->SleepUntil(*later, control.cancel) || cancelled()) {
        return Status::Cancelled(where + ": cancelled");
      }
    }
    return Status::Ok();
  }

  // A call with pacing and retries; `parse` turns a 200 body into T (kCorruption: malformed or
  // truncated, retried; kFailedPrecondition: an isError answer, fatal).
  template <typename T>
  Result<T> Call(std::string_view resource, std::string_view detail, const json::object& body,
                 CallStats* stats, const CallControl& control, Result<T> (*parse)(std::string_view)) {
    CallStats local;
    if (stats == nullptr) stats = &local;
    const std::string where = Where(resource, detail);
    const std::string path = url_.path + "/" + std::string(resource);
    const std::string text = json::serialize(body);
    const auto started = options_.clock->Now();
    auto finish = [&] {
      stats->latency_us = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(options_.clock->Now() - started).count());
    };
    auto cancelled = [&] { return control.cancel != nullptr && control.cancel->load(); };
    Status last;
    for (uint32_t attempt = 1; attempt <= std::max<uint32_t>(1, options_.retry.max_attempts); ++attempt) {
      const SteadyTime slot = attempt == 1 && control.first_slot ? *control.first_slot : limiter_.Reserve();
      if (Status wait = WaitToSend(slot, control, where); !wait.ok()) {
        finish();
        return wait;
      }
      Attempt a = Send(path, text, stats, where);
      if (cancelled()) {
        finish();
        return Status::Cancelled(where + ": cancelled");
      }
      if (a.kind == Attempt::Kind::kOk) {
        Result<T> parsed = parse(a.body);
        if (parsed.ok()) {
          finish();
          return parsed;
        }
        if (parsed.status().code() == Status::Code::kFailedPrecondition) {
          // isError at HTTP 200: auth and IP refusals are fatal, as is everything else.
          finish();
          const std::string& m = parsed.status().message();
          if (Contains(m, "Invalid vendor ip")) {
            return Status::PermissionDenied(where + ": eMAG refused this machine's IP address (" + m + ")");
          }
          if (Contains(m, "not allowed to use this API")) {
            return Status::PermissionDenied(where + ": eMAG refused the credentials (" + m + ")");
          }
          return Status::FailedPrecondition(where + ": " + m);
        }
        last = Status::Unavailable(where + ": truncated or malformed body (" + parsed.status().message() + ")");
      } else if (a.kind == Attempt::Kind::kFatal) {
        finish();
        return a.status;
      } else {
        last = a.status;
      }
      if (attempt == options_.retry.max_attempts) break;
      ++stats->retries;
      const auto wait = options_.retry.Backoff(attempt, Random());
      const auto until = options_.clock->Now() + wait;
      if (control.deadline && until > *control.deadline) {
        finish();
        return Status::DeadlineExceeded(where + ": the deadline passed during backoff after: " + last.message());
      }
      if (!options_.clock->SleepUntil(until, control.cancel)) {
        finish();
        return Status::Cancelled(where + ": cancelled");
      }
    }
    finish();
    return Status::Unavailable(last.message() + " (gave up after " +
                               std::to_string(options_.retry.max_attempts) + " attempts)");
  }

  const Account account_;
  const ClientOptions options_;
  const ParsedUrl url_;
  RateLimiter limiter_;

  std::mutex pool_mu_;  // guards idle_ and busy_
  std::vector<std::unique_ptr<httplib::Client>> idle_;
  std::set<httplib::Client*> busy_;

  std::mutex rng_mu_;  // guards rng_
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace

bool IsFatalEmagError(const Status& s) {
  return s.code() == Status::Code::kPermissionDenied || s.code() == Status::Code::kFailedPrecondition ||
         s.code() == Status::Code::kInvalidArgument;
}

Result<std::unique_ptr<EmagClient>> EmagClient::Create(Account account, ClientOptions options) {
  if (account.name.empty()) return Status::InvalidArgument("an account needs a name");
  auto url = ParseBaseUrl(account.base_url);
  if (!url.ok()) return url.status().WithContext("account " + account.name);
  if (options.clock == nullptr) options.clock = &SystemClock();
  return std::unique_ptr<EmagClient>(std::make_unique<HttpClient>(std::move(account), std::move(options), std::move(*url)));
}

}  // namespace marketsync::emag
