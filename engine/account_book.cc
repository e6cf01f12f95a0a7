#include "engine/internal/account_book.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "engine/internal/product_rows.h"
#include "schema/payload_codec.h"
#include "schema/stream_ids.h"

namespace marketsync {
namespace {

constexpr size_t kMaxCredential = 512;
constexpr uint32_t kMaxScheduleMinutes = 7 * 24 * 60;
constexpr std::string_view kSourceApi = "api";
constexpr std::string_view kSourceEnvironment = "environment";

Status ValidateCredentials(const Credentials& c) {
  if (c.username.empty() || c.username.size() > kMaxCredential || c.password.empty() ||
      c.password.size() > kMaxCredential) {
    return Status::InvalidArgument("username and password must each be 1-512 bytes");
  }
  return Status::Ok();
}

Status ValidateSpec(const AccountSpec& spec) {
  MS_RETURN_IF_ERROR(CheckAccountName(spec.name));
  if (spec.credentials) MS_RETURN_IF_ERROR(ValidateCredentials(*spec.credentials));
  if (spec.schedule_minutes && *spec.schedule_minutes > kMaxScheduleMinutes) {
    return Status::InvalidArgument("schedule_minutes must be 0 (the server's schedule) up to 10080 (a week)");
  }
  return Status::Ok();
}

Status NoKey() {
  return Status::FailedPrecondition(
      "this server has no secret key, so it cannot store credentials: start marketsyncd with "
      "MARKETSYNC_SECRET_KEY (or --secret-key-file) set to a key from `marketsyncd --generate-secret-key`");
}

// The fields whose values differ, by their names in AccountSettings.
std::vector<std::string> Differences(const AccountSettings& a, const AccountSettings& b) {
  std::vector<std::string> out;
  if (a.base_url != b.base_url) out.emplace_back("base_url");
  if (a.enabled != b.enabled) out.emplace_back("enabled");
  if (a.schedule_minutes != b.schedule_minutes) out.emplace_back("schedule_minutes");
  if (a.source != b.source) out.emplace_back("source");
  if (a.key_id != b.key_id) out.emplace_back("key");
  return out;
}

}  // namespace

Status CheckAccountName(std::string_view name) {
  const bool ok = !name.empty() && name.size() <= 32 && name != "both" &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
                  });
  if (ok) return Status::Ok();
  return Status::InvalidArgument("account name \"" + std::string(name) +
                                 "\" must be 1-32 characters of a-z, 0-9, _ or -, and not \"both\"");
}

AccountBook::AccountBook(EventLog& log, RawHashIndex& raw_hashes, const EngineOptions& options)
    : log_(log), raw_hashes_(raw_hashes), options_(options) {}

Status AccountBook::Load() {
  std::lock_guard command(command_mu_);
  MS_ASSIGN_OR_RETURN(std::vector<AccountRecord> records, List());
  Step step;
  step.correlation_id = "accounts-at-start";
  std::map<std::string, Live> next;
  MS_RETURN_IF_ERROR(LoadStored(records, step, next));
  MS_RETURN_IF_ERROR(SeedEnvironment(records, step, next));
  if (!step.streams.empty()) MS_RETURN_IF_ERROR(Append(std::move(step)));
  std::lock_guard lk(mu_);
  live_ = std::move(next);
  return Status::Ok();
}

