#pragma once

// A JSON reply, rendered as every answer of the API is (RenderJson: fixed decimals). Include in
// .cc files only (Boost.JSON).

#include <boost/json/value.hpp>

#include "http/internal/request.h"
#include "projections/json_views.h"

namespace marketsync::http {

inline Reply JsonReply(int status, const boost::json::value& v) { return {status, RenderJson(v), "application/json", {}}; }

}  // namespace marketsync::http
