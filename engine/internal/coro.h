#pragma once

// The engine's runs are C++20 coroutines on the IoPool (Boost.Asio's awaitable): a run waits
// for pages and synced writes without holding a thread. Included by the engine's .cc files
// that run them, never by a public header.

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <utility>

#include "base/status.h"

namespace marketsync {

template <typename T>
using Task = boost::asio::awaitable<T>;

// Awaits a callback API: `start` is called with a function that takes the result (from any
// thread, once); the coroutine resumes on its own executor with it.
template <typename T, typename Start>
Task<T> AwaitCallback(Start start) {
  auto ex = co_await boost::asio::this_coro::executor;
  co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(T)>(
      [&start, ex](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        start([h, ex](T value) {
          boost::asio::post(ex, [h, value = std::move(value)]() mutable { std::move(*h)(std::move(value)); });
        });
      },
      boost::asio::use_awaitable);
}

}  // namespace marketsync

// MS_RETURN_IF_ERROR and MS_ASSIGN_OR_RETURN for coroutines (co_return).
#define MS_CO_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::marketsync::Status ms_status_ = (expr);    \
    if (!ms_status_.ok()) co_return ms_status_;  \
  } while (0)

#define MS_CO_ASSIGN_OR_RETURN(lhs, expr) MS_CO_ASSIGN_OR_RETURN_IMPL(MS_CONCAT(ms_result_, __LINE__), lhs, expr)
#define MS_CO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) co_return tmp.status();            \
  lhs = std::move(tmp).value()
