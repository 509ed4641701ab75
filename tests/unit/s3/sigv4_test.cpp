// Tests for s3/sigv4: encoding rules, and known answers computed by an
// independent implementation. The expected Authorization headers and the
// presigned URL were printed by gen_sigv4_vectors.py (beside this file),
// which runs botocore's S3SigV4Auth / S3SigV4QueryAuth with the same
// credentials, requests and time (2024-02-29T12:34:56Z).

#include "s3/sigv4.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth::s3::sigv4 {
namespace {

const Secret kSecret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");

Clock::time_point Now() {
  // 2024-02-29T12:34:56Z
  return Clock::time_point(std::chrono::seconds(1709210096));
}

Credentials Creds(std::string region = "us-east-1") {
  return {"AKIDEXAMPLE", &kSecret, std::move(region), "s3"};
}

std::string Header(const Params& headers, const std::string& name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "<missing " + name + ">";
}

TEST(SigV4, UriEncode) {
  struct Case {
    const char* in;
    bool keep_slash;
    const char* out;
  } cases[] = {
      {"AZaz09-_.~", false, "AZaz09-_.~"},
      {"a b", false, "a%20b"},
      {"a+b=c&d", false, "a%2Bb%3Dc%26d"},
      {"a/b", false, "a%2Fb"},
      {"/a/b c", true, "/a/b%20c"},
      {"\xc3\xbc", true, "%C3%BC"},
      {"%", false, "%25"},
      {"", false, ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(UriEncode(c.in, c.keep_slash), c.out) << c.in;
  }
}

TEST(SigV4, AmzDateAndSha) {
  EXPECT_EQ(AmzDate(Now()), "20240229T123456Z");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4, CanonicalQuerySortsEncodedNamesThenValues) {
  EXPECT_EQ(CanonicalQuery({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(CanonicalQuery({{"b", "2"}, {"a", "x y"}, {"b", "1"}}), "a=x%20y&b=1&b=2");
}

TEST(SigV4, CanonicalRequestTrimsAndLowerCasesHeaders) {
  Request r{"PUT", "h:1", "/b/k", {}, {{"X-Amz-Meta-A", "  x   y "}}, "UNSIGNED-PAYLOAD"};
  EXPECT_EQ(CanonicalRequest(r),
            "PUT\n/b/k\n\nhost:h:1\nx-amz-meta-a:x y\n\nhost;x-amz-meta-a\nUNSIGNED-PAYLOAD");
}

TEST(SigV4, GetWithQueryNeedingEncoding) {
  Request r;
  r.method = "GET";
  r.host = "127.0.0.1:7480";
  r.path = "/berth-test";
  r.query = {{"list-type", "2"},
             {"prefix", "a b/\xc3\xbc+="},
             {"continuation-token", "1/+=="},
             {"max-keys", "2"}};
  r.payload_hash = Sha256Hex("");
  Params h = SignHeaders(r, Creds(), Now());
  EXPECT_EQ(Header(h, "x-amz-date"), "20240229T123456Z");
  EXPECT_EQ(Header(h, "x-amz-content-sha256"), Sha256Hex(""));
  EXPECT_EQ(Header(h, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240229/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
            "Signature=7d3f2fce721d8da77ae055f58641769a34425c2d91298913f633b9713f5f3312");
}

TEST(SigV4, PutWithPayloadHashAndTrimmedHeader) {
  Request r;
  r.method = "PUT";
  r.host = "127.0.0.1:7480";
  r.path = "/berth-test/blobs/x";
  r.headers = {{"X-Amz-Meta-Note", "  a    b  "}, {"Content-Type", "application/octet-stream"}};
  r.payload_hash = Sha256Hex("hello world\n");
  EXPECT_EQ(r.payload_hash, "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");
  Params h = SignHeaders(r, Creds(), Now());
  EXPECT_EQ(Header(h, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240229/us-east-1/s3/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-note, "
            "Signature=59c37959fb7e97260f903dfabc2988a0e09b8ef63d5cb0e84cccd0f4c915fcc4");
}

TEST(SigV4, KeyWithSpacesUnicodePlusAndEquals) {
  Request r;
  r.method = "PUT";
  r.host = "s3.example:9000";
  r.path = "/b/dir/a key+\xc3\xa9=\xe6\xbc\xa2.txt";
  r.payload_hash = std::string(kUnsignedPayload);
  Params h = SignHeaders(r, Creds("eu-west-3"), Now());
  EXPECT_EQ(Header(h, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(Header(h, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240229/eu-west-3/s3/aws4_request, "
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
            "Signature=70930c98485a794cd6bd1988f21e3d6ea9ee1f0eca5b10ddea21d690c3d717de");
}

TEST(SigV4, PresignedGet) {
  Request r;
  r.method = "GET";
  r.host = "127.0.0.1:7480";
  r.path = "/berth-test/some key+\xc3\xbc";
  EXPECT_EQ("http://127.0.0.1:7480" + PresignPathAndQuery(r, Creds(), Now(), 600),
            "http://127.0.0.1:7480/berth-test/some%20key%2B%C3%BC?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIDEXAMPLE%2F20240229%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20240229T123456Z&X-Amz-Expires=600&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=14cc681c60437e1771d44aa0374da8438b616682e1327428a7a399258492a640");
}

TEST(SigV4, SignatureChangesWithSecret) {
  Request r{"GET", "h", "/b/k", {}, {}, std::string(kUnsignedPayload)};
  Secret other("x");
  Credentials a = Creds();
  Credentials b = Creds();
  b.secret_key = &other;
  EXPECT_NE(Header(SignHeaders(r, a, Now()), "authorization"),
            Header(SignHeaders(r, b, Now()), "authorization"));
}

}  // namespace
}  // namespace berth::s3::sigv4
