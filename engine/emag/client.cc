#include "engine/emag/client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>

#include "base/base64.h"
#include "engine/emag/http_transport.h"
#include "engine/emag/response_parser.h"

namespace marketsync::emag {
namespace {

namespace json = boost::json;
namespace net = boost::asio;
using error_code = boost::system::error_code;

struct ParsedUrl {
  HttpEndpoint endpoint;
  std::string path;  // "/api-3", without a trailing slash
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
  out.endpoint.tls = scheme == "https";
  out.endpoint.port = out.endpoint.tls ? "443" : "80";
  out.endpoint.host = authority;
  if (authority.front() == '[') {  // [v6]:port
    const size_t close = authority.find(']');
    if (close == std::string::npos) return Status::InvalidArgument("base URL has an unclosed [ in its host");
    out.endpoint.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') out.endpoint.port = authority.substr(close + 2);
  } else if (const size_t colon = authority.rfind(':'); colon != std::string::npos) {
    out.endpoint.host = authority.substr(0, colon);
    out.endpoint.port = authority.substr(colon + 1);
  }
  if (out.endpoint.host.empty() || out.endpoint.port.empty() ||
      out.endpoint.port.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("base URL must be http(s)://host[:port]/path");
  }
  out.path = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!out.path.empty() && out.path.back() == '/') out.path.pop_back();
  return out;
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

json::object FilterBody(const OfferFilter& f) {
  json::object o;
  if (f.status) o["status"] = *f.status;
  if (f.id) o["id"] = *f.id;
  if (f.part_number) o["part_number"] = *f.part_number;
  if (f.part_number_key) o["part_number_key"] = *f.part_number_key;
  return o;
}

// What the calls of one account share: its limiter, its connections, its credentials (as the
// Authorization header, never anywhere else), and the calls in flight (for AbortInFlight).
struct ClientCore {
  ClientCore(Account a, ClientOptions o, ParsedUrl u)
      : account(std::move(a)), options(std::move(o)), url(std::move(u)), limiter(options.rate_limit, options.clock),
        authorization("Basic " + Base64Encode(account.username + ":" + account.password)) {}

  std::string Where(std::string_view resource, std::string_view detail) const {
    std::string w = "account " + account.name + ", " + std::string(resource);
    if (!detail.empty()) w += " " + std::string(detail);
    return w;
  }

  double Random() {
    if (options.random) return options.random();
    std::lock_guard lk(mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }

  const Account account;
  const ClientOptions options;
  const ParsedUrl url;
  RateLimiter limiter;
  const std::string authorization;
  std::shared_ptr<HttpTransport> transport;

  std::mutex mu;  // guards calls, rng
  std::map<CallHandle*, std::weak_ptr<CallHandle>> calls;
  std::mt19937_64 rng{std::random_device{}()};
};

// One call: wait for the limiter's slot, send, classify the answer, back off and go again, on
// a strand of the pool: every step below runs there, one at a time.
template <typename T>
class CallOp final : public CallHandle, public std::enable_shared_from_this<CallOp<T>> {
 public:
  using Parse = Result<T> (*)(std::string_view);

  CallOp(std::shared_ptr<ClientCore> core, std::string where, std::string target, std::string body,
         CallControl control, Parse parse, EmagClient::Callback<T> done)
      : core_(std::move(core)), strand_(net::make_strand(core_->options.io->context())), timer_(strand_),
        where_(std::move(where)), target_(std::move(target)), body_(std::move(body)),
        control_(std::move(control)), parse_(parse), done_(std::move(done)) {}

  void Begin() {
    {
      std::lock_guard lk(core_->mu);
      core_->calls[this] = this->weak_from_this();
    }
    net::post(strand_, [self = this->shared_from_this()] {
      self->started_ = self->core_->options.clock->Now();
      self->NextAttempt();
    });
  }

  void Abort() override {
    net::post(strand_, [self = this->shared_from_this()] { self->Finish(Status::Cancelled(self->where_ + ": cancelled")); });
  }

 private:
  bool CancelFlag() const { return control_.cancel != nullptr && control_.cancel->load(); }
  bool PastDeadline(SteadyTime t) const { return control_.deadline && t > *control_.deadline; }

  void NextAttempt() {
    ++attempt_;
    const SteadyTime slot = attempt_ == 1 && control_.first_slot ? *control_.first_slot : core_->limiter.Reserve();
    if (PastDeadline(slot)) return Finish(Status::DeadlineExceeded(where_ + ": the deadline passed while waiting for the rate limit"));
    WaitThen(slot, &CallOp::TryStart);
  }

  void WaitThen(SteadyTime until, void (CallOp::*next)()) {
    timer_.expires_at(until);
    timer_.async_wait([self = this->shared_from_this(), next](const error_code& ec) {
      if (self->finished_) return;
      if (ec || self->CancelFlag()) return self->Finish(Status::Cancelled(self->where_ + ": cancelled"));
      ((*self).*next)();
    });
  }

