#include "pglog/pg_arrays.h"

namespace marketsync::pglog {

std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const std::string& s : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string ByteaArray(const std::vector<std::string>& items) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t size = 2;
  for (const std::string& s : items) size += s.size() * 2 + 6;
  std::string out;
  out.reserve(size);
  out += '{';
  for (const std::string& s : items) {
    if (out.size() > 1) out += ',';
    out += "\"\\\\x";  // the element's text is \x…, its backslash escaped for the array
    for (unsigned char c : s) {
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    out += '"';
  }
  return out + "}";
}

std::string IntArray(const std::vector<uint64_t>& items) {
  std::string out = "{";
  for (uint64_t v : items) {
    if (out.size() > 1) out += ',';
    out += std::to_string(v);
  }
  return out + "}";
}

}  // namespace marketsync::pglog
