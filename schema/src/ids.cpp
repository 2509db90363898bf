#include "postwire/schema/ids.hpp"

#include "postwire/schema/ascii_scan.hpp"

#include <openssl/evp.h>

#include <array>
#include <memory>

namespace postwire {
namespace {

constexpr char kUnitSeparator = '\x1f';

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0x0f];
  }
  return out;
}

std::string prefixed_id(std::string_view prefix, std::string_view kind, std::string_view a,
                        std::string_view b) {
  std::string material;
  material.reserve(kind.size() + a.size() + b.size() + 2);
  material.append(kind).push_back(kUnitSeparator);
  material.append(a).push_back(kUnitSeparator);
  material.append(b);
  std::string out(prefix);
  out += sha256_hex(material).substr(0, 32);
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Trim and collapse ASCII white space runs to one space. Words are appended whole,
// and a single ' ' between two words stays inside the run (the common case).
void append_collapsed(std::string& out, std::string_view text) {
  const char* p = text.data();
  const char* const end = p + text.size();
  bool pending_space = false;
  while (p < end) {
    if (is_space(*p)) {
      pending_space = true;
      ++p;
      continue;
    }
    const char* q = p + 1;
    while (q < end) {
      q = skip_plain_words(q, end);
      if (q >= end) break;
      if (!is_space(*q)) {
        ++q;
      } else if (*q == ' ' && end - q > 1 && !is_space(q[1])) {
        q += 2;
      } else {
        break;
      }
    }
    if (pending_space && !out.empty() && out.back() != '\n') out.push_back(' ');
    pending_space = false;
    out.append(p, static_cast<std::size_t>(q - p));
    p = q;
  }
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  // Fetched once: OpenSSL 3 otherwise looks the algorithm up on every call,
  // which cost more than hashing a typical post. The context is kept per thread
  // too (EVP_Digest makes and frees one per call); a failure falls back to it.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct CtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
  };
  thread_local const std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), md.data(), &len) != 1) {
    EVP_Digest(data.data(), data.size(), md.data(), &len, sha256, nullptr);
  }
  return hex(md.data(), len);
}

std::string make_post_id(std::string_view source_id, std::string_view native_id) {
  return prefixed_id("p_", "post", source_id, native_id);
}

std::string make_comment_id(std::string_view source_id, std::string_view native_id) {
  return prefixed_id("c_", "comment", source_id, native_id);
}

std::string make_content_hash(std::string_view title, std::string_view text) {
  std::string material;
  material.reserve(title.size() + text.size() + 1);
  append_collapsed(material, title);
  material.push_back('\n');
  append_collapsed(material, text);
  return "sha256:" + sha256_hex(material);
}

void finalize_post(std::string_view source_id, PostData& post) {
  post.id = make_post_id(source_id, post.native_id);
  post.content_hash = make_content_hash(post.title.value_or(""), post.content_text.value_or(""));
}

void finalize_comment(std::string_view source_id, CommentData& comment) {
  comment.id = make_comment_id(source_id, comment.native_id);
  comment.content_hash = make_content_hash("", comment.content_text.value_or(""));
}

std::string make_event_id(const Event& event) {
  std::string material(event.item_id());
  material.push_back(kUnitSeparator);
  material += std::to_string(event.version);
  material.push_back(kUnitSeparator);
  material += to_string(event.event_type);
  material.push_back(kUnitSeparator);
  material += event.content_hash();
  return "e_" + sha256_hex(material).substr(0, 32);
}

}  // namespace postwire
