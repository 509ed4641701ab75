// Tests for s3/xml: the fields read from S3's responses (bodies as RGW and
// AWS send them), an <Error> inside a 200, the size limit, malformed input.

#include "s3/xml.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth::s3::xml {
namespace {

constexpr const char* kDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

TEST(S3Xml, Error) {
  auto r = Parse(std::string(kDecl) +
                 "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist."
                 "</Message><Key>a/b</Key><RequestId>tx1</RequestId></Error>");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->root, "Error");
  ASSERT_TRUE(r->error);
  EXPECT_EQ(r->error->code, "NoSuchKey");
  EXPECT_EQ(r->error->message, "The specified key does not exist.");
}

TEST(S3Xml, ErrorWithoutMessage) {
  auto r = Parse("<Error><Code>NoSuchUpload</Code><BucketName>b</BucketName></Error>");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->error);
  EXPECT_EQ(r->error->code, "NoSuchUpload");
  EXPECT_EQ(r->error->message, "");
}

TEST(S3Xml, InitiateMultipart) {
  auto r = Parse(std::string(kDecl) +
                 "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<Bucket>b</Bucket><Key>k</Key><UploadId>2~abc&amp;d</UploadId>"
                 "</InitiateMultipartUploadResult>");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->error);
  EXPECT_EQ(r->upload_id, "2~abc&d");
}

TEST(S3Xml, ListBucketResultPage) {
  auto r = Parse(
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
      "<Prefix>p/</Prefix><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>tok+/=</NextContinuationToken>"
      "<Contents><Key>p/a b</Key><LastModified>x</LastModified><ETag>&quot;e&quot;</ETag>"
      "<Size>12</Size><Owner><ID>o</ID></Owner></Contents>"
      "<Contents><Key>p/\xc3\xbc</Key><Size>18446744073709551615</Size></Contents>"
      "</ListBucketResult>");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->next_token, "tok+/=");
  ASSERT_EQ(r->contents.size(), 2u);
  EXPECT_EQ(r->contents[0], (std::pair<std::string, uint64_t>("p/a b", 12)));
  EXPECT_EQ(r->contents[1], (std::pair<std::string, uint64_t>("p/\xc3\xbc", UINT64_MAX)));
}

TEST(S3Xml, ListBucketResultLastPage) {
  auto r = Parse(
      "<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount>"
      "</ListBucketResult>");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->truncated);
  EXPECT_TRUE(r->contents.empty());
  EXPECT_EQ(r->next_token, "");
}

TEST(S3Xml, ListBadSizeIsAnError) {
  EXPECT_EQ(Parse("<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents>"
                  "</ListBucketResult>")
                .status()
                .code(),
            Errc::kInternal);
  EXPECT_EQ(Parse("<ListBucketResult><Contents><Key>a</Key></Contents></ListBucketResult>")
                .status()
                .code(),
            Errc::kInternal);
}

TEST(S3Xml, CompleteMultipartResult) {
  auto r = Parse(
      "<CompleteMultipartUploadResult><Location>l</Location><Bucket>b</Bucket>"
      "<Key>k</Key><ETag>\"abc-3\"</ETag></CompleteMultipartUploadResult>");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->error);
  EXPECT_EQ(r->etag, "\"abc-3\"");
}

// S3 may start a 200 for CompleteMultipartUpload or CopyObject, send
// whitespace to keep the connection alive, then fail with an Error body.
TEST(S3Xml, ErrorInsideA200) {
  auto r = Parse(std::string(kDecl) +
                 "\n\n   \n<Error><Code>InternalError</Code>"
                 "<Message>We encountered an internal error.</Message></Error>");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->root, "Error");
  ASSERT_TRUE(r->error);
  EXPECT_EQ(r->error->code, "InternalError");
}

// ... or before the declaration itself.
TEST(S3Xml, WhitespaceBeforeTheDeclaration) {
  auto r = Parse("\n \n\t" + std::string(kDecl) + "<Error><Code>SlowDown</Code></Error>");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->error);
  EXPECT_EQ(r->error->code, "SlowDown");
}

TEST(S3Xml, CopyObjectResult) {
  auto r = Parse(
      "<CopyObjectResult><LastModified>t</LastModified><ETag>\"e\"</ETag>"
      "</CopyObjectResult>");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->etag, "\"e\"");
  EXPECT_FALSE(r->error);
}

TEST(S3Xml, NestedErrorElementIsNotTheDocumentError) {
  auto r = Parse("<ListBucketResult><Error><Code>X</Code></Error></ListBucketResult>");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->error);
}

TEST(S3Xml, RefusesTooLarge) {
  std::string body = "<Error><Code>" + std::string(100, 'x') + "</Code></Error>";
  EXPECT_EQ(Parse(body, 50).status().code(), Errc::kTooLarge);
  EXPECT_TRUE(Parse(body, body.size()).ok());
}

TEST(S3Xml, Malformed) {
  const char* bad[] = {"",        "  \n",          "<Error>", "<Error><Code>x</Error>",
                       "not xml", "<a></a><b></b>"};
  for (const char* b : bad) {
    auto r = Parse(b);
    EXPECT_EQ(r.status().code(), Errc::kInternal) << b;
  }
}

TEST(S3Xml, CompleteMultipartBodyEscapes) {
  EXPECT_EQ(CompleteMultipartBody({{1, "\"a\""}, {2, "b&c"}}),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag>"
            "</Part><Part><PartNumber>2</PartNumber><ETag>b&amp;c</ETag></Part>"
            "</CompleteMultipartUpload>");
  auto back = Parse(CompleteMultipartBody({{1, "\"a\""}}));
  EXPECT_TRUE(back.ok());
}

}  // namespace
}  // namespace berth::s3::xml
