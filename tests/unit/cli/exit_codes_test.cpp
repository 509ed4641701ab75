// Tests for cli/admin/exit_codes.hpp: the exit codes docs/lifecycle.md
// promises for each kind of answer and failure, and the operator's message
// taken from an OCI error body.

#include "cli/admin/exit_codes.hpp"

#include <gtest/gtest.h>

namespace berth::cli::admin {
namespace {

TEST(AdminExitCodes, HttpStatuses) {
  struct Case {
    long status;
    ExitCode code;
  } cases[] = {
      {200, kExitOk},     {202, kExitOk},     {204, kExitOk},     {404, kExitNotFound},
      {400, kExitUsage},  {401, kExitDenied}, {403, kExitDenied}, {429, kExitDenied},
      {405, kExitFailed}, {409, kExitFailed}, {500, kExitFailed}, {502, kExitFailed},
      {503, kExitFailed}, {302, kExitFailed}, {100, kExitFailed},
  };
  for (const auto& c : cases) EXPECT_EQ(ExitCodeForHttp(c.status), c.code) << c.status;
}

TEST(AdminExitCodes, LocalFailures) {
  EXPECT_EQ(ExitCodeFor(Errc::kOk), kExitOk);
  EXPECT_EQ(ExitCodeFor(Errc::kNameUnknown), kExitNotFound);
  EXPECT_EQ(ExitCodeFor(Errc::kManifestUnknown), kExitNotFound);
  EXPECT_EQ(ExitCodeFor(Errc::kNotFound), kExitNotFound);
  EXPECT_EQ(ExitCodeFor(Errc::kNameInvalid), kExitUsage);
  EXPECT_EQ(ExitCodeFor(Errc::kTagInvalid), kExitUsage);
  EXPECT_EQ(ExitCodeFor(Errc::kDigestInvalid), kExitUsage);
  EXPECT_EQ(ExitCodeFor(Errc::kUnauthorized), kExitDenied);
  EXPECT_EQ(ExitCodeFor(Errc::kDenied), kExitDenied);
  EXPECT_EQ(ExitCodeFor(Errc::kTooManyRequests), kExitDenied);
  EXPECT_EQ(ExitCodeFor(Errc::kUnavailable), kExitFailed);  // no connection, TLS
  EXPECT_EQ(ExitCodeFor(Errc::kInternal), kExitFailed);
}

TEST(AdminExitCodes, MessagesFromErrorBodies) {
  EXPECT_EQ(
      ErrorMessage(
          404,
          R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]})"),
      "MANIFEST_UNKNOWN: manifest unknown");
  EXPECT_EQ(
      ErrorMessage(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"a"},{"code":"DENIED"}]})"),
      "UNAUTHORIZED: a; DENIED");
  EXPECT_EQ(ErrorMessage(403, R"({"errors":[{"message":"quota exceeded"}]})"), "quota exceeded");
  // Not an OCI error: the status and the first line of the body.
  EXPECT_EQ(ErrorMessage(502, "<html>Bad Gateway\n<body>...</body>"),
            "HTTP 502: <html>Bad Gateway");
  EXPECT_EQ(ErrorMessage(500, ""), "HTTP 500");
  EXPECT_EQ(ErrorMessage(404, R"({"errors":[]})"), "HTTP 404: {\"errors\":[]}");
  EXPECT_EQ(ErrorMessage(503, R"({"errors":[1,"x",{"code":7}]})"),
            "HTTP 503: {\"errors\":[1,\"x\",{\"code\":7}]}");
  EXPECT_EQ(ErrorMessage(500, std::string(500, 'x')).size(),
            std::string("HTTP 500: ").size() + 200);
}

}  // namespace
}  // namespace berth::cli::admin
