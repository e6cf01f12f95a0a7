#include "projections/offer_history.h"

#include <fmt/format.h>

#include "schema/payload_codec.h"
#include "schema/stream_ids.h"

namespace marketsync {
namespace {

// The offer's fields as an event states them. v1 product events carry no summary: their
// changes are empty, never guessed.
struct Decoded {
  std::string account;
  uint64_t offer_id = 0;
  std::string run_id;
  std::vector<std::string> changed_fields;
  std::string raw_json;
  OfferSummary summary;
};

Result<Decoded> Decode(const Envelope& e) {
  Decoded d;
  switch (static_cast<EventType>(e.type)) {
    case EventType::kProductCreated: {
      MS_ASSIGN_OR_RETURN(auto p, DecodePayload<ProductCreated>(e.payload_version, e.payload));
      d = {std::move(p.account), p.offer_id, std::move(p.run_id), {}, std::move(p.raw_json), std::move(p.summary)};
      break;
    }
    case EventType::kProductUpdated: {
      MS_ASSIGN_OR_RETURN(auto p, DecodePayload<ProductUpdated>(e.payload_version, e.payload));
      d = {std::move(p.account), p.offer_id, std::move(p.run_id), std::move(p.changed_fields),
           std::move(p.raw_json), std::move(p.summary)};
      break;
    }
    case EventType::kProductRemoved: {
      MS_ASSIGN_OR_RETURN(auto p, DecodePayload<ProductRemoved>(e.payload_version, e.payload));
      d = {std::move(p.account), p.offer_id, std::move(p.run_id), {}, {}, {}};
      break;
    }
    default:
      return Status::Corruption(fmt::format("event {} of stream {} is not a product event", e.seq, e.stream_id));
  }
  return d;
}

bool Within(const Envelope& e, const FoldLimit& limit) {
  return (!limit.to_seq || e.seq <= *limit.to_seq) && (!limit.to_time_us || e.recorded_at_us <= *limit.to_time_us);
}

}  // namespace

std::vector<FieldChange> DiffSummaries(const OfferSummary& before, const OfferSummary& after) {
  std::vector<FieldChange> out;
  auto add = [&out](const char* field, std::string old_value, std::string new_value) {
    if (old_value != new_value) out.push_back({field, std::move(old_value), std::move(new_value)});
  };
  add("price", before.sale_price, after.sale_price);
  add("currency", before.currency, after.currency);
  add("stock", std::to_string(before.stock), std::to_string(after.stock));
  add("status", std::to_string(before.status), std::to_string(after.status));
  add("name", before.name, after.name);
  add("sku", before.part_number, after.part_number);
  return out;
}

Result<OfferHistory> ReadOfferHistory(const EventLog& log, std::string_view account, uint64_t offer_id,
                                      const FoldLimit& limit) {
  const std::string stream = ProductStreamId(account, offer_id);
  MS_ASSIGN_OR_RETURN(std::vector<Envelope> events, log.ReadStream(stream));
  OfferHistory h;
  h.account = account;
  h.offer_id = offer_id;
  OfferSummary last;       // the summary the previous event left
  bool have_last = false;  // false before the first event and after a removal
  for (const Envelope& e : events) {
    if (!Within(e, limit)) break;
    MS_ASSIGN_OR_RETURN(Decoded d, Decode(e));
    if (d.account != account || d.offer_id != offer_id) {
      return Status::Corruption(fmt::format("event {} of stream {} names offer {}-{}", e.seq, stream, d.account,
                                            d.offer_id));
    }
    OfferChange c{e.seq, e.recorded_at_us, std::move(d.run_id), "", std::move(d.changed_fields), {}, {}};
    const EventType type = static_cast<EventType>(e.type);
    if (type == EventType::kProductRemoved) {
      c.kind = "removed";
      c.summary = last;
      have_last = false;
    } else {
      c.kind = type == EventType::kProductCreated ? "created" : "updated";
      const bool summarised = !d.summary.part_number.empty() || !d.summary.name.empty() || !d.summary.sale_price.empty();
      if (have_last && summarised) c.changes = DiffSummaries(last, d.summary);
      c.summary = d.summary;
      last = std::move(d.summary);
      have_last = summarised;
      h.raw_json = std::move(d.raw_json);
    }
    h.removed = type == EventType::kProductRemoved;
    h.changes.push_back(std::move(c));
  }
  if (h.changes.empty()) {
    return Status::NotFound(fmt::format("no offer {} of account {} in the log{}", offer_id, account,
                                        limit.to_seq || limit.to_time_us ? " at that point" : ""));
  }
  return h;
}

}  // namespace marketsync
