#include "http/internal/routes.h"

namespace marketsync::http {

bool MatchPattern(std::string_view pattern, std::string_view path, std::string* id) {
  constexpr std::string_view kId = "{id}";
  const size_t at = pattern.find(kId);
  if (at == std::string_view::npos) return pattern == path;
  const std::string_view before = pattern.substr(0, at), after = pattern.substr(at + kId.size());
  if (path.size() <= before.size() + after.size() || !path.starts_with(before) || !path.ends_with(after)) return false;
  const std::string_view segment = path.substr(before.size(), path.size() - before.size() - after.size());
  if (segment.find('/') != std::string_view::npos) return false;
  if (id != nullptr) id->assign(segment);
  return true;
}

void RouteTable::Add(Route route) { routes_.push_back(std::move(route)); }

RouteTable::Match RouteTable::Find(std::string_view method, std::string_view path) const {
  if (method == "HEAD") method = "GET";
  Match m;
  for (const Route& r : routes_) {
    if (r.method == method && MatchPattern(r.pattern, path, &m.id)) {
      m.route = &r;
      return m;
    }
  }
  m.id.clear();
  return m;
}

std::string RouteTable::Allowed(std::string_view path) const {
  std::string out;
  for (const Route& r : routes_) {
    if (!MatchPattern(r.pattern, path, nullptr) || out.find(r.method) != std::string::npos) continue;
    out += (out.empty() ? "" : ", ") + r.method;
  }
  return out;
}

std::string RouteTable::Label(std::string_view path) const {
  for (const Route& r : routes_) {
    if (MatchPattern(r.pattern, path, nullptr)) return r.pattern;
  }
  return "other";
}

}  // namespace marketsync::http
