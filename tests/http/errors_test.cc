// The one Status -> HTTP mapping, and the error body the seed's page reads.

#include "http/errors.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace marketsync::http {
namespace {

TEST(ErrorsTest, EveryCodeMapsToAStatusAndAStableCode) {
  struct Case {
    Status status;
    int http;
    const char* code;
  };
  const Case cases[] = {
      {Status::InvalidArgument("x"), 400, "invalid_argument"}, {Status::NotFound("x"), 404, "not_found"},
      {Status::FailedPrecondition("x"), 409, "conflict"},      {Status::PermissionDenied("x"), 403, "permission_denied"},
      {Status::Unavailable("x"), 503, "unavailable"},          {Status::DeadlineExceeded("x"), 504, "deadline_exceeded"},
      {Status::Cancelled("x"), 409, "cancelled"},              {Status::Corruption("x"), 500, "corruption"},
      {Status::IOError("x"), 500, "io_error"},                 {Status::Internal("x"), 500, "internal"},
  };
  for (const Case& c : cases) {
    const HttpError e = ToHttpError(c.status);
    EXPECT_EQ(e.status, c.http) << c.status.ToString();
    EXPECT_EQ(e.code, c.code) << c.status.ToString();
  }
}

TEST(ErrorsTest, AConflictOnASyncStartIsABusyAccount) {
  const HttpError busy = ToHttpError(Status::FailedPrecondition("account main is busy"), Operation::kStartSync);
  EXPECT_EQ(busy.status, 409);
  EXPECT_EQ(busy.code, "account_busy");
  // Other failures of a start map as anywhere else.
  EXPECT_EQ(ToHttpError(Status::InvalidArgument("x"), Operation::kStartSync).code, "invalid_argument");
  EXPECT_EQ(ToHttpError(Status::Unavailable("x"), Operation::kStartSync).status, 503);
}

TEST(ErrorsTest, AFailedUpstreamCallIsABadGatewayClassedByWhy) {
  EXPECT_EQ(ToHttpError(Status::PermissionDenied("x"), Operation::kUpstreamCall).code, "upstream_permission_denied");
  EXPECT_EQ(ToHttpError(Status::Unavailable("x"), Operation::kUpstreamCall).code, "upstream_unavailable");
  EXPECT_EQ(ToHttpError(Status::DeadlineExceeded("x"), Operation::kUpstreamCall).code, "upstream_unavailable");
  const HttpError other = ToHttpError(Status::InvalidArgument("x"), Operation::kUpstreamCall);
  EXPECT_EQ(other.status, 502);
  EXPECT_EQ(other.code, "upstream_error");
}

TEST(ErrorsTest, TheBodyCarriesTheMessageTwice) {
  const auto v = boost::json::parse(ErrorBody("account_busy", "account \"main\" is busy"));
  EXPECT_EQ(v.at("error").at("code").as_string(), "account_busy");
  EXPECT_EQ(v.at("error").at("message").as_string(), "account \"main\" is busy");
  EXPECT_EQ(v.at("detail").as_string(), "account \"main\" is busy");
}

}  // namespace
}  // namespace marketsync::http
