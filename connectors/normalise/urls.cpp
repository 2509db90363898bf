#include "normalise/urls.hpp"

#include "normalise/text_clean.hpp"

#include <curl/curl.h>
#include <unicode/bytestream.h>
#include <unicode/uidna.h>

#include <array>
#include <cctype>
#include <memory>

namespace postwire::normalise {
namespace {

struct CurluDeleter {
  void operator()(CURLU* handle) const noexcept { curl_url_cleanup(handle); }
};
using CurluPtr = std::unique_ptr<CURLU, CurluDeleter>;

bool is_ascii_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_digit(char c) noexcept { return c >= '0' && c <= '9'; }
char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Browsers drop leading and trailing C0 controls and spaces, and tabs and newlines
// anywhere; feeds rely on that when they wrap a long <link> over several lines.
// Inner spaces are percent-encoded as browsers do (libcurl rejects them).
std::string clean(std::string_view in) {
  std::size_t begin = 0;
  std::size_t end = in.size();
  while (begin < end && static_cast<unsigned char>(in[begin]) <= 0x20) ++begin;
  while (end > begin && static_cast<unsigned char>(in[end - 1]) <= 0x20) --end;
  std::string out;
  out.reserve(end - begin);
  for (std::size_t i = begin; i < end; ++i) {
    const char c = in[i];
    if (c == ' ') {
      out.append("%20");
    } else if (c != '\t' && c != '\n' && c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

// Length of the RFC 3986 scheme (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"),
// 0 when `s` does not start with one, i.e. is a relative reference.
std::size_t scheme_length(std::string_view s) noexcept {
  if (s.empty() || !is_ascii_alpha(s[0])) return 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ':') return i;
    if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

std::optional<std::string> get_part(CURLU* handle, CURLUPart part, unsigned int flags = 0) {
  char* out = nullptr;
  const CURLUcode rc = curl_url_get(handle, part, &out, flags);
  if (rc != CURLUE_OK || out == nullptr) {
    curl_free(out);
    return std::nullopt;
  }
  std::string value(out);
  curl_free(out);
  return value;
}

CurluPtr parse_absolute(const std::string& url, CURLUcode* rc_out = nullptr) {
  CurluPtr handle(curl_url());
  if (!handle) return nullptr;
  const CURLUcode rc = curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0);
  if (rc_out != nullptr) *rc_out = rc;
  if (rc != CURLUE_OK) return nullptr;
  return handle;
}

bool is_tracking_param(std::string_view param, const std::vector<std::string>& names) {
  const std::string_view key = param.substr(0, param.find('='));
  std::string lower;
  lower.reserve(key.size());
  for (char c : key) lower.push_back(ascii_lower(c));
  for (const std::string& name : names) {
    if (!name.empty() && name.back() == '*') {
      if (lower.starts_with(std::string_view(name).substr(0, name.size() - 1))) return true;
    } else if (lower == name) {
      return true;
    }
  }
  return false;
}

struct IdnaDeleter {
  void operator()(UIDNA* idna) const noexcept { uidna_close(idna); }
};

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 section 6.2.2: percent-encoded unreserved characters are decoded, so
// "%7e" and "~" compare equal, and the remaining escapes use one case. That case is
// lower, because libcurl lower-cases escapes in the parts we set back anyway.
std::string normalise_escapes(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      const int value = hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]);
      const char decoded = static_cast<char>(value);
      if (is_ascii_alpha(decoded) || is_ascii_digit(decoded) || decoded == '-' || decoded == '.' ||
          decoded == '_' || decoded == '~') {
        out.push_back(decoded);
      } else {
        out.push_back('%');
        out.push_back(kHex[value >> 4]);
        out.push_back(kHex[value & 0xF]);
      }
      i += 2;
    } else if (static_cast<unsigned char>(in[i]) >= 0x80 || in[i] == ' ') {
      // Non-ASCII (UTF-8) and spaces are percent-encoded, as browsers send them.
      const auto b = static_cast<unsigned char>(in[i]);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

std::optional<std::string> resolve_unchecked(std::string_view base, std::string_view ref) {
  const std::string r = clean(ref);
  if (scheme_length(r) > 0) {
    CURLUcode rc = CURLUE_OK;
    if (CurluPtr handle = parse_absolute(r, &rc)) return get_part(handle.get(), CURLUPART_URL);
    // mailto:, tel:, magnet: ... are absolute already; nothing to resolve or check.
    if (rc == CURLUE_UNSUPPORTED_SCHEME && r.size() > scheme_length(r) + 1) return r;
    return std::nullopt;
  }

  const std::string b = clean(base);
  if (scheme_length(b) == 0) return std::nullopt;
  CurluPtr handle = parse_absolute(b);
  if (!handle) return std::nullopt;
  // libcurl treats "" and "#frag" like "." (it drops the last path segment and the
  // query); RFC 3986 keeps the whole base, so those two cases are done here.
  if (r.empty() || r.front() == '#') {
    if (curl_url_set(handle.get(), CURLUPART_FRAGMENT, nullptr, 0) != CURLUE_OK) return std::nullopt;
    if (r.size() > 1 && curl_url_set(handle.get(), CURLUPART_FRAGMENT, r.c_str() + 1, 0) != CURLUE_OK) {
      return std::nullopt;
    }
    return get_part(handle.get(), CURLUPART_URL);
  }
  if (curl_url_set(handle.get(), CURLUPART_URL, r.c_str(), 0) != CURLUE_OK) return std::nullopt;
  return get_part(handle.get(), CURLUPART_URL);
}

// libcurl decodes percent-escapes in host names ("%CC" becomes the byte 0xCC), so
// a hostile link can come back as bytes that are not text. Such a URL is unusable:
// treat it like any other unparseable link (found by the feed fuzzer).
std::optional<std::string> valid_or_none(std::optional<std::string> url) {
  if (url && !is_valid_utf8(*url)) return std::nullopt;
  return url;
}

}  // namespace

std::optional<std::string> resolve_url(std::string_view base, std::string_view ref) {
  return valid_or_none(resolve_unchecked(base, ref));
}

const std::vector<std::string>& default_tracking_params() {
  static const std::vector<std::string> kDefault = {"utm_*", "fbclid", "gclid", "mc_cid", "mc_eid"};
  return kDefault;
}

std::optional<std::string> host_to_ascii(std::string_view host) {
  bool ascii = true;
  for (char c : host) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    std::string out(host);
    for (char& c : out) c = ascii_lower(c);
    return out;
  }
  thread_local std::unique_ptr<UIDNA, IdnaDeleter> idna = [] {
    UErrorCode status = U_ZERO_ERROR;
    return std::unique_ptr<UIDNA, IdnaDeleter>(
        uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_CHECK_BIDI, &status));
  }();
  if (!idna || host.size() > 1024) return std::nullopt;
  std::string out(host.size() * 4 + 64, '\0');
  UIDNAInfo info = UIDNA_INFO_INITIALIZER;
  UErrorCode status = U_ZERO_ERROR;
  const int32_t n = uidna_nameToASCII_UTF8(idna.get(), host.data(), static_cast<int32_t>(host.size()),
                                           out.data(), static_cast<int32_t>(out.size()), &info, &status);
  if (U_FAILURE(status) || info.errors != 0 || n <= 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> canonical_url(std::string_view url) {
  return canonical_url(url, default_tracking_params());
}

std::optional<std::string> canonical_url(std::string_view url,
                                         const std::vector<std::string>& tracking_params) {
  const std::string u = clean(url);
  if (scheme_length(u) == 0) return std::nullopt;
  CurluPtr handle = parse_absolute(u);
  if (!handle) return std::nullopt;
  CURLU* h = handle.get();

  if (std::optional<std::string> host = get_part(h, CURLUPART_HOST)) {
    std::optional<std::string> ascii = host_to_ascii(*host);
    if (!ascii) return std::nullopt;
    if (curl_url_set(h, CURLUPART_HOST, ascii->c_str(), 0) != CURLUE_OK) return std::nullopt;
  }
  if (curl_url_set(h, CURLUPART_FRAGMENT, nullptr, 0) != CURLUE_OK) return std::nullopt;
  if (std::optional<std::string> path = get_part(h, CURLUPART_PATH)) {
    const std::string normalised = normalise_escapes(*path);
    if (curl_url_set(h, CURLUPART_PATH, normalised.c_str(), 0) != CURLUE_OK) return std::nullopt;
  }
  if (std::optional<std::string> query = get_part(h, CURLUPART_QUERY)) {
    std::string kept;
    std::string_view rest = *query;
    while (!rest.empty()) {
      const std::size_t amp = rest.find('&');
      const std::string_view param = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      if (param.empty() || is_tracking_param(param, tracking_params)) continue;
      if (!kept.empty()) kept.push_back('&');
      kept.append(normalise_escapes(param));
    }
    if (curl_url_set(h, CURLUPART_QUERY, kept.empty() ? nullptr : kept.c_str(), 0) != CURLUE_OK) {
      return std::nullopt;
    }
  }
  std::optional<std::string> out = get_part(h, CURLUPART_URL, CURLU_NO_DEFAULT_PORT);
  if (out) {
    // RFC 3986 section 6.2.2.1: percent-escapes in upper case (libcurl lower-cases
    // the ones in parts that were set back).
    for (std::size_t i = 0; i + 2 < out->size(); ++i) {
      if ((*out)[i] == '%' && hex_value((*out)[i + 1]) >= 0 && hex_value((*out)[i + 2]) >= 0) {
        (*out)[i + 1] = static_cast<char>(std::toupper(static_cast<unsigned char>((*out)[i + 1])));
        (*out)[i + 2] = static_cast<char>(std::toupper(static_cast<unsigned char>((*out)[i + 2])));
        i += 2;
      }
    }
  }
  return valid_or_none(std::move(out));
}

bool is_dangerous_url(std::string_view url) {
  std::string scheme;
  bool started = false;
  bool colon = false;
  for (char c : url) {
    const auto byte = static_cast<unsigned char>(c);
    if (!started && byte <= 0x20) continue;  // leading controls and spaces
    started = true;
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (c == ':') {
      colon = true;
      break;
    }
    if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '+' && c != '-' && c != '.') return false;
    scheme.push_back(ascii_lower(c));
    if (scheme.size() > 16) return false;
  }
  static constexpr std::array<std::string_view, 5> kDangerous = {"javascript", "vbscript", "data",
                                                                 "livescript", "mocha"};
  for (std::string_view name : kDangerous) {
    if (colon && scheme == name) return true;
  }
  return false;
}

}  // namespace postwire::normalise
