#include "http/internal/event_stream.h"

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <charconv>

#include "http/internal/params.h"
#include "projections/json_views.h"
#include "schema/event_type.h"
#include "schema/stream_ids.h"

namespace marketsync::http {

Result<uint64_t> StreamStart(const Request& req) {
  MS_ASSIGN_OR_RETURN(uint64_t after, UintParam(req, "after", 0, 0, UINT64_MAX >> 1));
  if (const std::string last = req.Header("Last-Event-ID"); !last.empty()) {
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(last.data(), last.data() + last.size(), n);
    if (ec != std::errc() || p != last.data() + last.size()) return Status::InvalidArgument("Last-Event-ID must be a seq");
    after = n;
  }
  return after;
}

Result<std::string> NextEventChunk(const EventLog& log, uint64_t* next, bool runs_only, size_t max_events) {
  std::string chunk;
  size_t n = 0;
  for (auto it = log.Read(*next); it->Valid() && n < max_events; it->Next(), ++n) {
    const Envelope& e = it->envelope();
    if (runs_only && !IsRunStream(e.stream_id)) {
      *next = e.seq + 1;
      continue;
    }
    MS_ASSIGN_OR_RETURN(auto j, EventJson(e));
    chunk += fmt::format("id: {}\nevent: {}\ndata: {}\n\n", e.seq, EventTypeName(e.type), RenderJson(j));
    *next = e.seq + 1;
  }
  return chunk;
}

}  // namespace marketsync::http
