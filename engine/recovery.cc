#include "engine/internal/recovery.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "engine/emag/response_parser.h"
#include "engine/offer_fingerprint.h"
#include "engine/internal/product_rows.h"
#include "schema/payload_codec.h"
#include "schema/store_keys.h"
#include "schema/stream_ids.h"

namespace marketsync {
namespace {

constexpr std::string_view kRestoreCorrelation = "restore-product-state";

// Pass 1: the seq of the last event of every offer that still exists, by product key.
Result<std::map<std::string, uint64_t>> LastProductEvents(const EventLog& log) {
  std::map<std::string, uint64_t> last;
  auto it = log.Read(1);
  for (; it->Valid(); it->Next()) {
    const Envelope& e = it->envelope();
    const auto type = static_cast<EventType>(e.type);
    if (type != EventType::kProductCreated && type != EventType::kProductUpdated && type != EventType::kProductRemoved) {
      continue;
    }
    const std::optional<ProductStreamParts> stream = ParseProductStreamId(e.stream_id);
    if (!stream) continue;
    const std::string key = ProductKey(stream->account, stream->offer_id);
    if (type == EventType::kProductRemoved) {
      last.erase(key);
    } else {
      last[key] = e.seq;
    }
  }
  MS_RETURN_IF_ERROR(it->status());
  return last;
}

// The product state a sync would have written for the offer a product event carries.
Result<ProductState> StateOf(const Envelope& e) {
  std::string raw_json, run_id;
  if (e.type == static_cast<uint16_t>(EventType::kProductCreated)) {
    MS_ASSIGN_OR_RETURN(ProductCreated p, DecodePayload<ProductCreated>(e.payload_version, e.payload));
    raw_json = std::move(p.raw_json);
    run_id = std::move(p.run_id);
  } else {
    MS_ASSIGN_OR_RETURN(ProductUpdated p, DecodePayload<ProductUpdated>(e.payload_version, e.payload));
    raw_json = std::move(p.raw_json);
    run_id = std::move(p.run_id);
  }
  MS_ASSIGN_OR_RETURN(emag::OfferPage page,
                      emag::ParseReadResponse(R"({"isError":false,"messages":[],"results":[)" + raw_json + "]}"));
  if (page.offers.size() != 1) return Status::Corruption("product event at seq " + std::to_string(e.seq) + " holds no offer");
  ProductState state;
  const RawHash raw_hash = RawTextHash(raw_json);
  state.raw_hash.assign(raw_hash.data(), raw_hash.size());
  OfferFingerprint fp = Fingerprint(page.offers[0]);
  state.content_hash = std::move(fp.content_hash);
  state.field_hashes = std::move(fp.field_hashes);
  state.part_number = page.offers[0].part_number;
  state.last_run_id = std::move(run_id);
  return state;
}

// True when there is nothing to derive: an empty log, product rows already there, or the marker
// of an earlier derivation.
Result<bool> ProductStateIsCurrent(const EventLog& log) {
  if (log.Head().seq == 0) return true;
  MS_ASSIGN_OR_RETURN(auto it, log.Scan(kProductsFamily));
  it->SeekToFirst();
  MS_RETURN_IF_ERROR(it->status());
  if (it->Valid()) return true;
  MS_ASSIGN_OR_RETURN(auto derived, log.Get(EventLog::kMetaFamily, kProductStateDerivedKey));
  return derived.has_value();
}

}  // namespace

Status RestoreProductState(EventLog& log, RawHashIndex& raw_hashes) {
  MS_ASSIGN_OR_RETURN(bool current, ProductStateIsCurrent(log));
  if (current) return Status::Ok();
  const KeyValueWrite marker{std::string(EventLog::kMetaFamily), std::string(kProductStateDerivedKey),
                             std::to_string(log.Head().seq)};
  MS_ASSIGN_OR_RETURN(auto last, LastProductEvents(log));
  if (last.empty()) return log.Append(Step{std::string(kRestoreCorrelation), {}, {marker}, {}}).status();
  spdlog::info("restoring the product state of {} offers from the log", last.size());
  // Pass 2: fingerprint each offer's last raw JSON, as a sync would have; one forward scan
  // from the first of those events, not a look-up each.
  std::vector<std::pair<uint64_t, std::string>> wanted;  // (seq, product key), seq order
  wanted.reserve(last.size());
  for (const auto& [key, seq] : last) wanted.emplace_back(seq, key);
  std::sort(wanted.begin(), wanted.end());
  Step step;
  step.correlation_id = kRestoreCorrelation;
  auto it = log.Read(wanted.front().first);
  for (const auto& [seq, key] : wanted) {
    while (it->Valid() && it->envelope().seq < seq) it->Next();
    if (!it->Valid() || it->envelope().seq != seq) {
      return it->status().ok() ? Status::Corruption("product event at seq " + std::to_string(seq) + " is gone") : it->status();
    }
    MS_ASSIGN_OR_RETURN(ProductState state, StateOf(it->envelope()));
    step.writes.push_back({std::string(kProductsFamily), key, EncodeProductState(state)});
    if (step.writes.size() == 2000) {
      MS_RETURN_IF_ERROR(log.Append(std::move(step)).status());
      step = Step{};
      step.correlation_id = kRestoreCorrelation;
    }
  }
  step.writes.push_back(marker);  // the marker lands with the last rows
  raw_hashes.Clear();  // written around it: the next run of each account loads again
  return log.Append(std::move(step)).status();
}

namespace {

// A leased run with no live node executing it, and the owner row its takeover expects.
struct Orphan {
  std::string account, run_id;
  std::optional<std::string> owner;
};

// The leased runs that no live node executes: not run here, and owned by nobody, by this node
// (a run it stopped, or found at start-up), or by a node whose heartbeat row is gone or has not
// changed for a ttl as this node saw it (HeartbeatWatch: no clocks compared). Two MultiGets
// (owners, then their heartbeats), not two reads per run: a scan every half ttl stays cheap
// with hundreds of accounts on PostgreSQL.
Result<std::vector<Orphan>> FindOrphans(const EventLog& log, const RecoveryOptions& options) {
  std::vector<Orphan> leased;
  {
    MS_ASSIGN_OR_RETURN(auto it, log.Scan(EventLog::kMetaFamily));
    for (it->Seek(kLeasePrefix); it->Valid() && it->key().starts_with(kLeasePrefix); it->Next()) {
      std::string run_id(it->value());
      if (options.running_here && options.running_here(run_id)) continue;
      leased.push_back({std::string(it->key().substr(kLeasePrefix.size())), std::move(run_id), std::nullopt});
    }
    MS_RETURN_IF_ERROR(it->status());
  }
  std::vector<std::string> owner_keys;
  for (const Orphan& o : leased) owner_keys.push_back(OwnerKey(o.run_id));
  MS_ASSIGN_OR_RETURN(auto owners, log.MultiGet(EventLog::kMetaFamily, owner_keys));
  std::vector<std::string> others;  // distinct owners other than this node
  for (size_t i = 0; i < leased.size(); ++i) {
    leased[i].owner = std::move(owners[i]);
    const auto& owner = leased[i].owner;
    if (options.lease_ttl.count() > 0 && owner && *owner != options.holder &&
        std::find(others.begin(), others.end(), *owner) == others.end()) {
      others.push_back(*owner);
    }
  }
  std::vector<std::string> beat_keys;
  for (const std::string& node : others) beat_keys.push_back(HeartbeatKey(node));
  MS_ASSIGN_OR_RETURN(auto beats, log.MultiGet(EventLog::kMetaFamily, beat_keys));
  std::vector<std::string> alive;
  for (size_t i = 0; i < others.size(); ++i) {
    // No row: stopped cleanly (its row deleted), or never beat.
    if (beats[i] && (options.watch == nullptr || options.watch->Alive(others[i], *beats[i], options.lease_ttl))) {
      alive.push_back(others[i]);
    }
  }
  std::vector<Orphan> out;
  for (Orphan& o : leased) {
    if (o.owner && std::find(alive.begin(), alive.end(), *o.owner) != alive.end()) continue;  // its node runs it
    out.push_back(std::move(o));
  }
  return out;
}

// Heartbeat rows of nodes that are gone: a node killed with SIGKILL (or whose machine died)
// never deletes its row, and with the default random node ids each such process left one row
// behind for good. A row is removed once this node has seen it unchanged for a ttl (the
// takeover's judgement) and its node owns no run; the delete expects the value seen, so a node
// that beats meanwhile keeps its row (and a node that beats after all writes it again).
Status SweepHeartbeats(EventLog& log, const RecoveryOptions& options) {
  if (options.lease_ttl.count() <= 0 || options.watch == nullptr) return Status::Ok();
  std::vector<std::pair<std::string, std::string>> dead;  // (node, row)
  std::vector<std::string> owners;
  {
    MS_ASSIGN_OR_RETURN(auto it, log.Scan(EventLog::kMetaFamily));
    for (it->Seek(kHeartbeatPrefix); it->Valid() && it->key().starts_with(kHeartbeatPrefix); it->Next()) {
      std::string node(it->key().substr(kHeartbeatPrefix.size()));
      std::string beat(it->value());
      if (node != options.holder && !options.watch->Alive(node, beat, options.lease_ttl)) {
        dead.emplace_back(std::move(node), std::move(beat));
      }
    }
    MS_RETURN_IF_ERROR(it->status());
    if (dead.empty()) return Status::Ok();  // the usual scan: the owner rows are not read
    for (it->Seek(kOwnerPrefix); it->Valid() && it->key().starts_with(kOwnerPrefix); it->Next()) {
      owners.emplace_back(it->value());
    }
    MS_RETURN_IF_ERROR(it->status());
  }
  for (const auto& [node, beat] : dead) {
    if (std::find(owners.begin(), owners.end(), node) != owners.end()) continue;  // taken over first
    Step sweep;
    sweep.expect.push_back({std::string(EventLog::kMetaFamily), HeartbeatKey(node), beat});
    sweep.writes.push_back({std::string(EventLog::kMetaFamily), HeartbeatKey(node), std::nullopt});
    Status s = log.Append(std::move(sweep)).status();
    if (s.IsFailedPrecondition()) continue;  // it beat again, or another node removed it first
    MS_RETURN_IF_ERROR(s);
    spdlog::info("heartbeat row of node {} removed: unchanged for {} ms and the node owns no run", node,
                 options.lease_ttl.count());
  }
  return Status::Ok();
}

}  // namespace

Status RecoverRuns(RunJournal& journal, const RecoveryOptions& options) {
  MS_ASSIGN_OR_RETURN(std::vector<Orphan> orphans, FindOrphans(journal.log(), options));
  for (const auto& [account, run_id, owner] : orphans) {
    MS_ASSIGN_OR_RETURN(RunState st, journal.Load(run_id, false));
    RunRecord& r = st.record;
    if (r.terminal()) {
      // Cannot happen (the terminal step releases the lease), but never leave an account stuck.
      MS_RETURN_IF_ERROR(journal.log().Append(RunJournal::ReleaseStep(r)).status());
      continue;
    }
    // The takeover: this node becomes the run's owner, provided nobody else did meanwhile; from
    // here every step of the run expects it, so the old owner can write nothing more for it.
    Step takeover;
    takeover.expect.push_back({std::string(EventLog::kMetaFamily), OwnerKey(run_id), owner});
    takeover.writes.push_back({std::string(EventLog::kMetaFamily), OwnerKey(run_id), options.holder});
    std::vector<NewEvent> events;
    if (r.status != kRunInterrupted) {
      SyncInterrupted ev;
      ev.last_committed_page = r.last_page;
      ev.reason = owner && *owner != options.holder && options.lease_ttl.count() > 0
                      ? "its node (" + *owner + ") stopped beating"
                  : options.while_serving ? "it stopped on an error (a write the log refused)"
                                          : "found unfinished at start-up";
      events.push_back(MakeEvent(ev));
    }
    const bool resume = options.configured(account) && options.resume && r.attempt < options.max_attempts;
    if (resume) {
      SyncResumed resumed;
      resumed.attempt = r.attempt + 1;
      resumed.from_page = r.last_page + 1;
      events.push_back(MakeEvent(resumed));
    }
    Status taken = journal.Append(st, std::move(events), std::move(takeover));
    if (taken.IsFailedPrecondition()) continue;  // another node took it first
    MS_RETURN_IF_ERROR(taken);
    st.holder = options.holder;
    if (!options.configured(account)) {
      MS_RETURN_IF_ERROR(journal.FinishFailed(st, 0, ErrorClass::kConfig, "account " + account + " is no longer configured"));
      continue;
    }
    if (!resume) {
      MS_RETURN_IF_ERROR(journal.FinishFailed(
          st, 0, ErrorClass::kInterrupted,
          !options.resume ? "interrupted, and resuming is switched off"
                          : "interrupted after " + std::to_string(r.attempt) + " attempts, the limit"));
      continue;
    }
    spdlog::info("run {} resumed: attempt {}, from page {}", run_id, r.attempt, r.last_page + 1);
    options.launch(run_id);
  }
  return SweepHeartbeats(journal.log(), options);
}

}  // namespace marketsync
