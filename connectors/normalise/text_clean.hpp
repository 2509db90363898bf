// The last step every text field goes through before it leaves postwire: valid
// UTF-8, no NUL or control characters, Unicode NFC.
#pragma once

#include <string>
#include <string_view>

#include "postwire/schema/utf8.hpp"

namespace postwire::normalise {

// Quality flag: the item contains bytes that were not valid in its encoding; each
// such sequence was replaced with U+FFFD.
inline constexpr std::string_view kInvalidUtf8 = "invalid_utf8";

struct CleanResult {
  bool replaced = false;  // an invalid sequence became U+FFFD, or the text already held U+FFFD
};

// Returns `text` as valid UTF-8 in NFC: each maximal invalid sequence becomes U+FFFD
// (as the WHATWG decoder does), NUL and the other C0 controls except tab and line
// feed are removed (CR and CR LF become LF), C1 controls U+0080-U+009F are read as
// the Windows-1252 characters they stand for in practice (or removed when 1252 has
// none), and so are U+FFFE/U+FFFF. `result.replaced` tells whether the output holds
// a U+FFFD.
std::string clean_text(std::string_view text, CleanResult& result);

// True only when clean_text would return `text` as it is, without setting
// `replaced`: one pass that copies nothing (most fields of a feed need no
// cleaning). False for anything it does not settle by itself (any character NFC
// might change, for one), which leaves the decision to clean_text.
bool is_clean_text(std::string_view text);

// Whether `text` is valid UTF-8 (no overlong forms, surrogates or values past
// U+10FFFF): the one definition, shared with the JSON writer.
using postwire::is_valid_utf8;

// Unicode NFC of valid UTF-8 text (ICU); text whose every character is NFC-inert
// (no combining marks and the like) is returned without calling ICU.
std::string to_nfc(std::string_view text);

// The Windows-1252 reading of the C1 code point (0x80-0x9F), 0 when 1252 leaves it
// undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D).
char32_t windows1252_c1(unsigned char byte);

}  // namespace postwire::normalise