Status AccountBook::LoadStored(const std::vector<AccountRecord>& records, Step& step, std::map<std::string, Live>& next) {
  const std::optional<SecretKey>& key = options_.secret_key;
  const std::optional<SecretKey>& previous = options_.previous_secret_key;
  std::vector<std::string> locked;  // accounts whose rows need a key this server lacks
  size_t rotated = 0;
  for (const AccountRecord& r : records) {
    if (r.removed || r.settings.source != kSourceApi) continue;
    MS_ASSIGN_OR_RETURN(auto row, log_.Get(kCredentialsFamily, r.name));
    if (!row) {  // an export carries no credentials: a database imported from one lacks them
      spdlog::warn("account {} has no stored credentials and cannot sync until they are given again "
                   "(PATCH /api/v1/accounts/{} with username and password)", r.name, r.name);
      continue;
    }
    MS_ASSIGN_OR_RETURN(std::string id, SealedKeyId(*row));
    const bool current = key && key->id() == id;
    if (!current && !(previous && previous->id() == id)) {
      locked.push_back(fmt::format("{} (key {})", r.name, id));
      continue;
    }
    MS_ASSIGN_OR_RETURN(Credentials c, OpenCredentials(current ? *key : *previous, r.name, *row));
    AccountSettings settings = r.settings;
    if (!current) {  // sealed under the key being rotated out: seal again under the new one
      if (!key) return NoKey();
      MS_ASSIGN_OR_RETURN(std::string sealed, SealCredentials(*key, r.name, c));
      settings.key_id = key->id();
      step.writes.push_back({std::string(kCredentialsFamily), r.name, std::move(sealed)});
      AccountChanged ev{r.name, {"key"}, settings, "key rotation"};
      step.streams.push_back({AccountStreamId(r.name), r.version, {MakeEvent(ev)}});
      ++rotated;
    }
    MS_ASSIGN_OR_RETURN(auto client, NewClient(r.name, c, settings.base_url));
    next[r.name] = Live{settings, std::move(client)};
  }
  if (!locked.empty()) {
    return Status::FailedPrecondition(fmt::format(
        "the stored credentials of {} are sealed under a key this server was not given ({}): start it with that "
        "key in MARKETSYNC_SECRET_KEY (or --secret-key-file; the one being rotated out in "
        "MARKETSYNC_PREVIOUS_SECRET_KEY). Nothing was changed.",
        fmt::join(locked, ", "), key ? "its key is " + key->id() : "it has none"));
  }
  if (rotated > 0) spdlog::info("re-sealing the credentials of {} accounts under key {}", rotated, key->id());
  return Status::Ok();
}

Status AccountBook::SeedEnvironment(const std::vector<AccountRecord>& records, Step& step,
                                    std::map<std::string, Live>& next) {
  std::map<std::string, const AccountRecord*> known;
  for (const AccountRecord& r : records) known[r.name] = &r;
  std::set<std::string> seeded;
  for (const emag::Account& a : options_.accounts) {
    seeded.insert(a.name);  // names and duplicates were checked when the engine was created
    if (next.contains(a.name)) {
      return Status::FailedPrecondition("account " + a.name +
                                        " is set in the environment (EMAG_ACCOUNTS) and was also added through the "
                                        "API: remove it from one of them");
    }
    AccountSettings settings;
    settings.base_url = a.base_url;
    settings.source = std::string(kSourceEnvironment);
    const auto it = known.find(a.name);
    const AccountRecord* r = it == known.end() ? nullptr : it->second;
    if (r == nullptr || r->removed) {
      AccountAdded ev{a.name, settings, "environment"};
      step.streams.push_back({AccountStreamId(a.name), r ? r->version : kNoStream, {MakeEvent(ev)}});
    } else if (std::vector<std::string> changed = Differences(r->settings, settings); !changed.empty()) {
      AccountChanged ev{a.name, std::move(changed), settings, "environment"};
      step.streams.push_back({AccountStreamId(a.name), r->version, {MakeEvent(ev)}});
    }
    MS_ASSIGN_OR_RETURN(auto client, NewClient(a.name, Credentials{a.username, a.password}, a.base_url));
    next[a.name] = Live{settings, std::move(client)};
  }
  // Accounts the environment named before and names no more.
  for (const AccountRecord& r : records) {
    if (r.removed || r.settings.source != kSourceEnvironment || seeded.contains(r.name)) continue;
    AccountRemoved ev{r.name, false, 0, "environment"};
    step.streams.push_back({AccountStreamId(r.name), r.version, {MakeEvent(ev)}});
  }
  return Status::Ok();
}

Result<AccountRecord> AccountBook::Add(const AccountSpec& spec, const std::string& by) {
  MS_RETURN_IF_ERROR(ValidateSpec(spec));
  if (!spec.credentials) return Status::InvalidArgument("username and password are required to add an account");
  std::lock_guard command(command_mu_);
  MS_ASSIGN_OR_RETURN(std::optional<AccountRecord> existing, Find(spec.name));
  if (existing && !existing->removed) {
    return Status::FailedPrecondition("account " + spec.name + " exists: change it, or remove it first");
  }
  if (!options_.secret_key) return NoKey();
  const SecretKey& key = *options_.secret_key;
  AccountSettings settings;
  settings.base_url = spec.base_url.value_or(std::string(emag::kDefaultBaseUrl));
  settings.enabled = spec.enabled.value_or(true);
  settings.schedule_minutes = spec.schedule_minutes.value_or(0);
  settings.source = std::string(kSourceApi);
  settings.key_id = key.id();
  MS_ASSIGN_OR_RETURN(auto client, NewClient(spec.name, *spec.credentials, settings.base_url));
  MS_ASSIGN_OR_RETURN(std::string sealed, SealCredentials(key, spec.name, *spec.credentials));
  Step step;
  step.correlation_id = "account-add-" + spec.name;
  AccountAdded ev{spec.name, settings, by};
  step.streams.push_back({AccountStreamId(spec.name), existing ? existing->version : kNoStream, {MakeEvent(ev)}});
  step.writes.push_back({std::string(kCredentialsFamily), spec.name, std::move(sealed)});
  MS_RETURN_IF_ERROR(Append(std::move(step)));
  {
    std::lock_guard lk(mu_);
    live_[spec.name] = Live{settings, std::move(client)};
  }
  spdlog::info("account {} added by {} (base URL {}, {})", spec.name, by, settings.base_url,
               settings.enabled ? "enabled" : "disabled");
  return Record(spec.name);
}

