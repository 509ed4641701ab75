#include "http/chunked.hpp"

#include <algorithm>
#include <cstring>

namespace berth::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A byte allowed inside a chunk extension or a trailer line: visible ASCII,
// space, HTAB and obs-text; never CR, LF, NUL or another control byte.
bool LineByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7F);
}

// Chunk sizes past 2^60 bytes cannot be real and would overflow arithmetic.
constexpr size_t kMaxSizeDigits = 15;

}  // namespace

Status ChunkedDecoder::Fail(const char* why) {
  state_ = State::kFailed;
  return Status(Errc::kBlobUploadInvalid, std::string("malformed chunked body: ") + why);
}

Result<ChunkedDecoder::Decoded> ChunkedDecoder::Decode(char* buf, size_t n) {
  Decoded d;
  size_t i = 0;
  while (i < n) {
    const char c = buf[i];
    switch (state_) {
      case State::kSize: {
        const int v = HexValue(c);
        if (v >= 0) {
          if (++line_ > kMaxChunkLine) return Fail("chunk-size line too long");
          if (digits_ > 0 || v != 0) {
            if (++digits_ > kMaxSizeDigits) return Fail("chunk size too large");
            size_ = size_ * 16 + static_cast<uint64_t>(v);
          }
          ++i;
          break;
        }
        if (line_ == 0) return Fail("chunk size expected");
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::kExtension;
          if (++line_ > kMaxChunkLine) return Fail("chunk-size line too long");
        } else {
          return Fail("bad character in chunk size");
        }
        ++i;
        break;
      }
      case State::kExtension:
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (!LineByte(c)) {
          return Fail("bad character in chunk extension");
        } else if (++line_ > kMaxChunkLine) {
          return Fail("chunk-size line too long");
        }
        ++i;
        break;
      case State::kSizeLf:
        if (c != '\n') return Fail("CR without LF after chunk size");
        ++i;
        if (size_ == 0) {
          state_ = State::kTrailer;
        } else {
          left_ = size_;
          state_ = State::kData;
        }
        break;
      case State::kData: {
        const size_t k = static_cast<size_t>(std::min<uint64_t>(left_, n - i));
        if (d.body != i) std::memmove(buf + d.body, buf + i, k);
        d.body += k;
        i += k;
        left_ -= k;
        if (left_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return Fail("chunk data longer than its size");
        state_ = State::kDataLf;
        ++i;
        break;
      case State::kDataLf:
        if (c != '\n') return Fail("CR without LF after chunk data");
        state_ = State::kSize;
        size_ = 0;
        digits_ = 0;
        line_ = 0;
        ++i;
        break;
      case State::kTrailer:
        if (c == '\r') {
          state_ = State::kTrailerLf;
        } else if (!LineByte(c)) {
          return Fail("bad character in trailer");
        } else {
          ++trailer_line_;
          if (++trailer_bytes_ > kMaxTrailer) return Fail("trailer section too large");
        }
        ++i;
        break;
      case State::kTrailerLf:
        if (c != '\n') return Fail("CR without LF in trailer");
        ++i;
        if (trailer_line_ == 0) {
          state_ = State::kDone;
          d.consumed = i;
          return d;
        }
        if (++trailer_fields_ > kMaxTrailerFields) return Fail("too many trailer fields");
        trailer_line_ = 0;
        state_ = State::kTrailer;
        break;
      case State::kDone:
        d.consumed = i;
        return d;
      case State::kFailed:
        return Status(Errc::kBlobUploadInvalid, "malformed chunked body");
    }
  }
  d.consumed = i;
  return d;
}

}  // namespace berth::http
