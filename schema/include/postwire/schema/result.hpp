// Errors as values on the data path: every fallible stage returns Result<T>.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace postwire {

// Error codes shared across modules. Each names a reason that also appears in a
// log line and in the `reason` label of an error metric, so keep them short.
enum class Errc {
  ok = 0,
  invalid_argument,
  io,           // local file could not be read
  not_found,    // file or HTTP 404/410
  network,      // connect, DNS, TLS, reset
  timeout,      // fetch exceeded its deadline
  http_status,  // non-2xx other than 404/410
  too_large,    // document exceeded a size cap
  parse,        // document is not a feed we can read
  unsupported,  // known format we do not handle (yet)
  encoding,     // bytes that are not text in any charset we know
  storage,      // state store failure
  kafka,        // producer failure
  config,       // configuration error
  cancelled,    // shutdown in progress
};

const char* errc_name(Errc code) noexcept;

struct Error {
  Errc code = Errc::ok;
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT(google-explicit-constructor)
  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const& { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace postwire