  // Sends, unless no longer wanted; the limiter admits the request at the moment it is
  // written (the transport's gate), by the times requests were really sent.
  void TryStart() {
    if (control_.wanted && !control_.wanted()) return Finish(Status::Cancelled(where_ + ": no longer needed"));
    core_->transport->Post(
        target_, body_, core_->authorization, [core = core_] { return core->limiter.Start(); },
        [self = this->shared_from_this()](HttpReply reply) {
          net::post(self->strand_, [self, reply = std::move(reply)]() mutable { self->Answered(std::move(reply)); });
        });
  }

  void Answered(HttpReply reply) {
    if (finished_) return;
    ++stats_.requests;
    // An abort meant for this call finished it already (Abort); one that reaches it otherwise
    // closed its connection under it, a transport failure like any other (retried).
    if (CancelFlag()) return Finish(Status::Cancelled(where_ + ": cancelled"));
    Result<T> outcome = Classify(reply);
    if (outcome.ok() || outcome.status().code() != Status::Code::kUnavailable) return Finish(std::move(outcome));
    const Status& last = outcome.status();
    const uint32_t max_attempts = std::max<uint32_t>(1, core_->options.retry.max_attempts);
    if (attempt_ >= max_attempts) {
      return Finish(Status::Unavailable(last.message() + " (gave up after " + std::to_string(max_attempts) + " attempts)"));
    }
    ++stats_.retries;
    const auto until = core_->options.clock->Now() + core_->options.retry.Backoff(attempt_, core_->Random());
    if (PastDeadline(until)) {
      return Finish(Status::DeadlineExceeded(where_ + ": the deadline passed during backoff after: " + last.message()));
    }
    WaitThen(until, &CallOp::NextAttempt);
  }

  // An answer as the call's result: kUnavailable to retry, any other error is final.
  Result<T> Classify(const HttpReply& reply) {
    using Failure = HttpReply::Failure;
    if (reply.failure == Failure::kUntrusted) {
      // An untrusted certificate is not a passing fault: retrying cannot help, continuing must not.
      return Status::FailedPrecondition(
          where_ + ": the server's TLS certificate is not trusted (" + reply.error +
          "); if eMAG is reached through a proxy or a test server with its own CA, give that CA with --ca-file "
          "(EMAG_CA_FILE)");
    }
    if (reply.failure != Failure::kNone) return Status::Unavailable(where_ + ": " + reply.error);
    const int code = reply.status;
    if (code == 200) {
      Result<T> parsed = parse_(reply.body);
      if (parsed.ok()) return parsed;
      const std::string& m = parsed.status().message();
      if (parsed.status().code() != Status::Code::kFailedPrecondition) {
        return Status::Unavailable(where_ + ": truncated or malformed body (" + m + ")");
      }
      // isError at HTTP 200: auth and IP refusals are fatal, as is everything else.
      if (Contains(m, "Invalid vendor ip")) {
        return Status::PermissionDenied(where_ + ": eMAG refused this machine's IP address (" + m + ")");
      }
      if (Contains(m, "not allowed to use this API")) {
        return Status::PermissionDenied(where_ + ": eMAG refused the credentials (" + m + ")");
      }
      return Status::FailedPrecondition(where_ + ": " + m);
    }
    if (code == 429) {
      ++stats_.rate_limit_hits;
      const auto now = core_->options.clock->Now();
      // Retry-After is the most specific; without it an exhausted 3-second window is waited out.
      const long retry_after = std::strtol(reply.Header("Retry-After").c_str(), nullptr, 10);
      if (retry_after > 0 && retry_after <= 3600) {
        core_->limiter.BlockUntil(now + std::chrono::seconds(retry_after));
      } else if (reply.Header("X-RateLimit-Remaining-3second") == "0") {
        core_->limiter.BlockUntil(now + std::chrono::seconds(3));
      }
      return Status::Unavailable(where_ + ": HTTP 429, rate limit exceeded");
    }
    if (code == 408 || code >= 500) return Status::Unavailable(where_ + ": HTTP " + std::to_string(code));
    std::string detail;
    if (auto env = ParseEnvelope(reply.body); env.ok()) {
      for (const auto& m : env->messages) detail += (detail.empty() ? "" : "; ") + m;
    }
    const std::string suffix = detail.empty() ? "" : " (" + detail + ")";
    if (code == 401 || code == 403) {
      return Status::PermissionDenied(where_ + ": HTTP " + std::to_string(code) + ", eMAG refused the credentials" + suffix);
    }
    return Status::InvalidArgument(where_ + ": HTTP " + std::to_string(code) + suffix);
  }

  void Finish(Result<T> result) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    stats_.latency_us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(core_->options.clock->Now() - started_).count());
    {
      std::lock_guard lk(core_->mu);
      core_->calls.erase(this);
    }
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(result), stats_);
  }

  const std::shared_ptr<ClientCore> core_;
  net::strand<net::io_context::executor_type> strand_;
  net::steady_timer timer_;
  const std::string where_;
  const std::string target_;
  const std::string body_;
  const CallControl control_;
  const Parse parse_;
  EmagClient::Callback<T> done_;
  CallStats stats_;
  SteadyTime started_{};
  uint32_t attempt_ = 0;
  bool finished_ = false;
};

