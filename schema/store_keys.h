#pragma once

// The sync domain's state beside the log. The product state has a column family of its own,
// written by the engine through Step::writes:
//   engine_products: account 0x00 offer_id:u64be -> ProductState (engine/offer_fingerprint.h)
// and so have the stored accounts' credentials, sealed, outside the chain so they can be deleted:
//   engine_credentials: account -> sealed credentials (engine/sealed_credentials.h)
// and these keys live in the log's `meta` column family (docs/event-log-format.md):
//   lease/<account>           -> the run id holding the account (single flight)
//   owner/<run id>            -> the node executing the run (every step of the run expects it:
//                                a node that lost the run can write nothing more for it)
//   heartbeat/<node>          -> until when the node is alive (UTC µs, decimal); renewed by the
//                                node, deleted when it stops (or, once it has not changed for a
//                                ttl and the node owns no run, by another node); several nodes
//                                on one log only
//   idempotency/<key>         -> IdempotencyRecord of the start that used the key
//   product_state_derived_at  -> the head seq when the product state was derived from the log

#include <string>
#include <string_view>
#include <vector>

namespace marketsync {

inline constexpr std::string_view kProductsFamily = "engine_products";
inline constexpr std::string_view kCredentialsFamily = "engine_credentials";

inline constexpr std::string_view kLeasePrefix = "lease/";
inline constexpr std::string_view kIdempotencyPrefix = "idempotency/";
inline constexpr std::string_view kOwnerPrefix = "owner/";
inline constexpr std::string_view kHeartbeatPrefix = "heartbeat/";
// A run's step chain: how many steps its attempts have appended, each step expecting the count
// the one before it left (engine/run_journal.cc).
inline constexpr std::string_view kChainPrefix = "chain/";
inline constexpr std::string_view kProductStateDerivedKey = "product_state_derived_at";
// The longest Idempotency-Key a start accepts, in bytes.
inline constexpr size_t kMaxIdempotencyKey = 200;

inline std::string LeaseKey(std::string_view account) { return std::string(kLeasePrefix) + std::string(account); }
inline std::string IdempotencyKey(std::string_view key) { return std::string(kIdempotencyPrefix) + std::string(key); }
inline std::string OwnerKey(std::string_view run_id) { return std::string(kOwnerPrefix) + std::string(run_id); }
inline std::string HeartbeatKey(std::string_view node) { return std::string(kHeartbeatPrefix) + std::string(node); }
inline std::string ChainKey(std::string_view run_id) { return std::string(kChainPrefix) + std::string(run_id); }

// What an idempotency key maps to (stored with EncodeFields).
struct IdempotencyRecord {
  std::string group_id;
  std::vector<std::string> run_ids;
  std::vector<std::string> accounts;
  template <class V> void Visit(V&& v) {
    v("group_id", group_id);
    v("run_ids", run_ids);
    v("accounts", accounts);
  }
};

}  // namespace marketsync
