#include "s3/xml.hpp"

#include <expat.h>

#include <charconv>
#include <memory>

namespace berth::s3::xml {
namespace {

// Expat reports names with their namespace prefix only when parsing with
// namespaces; S3's default xmlns leaves plain names, which is all we match.
struct State {
  Response out;
  std::vector<std::string> path;  // element names from the root down
  std::string text;               // character data of the current element
  std::string key;                // Contents/Key, pending its Size
  std::optional<uint64_t> size;   // Contents/Size
  bool bad_number = false;
};

void OnStart(void* data, const XML_Char* name, const XML_Char** /*attrs*/) {
  auto* s = static_cast<State*>(data);
  if (s->path.empty()) s->out.root = name;
  s->path.emplace_back(name);
  s->text.clear();
  if (s->path.size() == 2 && s->path[1] == "Contents") {
    s->key.clear();
    s->size.reset();
  }
}

void OnText(void* data, const XML_Char* text, int len) {
  auto* s = static_cast<State*>(data);
  // Only leaves a few levels down carry what we read; bound what is kept.
  if (s->path.size() <= 3 && s->text.size() < 64 * 1024) s->text.append(text, len);
}

bool Is(const State& s, std::initializer_list<std::string_view> names) {
  if (s.path.size() != names.size()) return false;
  size_t i = 0;
  for (std::string_view n : names) {
    if (s.path[i++] != n) return false;
  }
  return true;
}

void OnEnd(void* data, const XML_Char* /*name*/) {
  auto* s = static_cast<State*>(data);
  Response& r = s->out;
  if (Is(*s, {"Error", "Code"})) {
    if (!r.error) r.error.emplace();
    r.error->code = s->text;
  } else if (Is(*s, {"Error", "Message"})) {
    if (!r.error) r.error.emplace();
    r.error->message = s->text;
  } else if (Is(*s, {"Error"})) {
    if (!r.error) r.error.emplace();
  } else if (Is(*s, {"InitiateMultipartUploadResult", "UploadId"})) {
    r.upload_id = s->text;
  } else if (Is(*s, {"ListBucketResult", "Contents", "Key"})) {
    s->key = s->text;
  } else if (Is(*s, {"ListBucketResult", "Contents", "Size"})) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s->text.data(), s->text.data() + s->text.size(), v);
    if (ec != std::errc() || end != s->text.data() + s->text.size()) {
      s->bad_number = true;
    } else {
      s->size = v;
    }
  } else if (Is(*s, {"ListBucketResult", "Contents"})) {
    if (!s->size) s->bad_number = true;
    r.contents.emplace_back(s->key, s->size.value_or(0));
  } else if (Is(*s, {"ListBucketResult", "NextContinuationToken"})) {
    r.next_token = s->text;
  } else if (Is(*s, {"ListBucketResult", "IsTruncated"})) {
    r.truncated = s->text == "true";
  } else if (Is(*s, {"CompleteMultipartUploadResult", "ETag"}) ||
             Is(*s, {"CopyObjectResult", "ETag"})) {
    r.etag = s->text;
  }
  s->path.pop_back();
  s->text.clear();
}

struct FreeParser {
  void operator()(XML_Parser p) const { XML_ParserFree(p); }
};

void AppendEscaped(std::string& out, std::string_view s) {
  for (char ch : s) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(ch);
    }
  }
}

}  // namespace

Result<Response> Parse(std::string_view body, size_t limit) {
  if (body.size() > limit) {
    return Status(Errc::kTooLarge, "S3 response of " + std::to_string(body.size()) +
                                       " bytes is over the limit of " + std::to_string(limit));
  }
  // S3 keeps a slow CompleteMultipartUpload or CopyObject alive by sending
  // whitespace before the document, declaration included, which XML forbids.
  size_t lead = body.find_first_not_of(" \t\r\n");
  body.remove_prefix(lead == std::string_view::npos ? body.size() : lead);
  std::unique_ptr<XML_ParserStruct, FreeParser> parser(XML_ParserCreate(nullptr));
  if (!parser) return Status(Errc::kInternal, "out of memory creating an XML parser");
  State state;
  XML_SetUserData(parser.get(), &state);
  XML_SetElementHandler(parser.get(), OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser.get(), OnText);
  if (XML_Parse(parser.get(), body.data(), static_cast<int>(body.size()), XML_TRUE) !=
      XML_STATUS_OK) {
    return Status(Errc::kInternal, std::string("malformed S3 XML response: ") +
                                       XML_ErrorString(XML_GetErrorCode(parser.get())) +
                                       " at line " +
                                       std::to_string(XML_GetCurrentLineNumber(parser.get())));
  }
  if (state.bad_number)
    return Status(Errc::kInternal, "S3 listing has a Contents without a numeric Size");
  return std::move(state.out);
}

std::string CompleteMultipartBody(const std::vector<std::pair<int, std::string>>& parts) {
  std::string out = "<CompleteMultipartUpload>";
  for (const auto& [number, etag] : parts) {
    out += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>";
    AppendEscaped(out, etag);
    out += "</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

}  // namespace berth::s3::xml
