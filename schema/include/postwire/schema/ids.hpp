// Stable identifiers and content fingerprints. The rules are part of the event
// contract (docs/events.md): the same input gives the same id on every run and
// every machine, so never change them without bumping the schema version.
#pragma once

#include <string>
#include <string_view>

#include "postwire/schema/event.hpp"

namespace postwire {

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// "p_" + 32 hex chars: first 128 bits of SHA-256("post" US source_id US native_id).
std::string make_post_id(std::string_view source_id, std::string_view native_id);
// "c_" + 32 hex chars: first 128 bits of SHA-256("comment" US source_id US native_id).
std::string make_comment_id(std::string_view source_id, std::string_view native_id);

// "sha256:<hex>" of the normalised title and text: white space runs collapse to one
// space and the ends are trimmed, so re-flowed or re-indented content is not an edit.
std::string make_content_hash(std::string_view title, std::string_view text);

// Fills post.id and post.content_hash from native_id, title and content_text.
void finalize_post(std::string_view source_id, PostData& post);
// Fills comment.id and comment.content_hash; post_id must already be set.
void finalize_comment(std::string_view source_id, CommentData& comment);

// Deterministic event id: the same logical event (item, version, content) gets the
// same id after a crash and replay, which is what consumers deduplicate on.
std::string make_event_id(const Event& event);

}  // namespace postwire