Result<AccountRecord> AccountBook::Change(const AccountSpec& spec, const std::string& by) {
  MS_RETURN_IF_ERROR(ValidateSpec(spec));
  std::lock_guard command(command_mu_);
  MS_ASSIGN_OR_RETURN(std::optional<AccountRecord> existing, Find(spec.name));
  if (!existing || existing->removed) return Status::NotFound("no account " + spec.name);
  if (existing->settings.source != kSourceApi) {
    return Status::FailedPrecondition("account " + spec.name +
                                      " comes from the environment: change its EMAG_* variables and restart");
  }
  AccountSettings settings = existing->settings;
  if (spec.base_url) settings.base_url = *spec.base_url;
  if (spec.enabled) settings.enabled = *spec.enabled;
  if (spec.schedule_minutes) settings.schedule_minutes = *spec.schedule_minutes;
  std::vector<std::string> changed = Differences(existing->settings, settings);
  if (spec.credentials) changed.emplace_back("credentials");
  if (changed.empty()) return *existing;
  if (!options_.secret_key) return NoKey();
  const SecretKey& key = *options_.secret_key;
  Step step;
  step.correlation_id = "account-change-" + spec.name;
  Credentials credentials;
  if (spec.credentials) {
    credentials = *spec.credentials;
    MS_ASSIGN_OR_RETURN(std::string sealed, SealCredentials(key, spec.name, credentials));
    step.writes.push_back({std::string(kCredentialsFamily), spec.name, std::move(sealed)});
    settings.key_id = key.id();
  } else {
    MS_ASSIGN_OR_RETURN(auto row, log_.Get(kCredentialsFamily, spec.name));
    if (!row) {
      return Status::FailedPrecondition("account " + spec.name + " has no stored credentials: give username and password");
    }
    MS_ASSIGN_OR_RETURN(credentials, OpenCredentials(key, spec.name, *row));
  }
  MS_ASSIGN_OR_RETURN(auto client, NewClient(spec.name, credentials, settings.base_url));
  AccountChanged ev{spec.name, changed, settings, by};
  step.streams.push_back({AccountStreamId(spec.name), existing->version, {MakeEvent(ev)}});
  MS_RETURN_IF_ERROR(Append(std::move(step)));
  {
    std::lock_guard lk(mu_);
    live_[spec.name] = Live{settings, std::move(client)};
  }
  spdlog::info("account {} changed by {}: {}", spec.name, by, fmt::join(changed, ", "));
  return Record(spec.name);
}

Result<AccountRecord> AccountBook::Remove(const std::string& name, bool purge_mirror, const std::string& by) {
  std::lock_guard command(command_mu_);
  MS_ASSIGN_OR_RETURN(std::optional<AccountRecord> existing, Find(name));
  if (!existing || existing->removed) return Status::NotFound("no account " + name);
  if (existing->settings.source != kSourceApi) {
    return Status::FailedPrecondition("account " + name + " comes from the environment: take it out of EMAG_ACCOUNTS and restart");
  }
  const std::string lease = LeaseKey(name);
  MS_ASSIGN_OR_RETURN(auto holder, log_.Get(EventLog::kMetaFamily, lease));
  if (holder) {
    return Status::FailedPrecondition("run " + *holder + " holds account " + name + ": cancel it and let it end first");
  }
  Step step;
  step.correlation_id = "account-remove-" + name;
  AccountRemoved ev{name, purge_mirror, 0, by};
  if (purge_mirror) MS_RETURN_IF_ERROR(PurgeMirror(name, step, &ev.offers_purged));
  step.streams.push_back({AccountStreamId(name), existing->version, {MakeEvent(ev)}});
  step.writes.push_back({std::string(kCredentialsFamily), name, std::nullopt});
  step.expect.push_back({std::string(EventLog::kMetaFamily), lease, std::nullopt});  // no run started meanwhile
  const auto changes = RawHashIndex::ChangesOf(step);
  MS_RETURN_IF_ERROR(Append(std::move(step)));
  raw_hashes_.Apply(changes);
  {
    std::lock_guard lk(mu_);
    live_.erase(name);
  }
  spdlog::info("account {} removed by {}{}", name, by,
               purge_mirror ? fmt::format(", {} offers purged from the mirror", ev.offers_purged) : "");
  return Record(name);
}

