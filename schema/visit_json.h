#pragma once

// Any struct with a Visit member (payloads, read-model rows) as a Boost.JSON object: the same
// one field list that drives the binary codec names the JSON members. Include only in .cc files
// that render JSON.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <type_traits>

#include "schema/payload_codec.h"

namespace marketsync {

template <typename T>
boost::json::value JsonOf(const T& field);

// The first `max_fields` fields (a payload of an older version renders as what it held).
template <typename T>
boost::json::object JsonObjectOf(const T& value, size_t max_fields = SIZE_MAX) {
  boost::json::object o;
  size_t n = 0;
  const_cast<T&>(value).Visit([&o, &n, max_fields](const char* name, const auto& field) {
    if (n++ < max_fields) o[name] = JsonOf(field);
  });
  return o;
}

template <typename T>
boost::json::value JsonOf(const T& field) {
  if constexpr (payload_internal::Visitable<T>) {
    return JsonObjectOf(field);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return boost::json::string(field);
  } else if constexpr (payload_internal::Sequence<T>) {
    boost::json::array a;
    a.reserve(field.size());
    for (const auto& item : field) a.push_back(JsonOf(item));
    return a;
  } else if constexpr (std::is_same_v<T, bool>) {
    return boost::json::value(field);
  } else if constexpr (std::is_unsigned_v<T>) {
    return boost::json::value(static_cast<uint64_t>(field));
  } else {
    return boost::json::value(static_cast<int64_t>(field));
  }
}

}  // namespace marketsync
