// Tests for ParseManifest (registry/manifest.hpp): media type decisions,
// descriptor validation and the fields extracted for the store.

#include "registry/manifest.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/media_types.hpp"

namespace berth::registry {
namespace {

using Refs = std::vector<std::string>;

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');
const std::string kS = "sha512:" + std::string(128, 'd');
const std::string kOci(media::kOciManifest);
const std::string kIndex(media::kOciIndex);
const std::string kDocker(media::kDockerManifest);
const std::string kDockerList(media::kDockerManifestList);
constexpr char kConfigType[] = "application/vnd.oci.image.config.v1+json";
constexpr char kLayerType[] = "application/vnd.oci.image.layer.v1.tar+gzip";

std::string Desc(const std::string& type, const std::string& digest, const std::string& size = "1",
                 const std::string& extra = "") {
  return R"({"mediaType":")" + type + R"(","digest":")" + digest + R"(","size":)" + size + extra +
         "}";
}

// An image manifest body. `media_type` empty leaves the field out.
std::string Image(const std::string& media_type, const std::string& config,
                  const std::string& layers, const std::string& extra = "") {
  std::string s = R"({"schemaVersion":2)";
  if (!media_type.empty()) s += R"(,"mediaType":")" + media_type + "\"";
  if (!config.empty()) s += R"(,"config":)" + config;
  s += R"(,"layers":)" + layers + extra + "}";
  return s;
}

std::string Index(const std::string& media_type, const std::string& manifests,
                  const std::string& extra = "") {
  std::string s = R"({"schemaVersion":2)";
  if (!media_type.empty()) s += R"(,"mediaType":")" + media_type + "\"";
  return s + R"(,"manifests":)" + manifests + extra + "}";
}

std::string Layers() { return "[" + Desc(kLayerType, kB, "10") + "," + Desc(kLayerType, kC) + "]"; }

TEST(ParseManifestTest, AcceptsKnownKinds) {
  struct Case {
    std::string content_type;
    std::string body;
    std::string media_type;
    Refs blobs;
    Refs manifests;
  } cases[] = {
      {kOci, Image(kOci, Desc(kConfigType, kA), Layers()), kOci, {kA, kB, kC}, {}},
      {kDocker,
       Image(kDocker, Desc("application/vnd.docker.container.image.v1+json", kA),
             "[" + Desc("application/vnd.docker.image.rootfs.diff.tar.gzip", kB) + "]"),
       kDocker,
       {kA, kB},
       {}},
      {kIndex,
       Index(kIndex, "[" + Desc(kOci, kA) + "," + Desc(kOci, kS) + "]"),
       kIndex,
       {},
       {kA, kS}},
      {kDockerList, Index(kDockerList, "[" + Desc(kDocker, kB) + "]"), kDockerList, {}, {kB}},
      // Content-Type parameters and a missing mediaType field are fine.
      {kOci + "; charset=utf-8", Image("", Desc(kConfigType, kA), "[]"), kOci, {kA}, {}},
      {kIndex, Index("", "[]"), kIndex, {}, {}},
      // application/json (or none) falls back to the mediaType field...
      {"application/json",
       Index(kDockerList, "[" + Desc(kDocker, kB) + "]"),
       kDockerList,
       {},
       {kB}},
      {"application/json", Image(kDocker, Desc(kConfigType, kA), "[]"), kDocker, {kA}, {}},
      {"", Image(kOci, Desc(kConfigType, kA), "[]"), kOci, {kA}, {}},
      // ...and then to the shape of the document.
      {"application/json", Index("", "[" + Desc(kOci, kA) + "]"), kIndex, {}, {kA}},
      {"application/json", Image("", Desc(kConfigType, kA), "[]"), kOci, {kA}, {}},
      // Foreign layers (with urls) are not expected in the repository.
      {kDocker,
       Image(kDocker, Desc(kConfigType, kA),
             "[" +
                 Desc("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", kB, "5",
                      R"(,"urls":["https://example.com/layer"])") +
                 "," + Desc(kLayerType, kC) + "]"),
       kDocker,
       {kA, kC},
       {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.content_type + " " + c.body);
    auto m = ParseManifest(c.content_type, c.body);
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_EQ(m->media_type, c.media_type);
    EXPECT_EQ(m->blob_refs, c.blobs);
    EXPECT_EQ(m->manifest_refs, c.manifests);
    EXPECT_FALSE(m->subject.has_value());
    EXPECT_FALSE(m->annotations_json.has_value());
  }
}

TEST(ParseManifestTest, RefusesSchema1) {
  const std::string schema1 =
      R"({"schemaVersion":1,"name":"a","tag":"latest","fsLayers":[],"history":[]})";
  const std::pair<std::string, std::string> cases[] = {
      {std::string(media::kDockerSchema1), schema1},
      {std::string(media::kDockerSchema1Signed), schema1},
      {std::string(media::kDockerSchema1Signed), "not even json"},
      {"application/json", schema1},
      {"", schema1},
  };
  for (const auto& [content_type, body] : cases) {
    SCOPED_TRACE(content_type);
    auto m = ParseManifest(content_type, body);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), Errc::kManifestInvalid);
    EXPECT_NE(m.status().message().find("schema 1"), std::string::npos) << m.status().message();
  }
}

