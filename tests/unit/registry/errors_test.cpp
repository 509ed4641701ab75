// Tests for the domain-error → OCI-error table and the JSON error envelope
// (registry/errors.hpp).

#include "registry/errors.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

namespace berth::registry {
namespace {

namespace json = boost::json;

struct Wire {
  Errc errc;
  const char* code;
  int status;
};

// Every Errc, in declaration order. Codes are the OCI distribution-spec's
// (plus the reference registry's PAGINATION_NUMBER_INVALID and UNKNOWN).
constexpr Wire kTable[] = {
    {Errc::kOk, "", 200},
    {Errc::kNameInvalid, "NAME_INVALID", 400},
    {Errc::kNameUnknown, "NAME_UNKNOWN", 404},
    {Errc::kTagInvalid, "MANIFEST_INVALID", 400},
    {Errc::kDigestInvalid, "DIGEST_INVALID", 400},
    {Errc::kBlobUnknown, "BLOB_UNKNOWN", 404},
    {Errc::kBlobUploadUnknown, "BLOB_UPLOAD_UNKNOWN", 404},
    {Errc::kBlobUploadInvalid, "BLOB_UPLOAD_INVALID", 400},
    {Errc::kRangeInvalid, "BLOB_UPLOAD_INVALID", 416},
    {Errc::kManifestInvalid, "MANIFEST_INVALID", 400},
    {Errc::kManifestUnknown, "MANIFEST_UNKNOWN", 404},
    {Errc::kManifestBlobUnknown, "MANIFEST_BLOB_UNKNOWN", 400},
    {Errc::kSizeInvalid, "SIZE_INVALID", 400},
    {Errc::kTooLarge, "SIZE_INVALID", 413},
    {Errc::kPaginationInvalid, "PAGINATION_NUMBER_INVALID", 400},
    {Errc::kUnsupported, "UNSUPPORTED", 405},
    {Errc::kNotFound, "NOT_FOUND", 404},
    {Errc::kMethodNotAllowed, "UNSUPPORTED", 405},
    {Errc::kScopeInvalid, "UNSUPPORTED", 400},
    {Errc::kUnauthorized, "UNAUTHORIZED", 401},
    {Errc::kDenied, "DENIED", 403},
    {Errc::kTooManyRequests, "TOOMANYREQUESTS", 429},
    {Errc::kBusy, "BLOB_UPLOAD_INVALID", 409},
    {Errc::kNoSpace, "UNKNOWN", 507},
    {Errc::kUnavailable, "UNAVAILABLE", 503},
    {Errc::kInternal, "UNKNOWN", 500},
};

TEST(ToWireTest, MapsEveryErrc) {
  // The table covers the enum without gaps: entry i is Errc value i.
  for (size_t i = 0; i < std::size(kTable); ++i) {
    ASSERT_EQ(static_cast<size_t>(kTable[i].errc), i) << "table out of step with enum Errc";
  }
  ASSERT_EQ(static_cast<size_t>(Errc::kInternal) + 1, std::size(kTable));
  for (const auto& w : kTable) {
    SCOPED_TRACE(w.code);
    WireError got = ToWire(w.errc);
    EXPECT_EQ(got.code, w.code) << "Errc " << static_cast<int>(w.errc);
    EXPECT_EQ(got.http_status, w.status) << "Errc " << static_cast<int>(w.errc);
  }
}

TEST(ToWireTest, ErrorsAreClientOrServerErrors) {
  for (const auto& w : kTable) {
    if (w.errc == Errc::kOk) continue;
    WireError got = ToWire(w.errc);
    EXPECT_GE(got.http_status, 400) << static_cast<int>(w.errc);
    EXPECT_LE(got.http_status, 599) << static_cast<int>(w.errc);
    EXPECT_FALSE(got.code.empty()) << static_cast<int>(w.errc);
  }
}

TEST(ToWireTest, OutOfRangeValueIsInternal) {
  WireError got = ToWire(static_cast<Errc>(9999));
  EXPECT_EQ(got.code, "UNKNOWN");
  EXPECT_EQ(got.http_status, 500);
}

std::string HeaderValue(const http::Response& r, std::string_view name) {
  auto v = http::FindField(r.headers, name);
  return v ? std::string(*v) : std::string("<missing>");
}

// Parses the envelope and returns its single error object.
json::object SingleError(const http::Response& r) {
  json::value doc = json::parse(r.body);
  const json::object& root = doc.as_object();
  EXPECT_EQ(root.size(), 1u) << r.body;
  const json::array& errors = root.at("errors").as_array();
  EXPECT_EQ(errors.size(), 1u) << r.body;
  return errors.at(0).as_object();
}

TEST(ErrorResponseTest, OciEnvelopeForEveryError) {
  for (const auto& w : kTable) {
    if (w.errc == Errc::kOk) continue;
    SCOPED_TRACE(w.code);
    http::Response r = ErrorResponse(Status(w.errc, "something about \"x\"\n"));
    EXPECT_EQ(r.status, w.status);
    EXPECT_EQ(HeaderValue(r, "content-type"), "application/json");
    EXPECT_EQ(HeaderValue(r, "Docker-Distribution-Api-Version"), "registry/2.0");
    EXPECT_FALSE(r.file.has_value());
    json::object err = SingleError(r);
    EXPECT_EQ(err.at("code").as_string(), w.code);
    EXPECT_TRUE(err.at("message").is_string());
    EXPECT_TRUE(err.contains("detail"));
  }
}

TEST(ErrorResponseTest, TooManyRequestsSaysWhenToRetry) {
  http::Response r = ErrorResponse(Status(Errc::kTooManyRequests, "busy"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(SingleError(r).at("code").as_string(), "TOOMANYREQUESTS");
  EXPECT_EQ(HeaderValue(r, "Retry-After"), "1");
  EXPECT_EQ(HeaderValue(ErrorResponse(Status(Errc::kBusy, "held")), "Retry-After"), "<missing>");
}

TEST(ErrorResponseTest, CarriesTheMessage) {
  http::Response r = ErrorResponse(Status(Errc::kBlobUnknown, "blob \"sha256:x\" unknown"));
  EXPECT_EQ(r.status, 404);
  json::object err = SingleError(r);
  EXPECT_EQ(err.at("code").as_string(), "BLOB_UNKNOWN");
  EXPECT_EQ(err.at("message").as_string(), "blob \"sha256:x\" unknown");
  EXPECT_TRUE(err.at("detail").is_null());
}

TEST(ErrorResponseTest, InternalDetailsStayInTheLog) {
  const std::string secret = "open /srv/berth/blobs/sha256/ab: Permission denied";
  for (Errc e : {Errc::kInternal, Errc::kNoSpace}) {
    http::Response r = ErrorResponse(Status(e, secret));
    EXPECT_EQ(r.body.find("/srv/berth"), std::string::npos) << r.body;
    json::object err = SingleError(r);
    EXPECT_EQ(err.at("code").as_string(), "UNKNOWN");
    EXPECT_FALSE(err.at("message").as_string().empty());
  }
}

TEST(NewResponseTest, SetsStatusAndApiVersion) {
  http::Response r = NewResponse(202);
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(HeaderValue(r, "docker-distribution-api-version"), "registry/2.0");
  EXPECT_TRUE(r.body.empty());
}

}  // namespace
}  // namespace berth::registry
