// A temporary directory that is removed, recursively, when it goes out of scope.
#pragma once

#include <filesystem>
#include <string>

namespace postwire::testing {

class TempDir {
 public:
  // mkdtemp under $TMPDIR (or /tmp); throws std::runtime_error on failure.
  explicit TempDir(const std::string& prefix = "postwire-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  // path() / relative
  std::filesystem::path operator/(const std::string& relative) const { return path_ / relative; }

 private:
  std::filesystem::path path_;
};

// Writes `text` to `path` (creating parent folders), replacing the file
// atomically (write to a sibling, then rename) so a polling reader never sees
// half a file. Throws std::runtime_error on failure.
void write_file(const std::filesystem::path& path, const std::string& text);
// The whole file; throws std::runtime_error if it cannot be read.
std::string read_file(const std::filesystem::path& path);
// "file:///abs/path"
std::string file_url(const std::filesystem::path& path);

}  // namespace postwire::testing