Status AccountBook::PurgeMirror(const std::string& name, Step& step, uint64_t* offers) const {
  return ForEachProductRow(log_, name, [&](uint64_t offer_id, std::string_view) -> Status {
    ProductRemoved ev;
    ev.account = name;
    ev.offer_id = offer_id;  // run_id stays empty: no run removed it
    step.streams.push_back({ProductStreamId(name, offer_id), kAnyVersion, {MakeEvent(ev)}});
    step.writes.push_back({std::string(kProductsFamily), ProductKey(name, offer_id), std::nullopt});
    ++*offers;
    return Status::Ok();
  });
}

Result<std::optional<AccountRecord>> AccountBook::Find(const std::string& name) const {
  MS_ASSIGN_OR_RETURN(std::vector<Envelope> events, log_.ReadStream(AccountStreamId(name)));
  if (events.empty()) return std::optional<AccountRecord>();
  AccountRecord r;
  for (const Envelope& e : events) MS_RETURN_IF_ERROR(ApplyAccountEvent(r, e));
  return std::optional<AccountRecord>(std::move(r));
}

Result<std::vector<AccountRecord>> AccountBook::List() const {
  MS_ASSIGN_OR_RETURN(std::vector<std::string> streams, log_.StreamIds(kAccountStreamPrefix));
  std::vector<AccountRecord> out;
  for (const auto& stream : streams) {
    MS_ASSIGN_OR_RETURN(std::optional<AccountRecord> r, Find(stream.substr(kAccountStreamPrefix.size())));
    if (r) out.push_back(std::move(*r));
  }
  return out;
}

std::shared_ptr<emag::EmagClient> AccountBook::Client(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = live_.find(name);
  return it == live_.end() ? nullptr : it->second.client;
}

std::vector<std::string> AccountBook::Names(bool enabled_only) const {
  std::vector<std::string> out;
  {
    std::lock_guard lk(mu_);
    for (const auto& [name, live] : live_) {
      if (!enabled_only || live.settings.enabled) out.push_back(name);
    }
  }
  // The environment's accounts in the order it names them, then the others by name.
  auto rank = [&](const std::string& name) {
    auto it = std::find_if(options_.accounts.begin(), options_.accounts.end(),
                           [&](const emag::Account& a) { return a.name == name; });
    return static_cast<size_t>(it - options_.accounts.begin());
  };
  std::stable_sort(out.begin(), out.end(), [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  return out;
}

bool AccountBook::Enabled(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = live_.find(name);
  return it != live_.end() && it->second.settings.enabled;
}

uint32_t AccountBook::ScheduleMinutes(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = live_.find(name);
  return it == live_.end() ? 0 : it->second.settings.schedule_minutes;
}

Status AccountBook::Append(Step step) {
  auto r = log_.Append(std::move(step));
  if (r.ok()) return Status::Ok();
  if (r.status().IsFailedPrecondition()) {
    return Status::FailedPrecondition("the account changed meanwhile (a run started on it, or another command): try again");
  }
  return r.status();
}

Result<AccountRecord> AccountBook::Record(const std::string& name) const {
  MS_ASSIGN_OR_RETURN(std::optional<AccountRecord> r, Find(name));
  if (!r) return Status::NotFound("no account " + name);
  return *r;
}

Result<std::shared_ptr<emag::EmagClient>> AccountBook::NewClient(const std::string& name, const Credentials& c,
                                                                 const std::string& base_url) const {
  MS_ASSIGN_OR_RETURN(auto client, emag::EmagClient::Create(emag::Account{name, c.username, c.password, base_url},
                                                            options_.client));
  return std::shared_ptr<emag::EmagClient>(std::move(client));
}

}  // namespace marketsync
