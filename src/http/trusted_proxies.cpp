#include "http/trusted_proxies.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <optional>

namespace berth::http {
namespace {

namespace ip = boost::asio::ip;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// An IP literal as 16 bytes (v4 mapped into v6), or nothing.
std::optional<std::array<unsigned char, 16>> Bytes(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > 64) return std::nullopt;
  boost::system::error_code ec;
  const ip::address a = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  if (a.is_v4()) return ip::make_address_v6(ip::v4_mapped, a.to_v4()).to_bytes();
  return a.to_v6().to_bytes();
}

bool IsV4Mapped(const std::array<unsigned char, 16>& b) {
  for (int i = 0; i < 10; ++i) {
    if (b[i] != 0) return false;
  }
  return b[10] == 0xff && b[11] == 0xff;
}

// "1.2.3.4:5678" or "[::1]:5678" → the address part.
std::string_view PeerAddress(std::string_view peer) {
  if (!peer.empty() && peer.front() == '[') {
    const size_t end = peer.find(']');
    return end == std::string_view::npos ? peer : peer.substr(0, end + 1);
  }
  const size_t colon = peer.rfind(':');
  return colon == std::string_view::npos ? peer : peer.substr(0, colon);
}

// The canonical text of an address, v6 in brackets as the session writes it.
std::string Canonical(const std::array<unsigned char, 16>& b) {
  const ip::address_v6 v6(b);
  if (IsV4Mapped(b)) return ip::make_address_v4(ip::v4_mapped, v6).to_string();
  return "[" + v6.to_string() + "]";
}

}  // namespace

Result<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& entries) {
  TrustedProxies out;
  for (const std::string& entry : entries) {
    std::string_view text = Trim(entry);
    std::string_view address = text;
    std::optional<int> prefix;
    if (const size_t slash = text.find('/'); slash != std::string_view::npos) {
      address = text.substr(0, slash);
      const std::string_view bits = text.substr(slash + 1);
      int n = -1;
      auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), n);
      if (ec != std::errc() || end != bits.data() + bits.size() || bits.empty()) n = -1;
      prefix = n;
    }
    auto bytes = Bytes(address);
    if (!bytes) {
      return Status(Errc::kUnsupported,
                    "'" + std::string(text) + "' is not an IP address or CIDR block");
    }
    const bool v4 = IsV4Mapped(*bytes) && address.find(':') == std::string_view::npos;
    const int max = v4 ? 32 : 128;
    if (prefix && (*prefix < 0 || *prefix > max)) {
      return Status(
          Errc::kUnsupported,
          "'" + std::string(text) + "': the prefix length must be 0 to " + std::to_string(max));
    }
    Net net;
    net.bytes = *bytes;
    net.prefix = (v4 ? 96 : 0) + prefix.value_or(max);
    out.nets_.push_back(net);
  }
  return out;
}

bool TrustedProxies::Contains(std::string_view address) const {
  if (nets_.empty()) return false;
  auto bytes = Bytes(address);
  if (!bytes) return false;
  for (const Net& net : nets_) {
    int bits = net.prefix;
    bool match = true;
    for (int i = 0; i < 16 && bits > 0 && match; ++i, bits -= 8) {
      const unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
      match = ((*bytes)[i] & mask) == (net.bytes[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::string TrustedProxies::ClientOf(std::string_view peer, std::string_view forwarded_for) const {
  const std::string_view peer_address = PeerAddress(peer);
  if (forwarded_for.empty() || !Contains(peer_address)) return std::string(peer);
  std::string nearest(peer);
  std::string_view rest = forwarded_for;
  while (!rest.empty()) {
    const size_t comma = rest.rfind(',');
    const std::string_view entry =
        Trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    auto bytes = Bytes(entry);
    if (!bytes) return nearest;
    std::string canonical = Canonical(*bytes);
    if (!Contains(canonical)) return canonical;
    nearest = canonical;
  }
  return nearest;
}

}  // namespace berth::http

namespace berth::http {

std::optional<std::string> CanonicalAddress(std::string_view text) {
  text = Trim(text);
  auto bytes = Bytes(text);
  if (!bytes) bytes = Bytes(PeerAddress(text));
  if (!bytes) return std::nullopt;
  return Canonical(*bytes);
}

}  // namespace berth::http
