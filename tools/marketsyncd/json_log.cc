#include "tools/marketsyncd/json_log.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <iterator>
#include <string>

namespace marketsync::marketsyncd {

void JsonFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char when[32];
  std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string text;
  for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
    switch (c) {
      case '"': text += "\\\""; break;
      case '\\': text += "\\\\"; break;
      case '\n': text += "\\n"; break;
      case '\t': text += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          text += fmt::format("\\u{:04x}", c);
        } else {
          text.push_back(c);
        }
    }
  }
  fmt::format_to(std::back_inserter(dest), "{{\"time\":\"{}.{:03d}Z\",\"level\":\"{}\",\"msg\":\"{}\"}}\n", when,
                 static_cast<int>((us % 1'000'000) / 1000), spdlog::level::to_string_view(msg.level), text);
}

}  // namespace marketsync::marketsyncd