TEST(ParseManifestTest, RejectsInvalid) {
  const std::string config = Desc(kConfigType, kA);
  struct Case {
    const char* why;
    std::string content_type;
    std::string body;
  } cases[] = {
      {"not JSON", kOci, "{"},
      {"not JSON either", kOci, "hello"},
      {"empty body", kOci, ""},
      {"JSON array", kOci, "[" + Image(kOci, config, "[]") + "]"},
      {"JSON string", "application/json", R"("manifest")"},
      {"unknown content type", "text/plain", Image(kOci, config, "[]")},
      {"unknown content type", "application/vnd.oci.image.config.v1+json", Image("", config, "[]")},
      {"mediaType contradicts Content-Type", kOci, Image(kIndex, config, "[]")},
      {"mediaType contradicts Content-Type", kIndex, Index(kDockerList, "[]")},
      {"unknown mediaType field", "application/json", Image("application/x-foo", config, "[]")},
      {"mediaType not a string", kOci,
       R"({"schemaVersion":2,"mediaType":5,"config":)" + config + R"(,"layers":[]})"},
      {"shape unknown", "application/json", R"({"schemaVersion":2})"},
      {"schemaVersion missing", kOci, R"({"config":)" + config + R"(,"layers":[]})"},
      {"schemaVersion 3", kOci, R"({"schemaVersion":3,"config":)" + config + R"(,"layers":[]})"},
      {"schemaVersion string", kOci,
       R"({"schemaVersion":"2","config":)" + config + R"(,"layers":[]})"},
      {"missing config", kOci, Image(kOci, "", "[]")},
      {"index body under image type", kOci, Index("", "[]")},
      {"config not an object", kOci, Image(kOci, "\"x\"", "[]")},
      {"layers missing", kOci, R"({"schemaVersion":2,"config":)" + config + "}"},
      {"layers not an array", kOci, Image(kOci, config, "{}")},
      {"manifests missing", kIndex, R"({"schemaVersion":2})"},
      {"manifests not an array", kIndex, Index(kIndex, "5")},
      {"bad config digest", kOci, Image(kOci, Desc(kConfigType, "sha256:xyz"), "[]")},
      {"upper-case digest", kOci,
       Image(kOci, Desc(kConfigType, "sha256:" + std::string(64, 'A')), "[]")},
      {"md5 digest", kOci,
       Image(kOci, Desc(kConfigType, "md5:d41d8cd98f00b204e9800998ecf8427e"), "[]")},
      {"bad layer digest", kOci, Image(kOci, config, "[" + Desc(kLayerType, "nope") + "]")},
      {"bad child digest", kIndex, Index(kIndex, "[" + Desc(kOci, kA + "0") + "]")},
      {"negative size", kOci, Image(kOci, config, "[" + Desc(kLayerType, kB, "-1") + "]")},
      {"fractional size", kOci, Image(kOci, Desc(kConfigType, kA, "1.5"), "[]")},
      {"string size", kOci, Image(kOci, Desc(kConfigType, kA, "\"1\""), "[]")},
      {"missing size", kOci, Image(kOci, R"({"mediaType":"x","digest":")" + kA + "\"}", "[]")},
      {"missing descriptor mediaType", kOci,
       Image(kOci, R"({"digest":")" + kA + R"(","size":1})", "[]")},
      {"descriptor not an object", kIndex, Index(kIndex, "[5]")},
      {"bad subject", kOci, Image(kOci, config, "[]", R"(,"subject":{"digest":"x"})")},
      {"annotations not an object", kOci, Image(kOci, config, "[]", R"(,"annotations":[1])")},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.why) + ": " + c.body);
    auto m = ParseManifest(c.content_type, c.body);
    ASSERT_FALSE(m.ok()) << "accepted as " << m->media_type;
    EXPECT_EQ(m.status().code(), Errc::kManifestInvalid);
    EXPECT_FALSE(m.status().message().empty());
  }
}

