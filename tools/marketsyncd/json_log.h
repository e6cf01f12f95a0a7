#pragma once

// --log-format json: spdlog lines as one JSON object each, {"time", "level", "msg"}.

#include <spdlog/formatter.h>

#include <memory>

namespace marketsync::marketsyncd {

// One JSON object per line: {"time", "level", "msg"}.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace marketsync::marketsyncd