// Waits for an asynchronous call; aborts it when the control's flag turns true meanwhile.
template <typename T, typename StartFn>
Result<T> Await(StartFn start, CallStats* stats, const CallControl& control) {
  struct Box {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Result<T>> result;
    CallStats stats;
  };
  auto box = std::make_shared<Box>();
  std::shared_ptr<CallHandle> handle = start([box](Result<T> r, CallStats s) {
    std::lock_guard lk(box->mu);
    box->result = std::move(r);
    box->stats = s;
    box->cv.notify_all();
  });
  std::unique_lock lk(box->mu);
  bool aborted = false;
  while (!box->result) {
    box->cv.wait_for(lk, std::chrono::milliseconds(10));
    if (!aborted && control.cancel != nullptr && control.cancel->load()) {
      aborted = true;
      handle->Abort();
    }
  }
  if (stats != nullptr) *stats = box->stats;
  return std::move(*box->result);
}

class HttpClient final : public EmagClient {
 public:
  explicit HttpClient(std::shared_ptr<ClientCore> core) : core_(std::move(core)) {}
  ~HttpClient() override { AbortInFlight(); }

  Result<OfferCount> Count(const OfferFilter& filter, CallStats* stats, const CallControl& control) override {
    return Await<OfferCount>([&](Callback<OfferCount> done) { return AsyncCount(filter, control, std::move(done)); },
                             stats, control);
  }

  Result<OfferPage> ReadPage(const OfferFilter& filter, uint32_t page, uint32_t items_per_page, CallStats* stats,
                             const CallControl& control) override {
    return Await<OfferPage>(
        [&](Callback<OfferPage> done) { return AsyncReadPage(filter, page, items_per_page, control, std::move(done)); },
        stats, control);
  }

  std::shared_ptr<CallHandle> AsyncCount(const OfferFilter& filter, CallControl control,
                                         Callback<OfferCount> done) override {
    return StartCall<OfferCount>("product_offer/count", "", FilterBody(filter), std::move(control), &ParseCountResponse,
                                 std::move(done));
  }

  std::shared_ptr<CallHandle> AsyncReadPage(const OfferFilter& filter, uint32_t page, uint32_t items_per_page,
                                            CallControl control, Callback<OfferPage> done) override {
    const std::string where = "page " + std::to_string(page);
    std::optional<Status> invalid;
    if (page < 1) invalid = Status::InvalidArgument(core_->Where("product_offer/read", where) + ": pages start at 1");
    if (items_per_page < 1 || items_per_page > 100) {
      invalid = Status::InvalidArgument(core_->Where("product_offer/read", where) + ": items per page must be 1..100");
    }
    if (invalid) {
      net::post(core_->options.io->context(), [done = std::move(done), s = *invalid] { done(s, CallStats{}); });
      return std::make_shared<NoCall>();
    }
    json::object body = FilterBody(filter);
    body["currentPage"] = page;
    body["itemsPerPage"] = items_per_page;
    return StartCall<OfferPage>("product_offer/read", where, body, std::move(control), &ParseReadResponse,
                                std::move(done));
  }

  void AbortInFlight() override {
    std::vector<std::shared_ptr<CallHandle>> calls;
    {
      std::lock_guard lk(core_->mu);
      for (auto& [ptr, weak] : core_->calls) {
        if (auto c = weak.lock()) calls.push_back(std::move(c));
      }
    }
    for (auto& c : calls) c->Abort();
    core_->transport->AbortAll();
  }

  const std::string& account_name() const override { return core_->account.name; }
  const std::string& base_url() const override { return core_->account.base_url; }
  RateLimiter& rate_limiter() override { return core_->limiter; }

 private:
  struct NoCall final : CallHandle {
    void Abort() override {}
  };

  template <typename T>
  std::shared_ptr<CallHandle> StartCall(std::string_view resource, std::string_view detail, const json::object& body,
                                        CallControl control, Result<T> (*parse)(std::string_view), Callback<T> done) {
    auto op = std::make_shared<CallOp<T>>(core_, core_->Where(resource, detail),
                                          core_->url.path + "/" + std::string(resource), json::serialize(body),
                                          std::move(control), parse, std::move(done));
    op->Begin();
    return op;
  }

  const std::shared_ptr<ClientCore> core_;
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
  if (options.io == nullptr) options.io = &DefaultIoPool();
  HttpTransportOptions t;
  t.connect_timeout = options.connect_timeout;
  t.io_timeout = options.read_timeout;
  t.ca_file = options.ca_file;
  IoPool& io = *options.io;
  auto core = std::make_shared<ClientCore>(std::move(account), std::move(options), std::move(*url));
  auto transport = HttpTransport::Create(io, core->url.endpoint, std::move(t));
  if (!transport.ok()) return transport.status().WithContext("account " + core->account.name);
  core->transport = std::move(*transport);
  return std::unique_ptr<EmagClient>(std::make_unique<HttpClient>(std::move(core)));
}

}  // namespace marketsync::emag
