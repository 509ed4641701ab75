// Tests for crypto::Hasher (crypto/hasher.hpp) against the FIPS 180-2 / NIST
// example vectors, and for its incremental, Peek and Clone behaviour.

#include "crypto/hasher.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace berth::crypto {
namespace {

std::span<const char> Bytes(std::string_view s) { return {s.data(), s.size()}; }

constexpr std::string_view kTwoBlock256 =
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr std::string_view kTwoBlock512 =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopq"
    "rs"
    "mnopqrstnopqrstu";

struct Vector {
  DigestAlgorithm algorithm;
  std::string input;
  std::string hex;
};

const Vector kVectors[] = {
    {DigestAlgorithm::kSha256, "",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {DigestAlgorithm::kSha256, "abc",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {DigestAlgorithm::kSha256, std::string(kTwoBlock256),
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {DigestAlgorithm::kSha256, std::string(1000000, 'a'),
     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    {DigestAlgorithm::kSha512, "",
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
     "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
    {DigestAlgorithm::kSha512, "abc",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    {DigestAlgorithm::kSha512, std::string(kTwoBlock512),
     "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
     "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"},
};

TEST(HasherTest, NistVectorsOneShot) {
  for (const auto& v : kVectors) {
    SCOPED_TRACE(v.hex);
    Digest d = HashBytes(v.algorithm, v.input);
    EXPECT_EQ(d.algorithm(), v.algorithm);
    EXPECT_EQ(d.hex(), v.hex);
    // The result is a well-formed digest that parses back to itself.
    auto parsed = Digest::Parse(d.str());
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    EXPECT_EQ(*parsed, d);
  }
}

TEST(HasherTest, IncrementalEqualsOneShot) {
  for (const auto& v : kVectors) {
    for (size_t chunk : {size_t{1}, size_t{3}, size_t{64}, size_t{127}, size_t{4096}}) {
      if (v.input.size() > 100000 && chunk < 64) continue;  // keep it quick
      SCOPED_TRACE(v.hex + " chunk " + std::to_string(chunk));
      Hasher h(v.algorithm);
      for (size_t off = 0; off < v.input.size(); off += chunk) {
        h.Update(Bytes(std::string_view(v.input).substr(off, chunk)));
      }
      EXPECT_EQ(h.Peek().hex(), v.hex);
    }
  }
}

TEST(HasherTest, EmptyUpdatesChangeNothing) {
  Hasher h(DigestAlgorithm::kSha256);
  h.Update({});
  h.Update(Bytes("abc"));
  h.Update({});
  EXPECT_EQ(h.Peek().hex(), kVectors[1].hex);
}

TEST(HasherTest, PeekDoesNotDisturbFurtherUpdates) {
  Hasher h(DigestAlgorithm::kSha256);
  EXPECT_EQ(h.Peek().hex(), kVectors[0].hex);  // "" so far
  h.Update(Bytes("ab"));
  Digest partial = h.Peek();
  EXPECT_EQ(partial, HashBytes(DigestAlgorithm::kSha256, "ab"));
  EXPECT_EQ(h.Peek(), partial);  // Peek is repeatable
  h.Update(Bytes("c"));
  EXPECT_EQ(h.Peek().hex(), kVectors[1].hex);  // "abc"
}

TEST(HasherTest, PeekSha512MidStream) {
  Hasher h(DigestAlgorithm::kSha512);
  h.Update(Bytes("a"));
  EXPECT_EQ(h.Peek(), HashBytes(DigestAlgorithm::kSha512, "a"));
  h.Update(Bytes("bc"));
  EXPECT_EQ(h.Peek().hex(), kVectors[5].hex);
}

TEST(HasherTest, CloneIsIndependent) {
  Hasher original(DigestAlgorithm::kSha256);
  original.Update(Bytes("ab"));
  Hasher copy = original.Clone();
  EXPECT_EQ(copy.algorithm(), DigestAlgorithm::kSha256);
  EXPECT_EQ(copy.Peek(), original.Peek());

  copy.Update(Bytes("c"));
  EXPECT_EQ(copy.Peek().hex(), kVectors[1].hex);                          // "abc"
  EXPECT_EQ(original.Peek(), HashBytes(DigestAlgorithm::kSha256, "ab"));  // untouched

  original.Update(Bytes("x"));
  EXPECT_EQ(original.Peek(), HashBytes(DigestAlgorithm::kSha256, "abx"));
  EXPECT_EQ(copy.Peek().hex(), kVectors[1].hex);  // untouched by the original
}

TEST(HasherTest, MoveKeepsState) {
  Hasher a(DigestAlgorithm::kSha512);
  a.Update(Bytes("ab"));
  Hasher b(std::move(a));
  b.Update(Bytes("c"));
  EXPECT_EQ(b.algorithm(), DigestAlgorithm::kSha512);
  EXPECT_EQ(b.Peek().hex(), kVectors[5].hex);
}

// A hash continued from saved state, as by another berth: every split point
// around block boundaries gives the digest of the whole.
TEST(HasherTest, SaveLoadStateContinuesTheHash) {
  for (auto algorithm : {DigestAlgorithm::kSha256, DigestAlgorithm::kSha512}) {
    std::string input;
    for (int i = 0; i < 1000; ++i) input += static_cast<char>(i * 7 + 3);
    const Digest whole = HashBytes(algorithm, input);
    for (size_t split : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{127},
                         size_t{128}, size_t{129}, size_t{500}, size_t{1000}}) {
      SCOPED_TRACE(split);
      Hasher first(algorithm);
      first.Update(Bytes(std::string_view(input).substr(0, split)));
      std::string saved = first.SaveState();
      EXPECT_EQ(saved.size(), algorithm == DigestAlgorithm::kSha256 ? 110u : 214u);
      auto loaded = Hasher::LoadState(algorithm, saved);
      ASSERT_TRUE(loaded.ok()) << loaded.status().message();
      EXPECT_EQ(loaded->Peek(), first.Peek());
      loaded->Update(Bytes(std::string_view(input).substr(split)));
      EXPECT_EQ(loaded->Peek(), whole);
      EXPECT_EQ(loaded->SaveState().size(), saved.size());
    }
  }
}

TEST(HasherTest, LoadStateRefusesCorruptState) {
  Hasher h(DigestAlgorithm::kSha256);
  h.Update(Bytes("abcdefghij"));  // 10 bytes buffered
  const std::string good = h.SaveState();
  ASSERT_TRUE(Hasher::LoadState(DigestAlgorithm::kSha256, good).ok());

  auto refused = [](DigestAlgorithm a, const std::string& s) {
    auto r = Hasher::LoadState(a, s);
    return !r.ok() && r.status().code() == Errc::kInternal;
  };
  EXPECT_TRUE(refused(DigestAlgorithm::kSha256, ""));
  EXPECT_TRUE(refused(DigestAlgorithm::kSha512, good));  // another algorithm's state
  EXPECT_TRUE(refused(DigestAlgorithm::kSha256, good.substr(0, good.size() - 1)));
  EXPECT_TRUE(refused(DigestAlgorithm::kSha256, good + "x"));
  std::string bad_version = good;
  bad_version[0] = 2;
  EXPECT_TRUE(refused(DigestAlgorithm::kSha256, bad_version));
  // num (at 2 + 10 * 4) out of bounds: 64 would let Final write past the block.
  std::string big_num = good;
  big_num[42] = 64;
  EXPECT_TRUE(refused(DigestAlgorithm::kSha256, big_num));
  // num in bounds but disagreeing with the bit count Nl (80 bits = 10 bytes).
  std::string wrong_num = good;
  wrong_num[42] = 11;
  EXPECT_TRUE(refused(DigestAlgorithm::kSha256, wrong_num));
  std::string high_num = good;
  high_num[45] = 1;  // num's top byte
  EXPECT_TRUE(refused(DigestAlgorithm::kSha256, high_num));
}

TEST(ToHexTest, EncodesLowerCase) {
  const unsigned char bytes[] = {0x00, 0x0f, 0xa0, 0xff, 0x5c};
  EXPECT_EQ(ToHex(bytes), "000fa0ff5c");
  EXPECT_EQ(ToHex({}), "");
}

}  // namespace
}  // namespace berth::crypto
