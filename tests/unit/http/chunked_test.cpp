#include "http/chunked.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth::http {
namespace {

// Feeds `wire` in pieces of `step` bytes; returns the body, or the error
// message prefixed with "ERR:". `rest` gets the bytes after the message.
std::string DecodeAll(const std::string& wire, size_t step, std::string* rest = nullptr) {
  ChunkedDecoder dec;
  std::string body;
  for (size_t at = 0; at < wire.size() && !dec.done(); at += step) {
    std::string piece = wire.substr(at, step);
    auto r = dec.Decode(piece.data(), piece.size());
    if (!r) return "ERR:" + r.status().message();
    body.append(piece.data(), r->body);
    if (dec.done() && rest) *rest = piece.substr(r->consumed) + wire.substr(at + piece.size());
  }
  if (!dec.done()) return "ERR:incomplete";
  return body;
}

TEST(ChunkedDecoder, DecodesChunksWhateverTheSplit) {
  const std::string wire = "5\r\nhello\r\n1;name=value\r\n \r\nA\r\n0123456789\r\n0\r\n\r\n";
  for (size_t step = 1; step <= wire.size(); ++step) {
    EXPECT_EQ(DecodeAll(wire, step), "hello 0123456789") << "step " << step;
  }
}

TEST(ChunkedDecoder, LeavesTheNextRequestAlone) {
  std::string rest;
  EXPECT_EQ(DecodeAll("3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n", 1000, &rest), "abc");
  EXPECT_EQ(rest, "GET / HTTP/1.1\r\n");
}

TEST(ChunkedDecoder, DiscardsTrailers) {
  EXPECT_EQ(DecodeAll("3\r\nabc\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\r\n", 7), "abc");
}

TEST(ChunkedDecoder, AcceptsLeadingZerosWithinTheLineLimit) {
  EXPECT_EQ(DecodeAll("0000000000000000000003\r\nabc\r\n0\r\n\r\n", 5), "abc");
}

TEST(ChunkedDecoder, BoundsTheSizeLine) {
  std::string zeros(ChunkedDecoder::kMaxChunkLine + 1, '0');
  EXPECT_EQ(DecodeAll(zeros + "1\r\na\r\n0\r\n\r\n", 4096),
            "ERR:malformed chunked body: chunk-size line too long");
  std::string ext = "1;" + std::string(ChunkedDecoder::kMaxChunkLine, 'x');
  EXPECT_EQ(DecodeAll(ext + "\r\na\r\n0\r\n\r\n", 100),
            "ERR:malformed chunked body: chunk-size line too long");
}

TEST(ChunkedDecoder, BoundsTheTrailer) {
  std::string big = "0\r\nX: " + std::string(ChunkedDecoder::kMaxTrailer, 'v') + "\r\n\r\n";
  EXPECT_EQ(DecodeAll(big, 1000), "ERR:malformed chunked body: trailer section too large");
  std::string many = "0\r\n";
  for (size_t i = 0; i <= ChunkedDecoder::kMaxTrailerFields; ++i) many += "X:1\r\n";
  EXPECT_EQ(DecodeAll(many + "\r\n", 1000), "ERR:malformed chunked body: too many trailer fields");
}

TEST(ChunkedDecoder, RefusesBadFraming) {
  EXPECT_EQ(DecodeAll("\r\n", 10), "ERR:malformed chunked body: chunk size expected");
  EXPECT_EQ(DecodeAll("g\r\n", 10), "ERR:malformed chunked body: chunk size expected");
  EXPECT_EQ(DecodeAll("1x\r\n", 10), "ERR:malformed chunked body: bad character in chunk size");
  EXPECT_EQ(DecodeAll("1\na\r\n", 10), "ERR:malformed chunked body: bad character in chunk size");
  EXPECT_EQ(DecodeAll("1\rxa\r\n", 10),
            "ERR:malformed chunked body: CR without LF after chunk size");
  EXPECT_EQ(DecodeAll("1\r\nab\r\n", 10),
            "ERR:malformed chunked body: chunk data longer than its size");
  EXPECT_EQ(DecodeAll("1\r\na\rx", 10),
            "ERR:malformed chunked body: CR without LF after chunk data");
  EXPECT_EQ(DecodeAll(std::string("1;a\0b\r\n", 7), 10),
            "ERR:malformed chunked body: bad character in chunk extension");
  EXPECT_EQ(DecodeAll("0\r\nX: a\nb\r\n\r\n", 100),
            "ERR:malformed chunked body: bad character in trailer");
  EXPECT_EQ(DecodeAll("1000000000000000\r\n", 100),
            "ERR:malformed chunked body: chunk size too large");
}

TEST(ChunkedDecoder, LargestSizeIsAccepted) {
  ChunkedDecoder dec;
  std::string line = "fffffffffffffff\r\nab";
  auto r = dec.Decode(line.data(), line.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, 2u);
  EXPECT_FALSE(dec.done());
}

TEST(ChunkedDecoder, StaysFailed) {
  ChunkedDecoder dec;
  std::string bad = "z";
  EXPECT_FALSE(dec.Decode(bad.data(), bad.size()).ok());
  std::string good = "0\r\n\r\n";
  EXPECT_FALSE(dec.Decode(good.data(), good.size()).ok());
}

}  // namespace
}  // namespace berth::http