TEST(ParseManifestTest, MessagesNameTheProblem) {
  auto contradict = ParseManifest(kOci, Image(kIndex, Desc(kConfigType, kA), "[]"));
  ASSERT_FALSE(contradict.ok());
  EXPECT_NE(contradict.status().message().find(kIndex), std::string::npos);

  auto size = ParseManifest(
      kOci, Image(kOci, Desc(kConfigType, kA), "[" + Desc(kLayerType, kB, "-1") + "]"));
  ASSERT_FALSE(size.ok());
  EXPECT_NE(size.status().message().find("layers[0]"), std::string::npos);

  auto unknown = ParseManifest("text/plain", Image(kOci, Desc(kConfigType, kA), "[]"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("text/plain"), std::string::npos);
}

TEST(ParseManifestTest, ExtractsReferrerFields) {
  const std::string body =
      Image(kOci, Desc(kConfigType, kA), "[]",
            R"(,"artifactType":"application/vnd.example.sbom","subject":)" + Desc(kOci, kS, "123") +
                R"(,"annotations":{"org.example.key":"v"})");
  auto m = ParseManifest(kOci, body);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->artifact_type, "application/vnd.example.sbom");
  EXPECT_EQ(m->subject, kS);
  ASSERT_TRUE(m->annotations_json.has_value());
  EXPECT_EQ(*m->annotations_json, R"({"org.example.key":"v"})");
  // The subject is not something the repository must already hold.
  EXPECT_EQ(m->blob_refs, Refs{kA});
  EXPECT_TRUE(m->manifest_refs.empty());
}

TEST(ParseManifestTest, ArtifactTypeDefaultsToConfigMediaType) {
  auto m = ParseManifest(kOci, Image(kOci, Desc("application/vnd.example.config", kA), "[]"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->artifact_type, "application/vnd.example.config");
}

TEST(ParseManifestTest, IndexArtifactTypeAndSubject) {
  auto plain = ParseManifest(kIndex, Index(kIndex, "[]"));
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_FALSE(plain->artifact_type.has_value());

  auto m = ParseManifest(kIndex, Index(kIndex, "[" + Desc(kOci, kB) + "]",
                                       R"(,"artifactType":"application/vnd.example.set",)"
                                       R"("subject":)" +
                                           Desc(kOci, kA) + R"(,"annotations":{"a":"b"})"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->artifact_type, "application/vnd.example.set");
  EXPECT_EQ(m->subject, kA);
  EXPECT_EQ(m->annotations_json, R"({"a":"b"})");
  EXPECT_EQ(m->manifest_refs, Refs{kB});
}

}  // namespace
}  // namespace berth::registry
