// Tests for the S3 upload state object (storage/s3/upload_state.hpp): a
// round trip, and every inconsistency a corrupt or hostile object could
// carry refused. No S3 needed.

#include <gtest/gtest.h>

#include <string>

#include "crypto/hasher.hpp"
#include "storage/s3/upload_state.hpp"

namespace berth::storage {
namespace {

UploadState Sample() {
  UploadState s;
  s.repository = "library/x";
  s.parts = {{1, "\"e1\"", kS3MinPartSize}, {2, "\"e2\"", 2 * kS3MinPartSize}};
  s.tail = 7;
  s.size = 3 * kS3MinPartSize + 7;
  crypto::Hasher h(DigestAlgorithm::kSha256);
  h.Update({"abc", 3});
  s.hash = h.SaveState();
  s.generation = 4;
  s.upload_id = "2~abc";
  s.created = 1764780000;
  s.updated = 1764780042;
  return s;
}

TEST(S3UploadStateTest, RoundTrip) {
  const UploadState s = Sample();
  auto back = DecodeUploadState(EncodeUploadState(s), "id");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->repository, s.repository);
  EXPECT_EQ(back->size, s.size);
  ASSERT_EQ(back->parts.size(), 2u);
  EXPECT_EQ(back->parts[1].number, 2);
  EXPECT_EQ(back->parts[1].etag, "\"e2\"");
  EXPECT_EQ(back->parts[1].size, 2 * kS3MinPartSize);
  EXPECT_EQ(back->hash, s.hash);
  EXPECT_EQ(back->tail, s.tail);
  EXPECT_EQ(back->generation, s.generation);
  EXPECT_EQ(back->upload_id, s.upload_id);
  EXPECT_EQ(back->created, s.created);
  EXPECT_EQ(back->updated, s.updated);

  UploadState empty;
  empty.repository = "r";
  empty.hash = crypto::Hasher(DigestAlgorithm::kSha256).SaveState();
  ASSERT_TRUE(DecodeUploadState(EncodeUploadState(empty), "id").ok());
}

TEST(S3UploadStateTest, InconsistentStatesAreRefused) {
  auto refused = [](const UploadState& s) {
    auto r = DecodeUploadState(EncodeUploadState(s), "0123");
    return !r.ok() && r.status().code() == Errc::kInternal &&
           r.status().message().find("0123") != std::string::npos;
  };
  UploadState s = Sample();
  s.size += 1;  // parts + tail no longer add up
  EXPECT_TRUE(refused(s));
  s = Sample();
  s.parts[1].number = 3;  // a gap
  EXPECT_TRUE(refused(s));
  s = Sample();
  s.parts[0].size = kS3MinPartSize - 1;  // S3 would refuse it at completion
  s.size -= 1;
  EXPECT_TRUE(refused(s));
  s = Sample();
  s.parts[0].etag = "";
  EXPECT_TRUE(refused(s));
  s = Sample();
  s.upload_id = "";  // parts of no upload
  EXPECT_TRUE(refused(s));
  s = Sample();
  s.repository = "";
  EXPECT_TRUE(refused(s));
}

TEST(S3UploadStateTest, MalformedJsonIsRefused) {
  const std::string good = EncodeUploadState(Sample());
  for (const std::string& bad :
       {std::string(""), std::string("[]"), std::string("{\"version\":1}"),
        good.substr(0, good.size() / 2),
        std::string(good).replace(good.find("\"version\":1"), 11, "\"version\":2"),
        std::string(good).replace(good.find("\"size\":"), 7, "\"size\":-"),
        std::string(good).replace(good.find("\"hash\":\"") + 8, 1, "z")}) {
    auto r = DecodeUploadState(bad, "id");
    EXPECT_FALSE(r.ok()) << bad;
  }
}

}  // namespace
}  // namespace berth::storage
