#include "postwire/daemon/http_fetcher.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace postwire {

namespace asio = boost::asio;

struct HttpFetcher::Transfer {
  explicit Transfer(asio::io_context& io) : done_signal(io, asio::steady_timer::time_point::max()) {}
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;
  bool too_large = false;
  bool done = false;
  CURLcode code = CURLE_OK;
  std::array<char, CURL_ERROR_SIZE> errbuf{};
  asio::steady_timer done_signal;  // cancelled when the transfer completes
};

struct HttpFetcher::Watch {
  Watch(asio::io_context& io, int fd) : descriptor(io, fd) {}
  asio::posix::stream_descriptor descriptor;
  int want = 0;  // CURL_POLL_IN / OUT / INOUT
  bool read_armed = false;
  bool write_armed = false;
  bool removed = false;
};

namespace {

struct GlobalCurl {
  GlobalCurl() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~GlobalCurl() { curl_global_cleanup(); }
};

std::optional<std::string> header_value(CURL* easy, const char* name) {
  curl_header* h = nullptr;
  if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h != nullptr &&
      h->value != nullptr) {
    return std::string(h->value);
  }
  return std::nullopt;
}

std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

Result<Document> read_file_url(const std::string& url, std::size_t max_bytes) {
  if (url.rfind("file://", 0) != 0) return make_error(Errc::invalid_argument, "not a file:// URL: " + url);
  std::string path = percent_decode(std::string_view(url).substr(7));
  if (const auto q = path.find_first_of("?#"); q != std::string::npos) path.resize(q);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return make_error(err == ENOENT ? Errc::not_found : Errc::io, path + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return make_error(Errc::io, path + ": is a directory");
  }
  Document doc;
  doc.final_url = url;
  // Read straight into the body, sized by fstat (plus one byte to see the end
  // without another round); a file that grows meanwhile is still capped.
  std::size_t capacity = std::min<std::size_t>(
      max_bytes + 1, st.st_size > 0 ? static_cast<std::size_t>(st.st_size) + 1 : std::size_t{65536});
  std::size_t used = 0;
  // A regular file with a size reads short only at its end; procfs files say 0
  // and come a page per read(), so they are read until read() returns 0.
  const bool sized = S_ISREG(st.st_mode) && st.st_size > 0;
  const auto expected = static_cast<std::size_t>(std::max<off_t>(st.st_size, 0));
  doc.body.resize(capacity);
  for (;;) {
    if (used == capacity) {
      capacity = std::min(max_bytes + 1, capacity * 2);
      doc.body.resize(capacity);
    }
    const ssize_t n = ::read(fd, doc.body.data() + used, capacity - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return make_error(Errc::io, path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
    if (used > max_bytes) {
      ::close(fd);
      return make_error(Errc::too_large, path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    if (sized && used < capacity && used >= expected) break;  // no read() just to see the end
  }
  ::close(fd);
  doc.body.resize(used);
  return doc;
}

HttpFetcher::HttpFetcher(asio::io_context& io, HttpFetcherOptions options)
    : io_(io), options_(std::move(options)), timer_(io) {
  static GlobalCurl global;
  multi_ = curl_multi_init();
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &HttpFetcher::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &HttpFetcher::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

HttpFetcher::~HttpFetcher() {
  for (auto& [fd, watch] : watches_) {
    watch->removed = true;
    watch->descriptor.release();  // curl owns the socket
  }
  watches_.clear();
  curl_multi_cleanup(multi_);
}

int HttpFetcher::on_socket(void* /*easy*/, int fd, int what, void* self_ptr, void* /*socketp*/) {
  auto* self = static_cast<HttpFetcher*>(self_ptr);
  if (what == CURL_POLL_REMOVE) {
    auto it = self->watches_.find(fd);
    if (it != self->watches_.end()) {
      it->second->removed = true;
      it->second->descriptor.cancel();
      it->second->descriptor.release();
      self->watches_.erase(it);
    }
    return 0;
  }
  auto& watch = self->watches_[fd];
  if (!watch) watch = std::make_shared<Watch>(self->io_, fd);
  watch->want = what;
  self->arm(watch);
  return 0;
}

int HttpFetcher::on_timer(void* /*multi*/, long timeout_ms, void* self_ptr) {
  auto* self = static_cast<HttpFetcher*>(self_ptr);
  self->timer_.cancel();
  if (timeout_ms < 0) return 0;
  // Never call back into curl from inside its own callback: schedule instead.
  self->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  self->timer_.async_wait([self](const boost::system::error_code& ec) {
    if (!ec) self->socket_action(CURL_SOCKET_TIMEOUT, 0);
  });
  return 0;
}

void HttpFetcher::arm(const std::shared_ptr<Watch>& watch) {
  const int fd = watch->descriptor.native_handle();
  if ((watch->want & CURL_POLL_IN) != 0 && !watch->read_armed) {
    watch->read_armed = true;
    watch->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                 [this, watch, fd](const boost::system::error_code& ec) {
                                   watch->read_armed = false;
                                   if (ec || watch->removed) return;
                                   socket_action(fd, CURL_CSELECT_IN);
                                   if (!watch->removed) arm(watch);
                                 });
  }
  if ((watch->want & CURL_POLL_OUT) != 0 && !watch->write_armed) {
    watch->write_armed = true;
    watch->descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                                 [this, watch, fd](const boost::system::error_code& ec) {
                                   watch->write_armed = false;
                                   if (ec || watch->removed) return;
                                   socket_action(fd, CURL_CSELECT_OUT);
                                   if (!watch->removed) arm(watch);
                                 });
  }
}

void HttpFetcher::socket_action(int fd, int events) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, events, &running);
  collect_done();
}

void HttpFetcher::collect_done() {
  int pending = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &pending)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
    curl_multi_remove_handle(multi_, msg->easy_handle);
    if (t != nullptr) {
      t->code = msg->data.result;
      t->done = true;
      t->done_signal.cancel();
    }
  }
}

namespace {

struct CappedBody {
  std::string* body;
  std::size_t max_bytes;
  bool* too_large;
};

std::size_t on_capped_write(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<CappedBody*>(user);
  const std::size_t len = size * n;
  if (sink->body->size() + len > sink->max_bytes) {
    *sink->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  sink->body->append(data, len);
  return len;
}

}  // namespace

asio::awaitable<Result<Document>> HttpFetcher::fetch(FetchRequest request) {
  if (request.url.rfind("file://", 0) == 0) co_return read_file_url(request.url, request.max_bytes);
  if (request.url.rfind("http://", 0) != 0 && request.url.rfind("https://", 0) != 0) {
    co_return make_error(Errc::invalid_argument, "unsupported URL scheme: " + request.url);
  }
  auto t = std::make_shared<Transfer>(io_);
  CappedBody sink{&t->body, request.max_bytes, &t->too_large};
  CURL* easy = curl_easy_init();
  t->easy = easy;
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_capped_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf.data());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, options_.max_redirects);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // every encoding libcurl can decode
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_bytes));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<std::int64_t>(request.timeout.count(), 10000)));
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
  if (request.if_none_match) {
    t->headers = curl_slist_append(t->headers, ("If-None-Match: " + *request.if_none_match).c_str());
  }
  if (request.if_modified_since) {
    t->headers = curl_slist_append(t->headers, ("If-Modified-Since: " + *request.if_modified_since).c_str());
  }
  if (t->headers != nullptr) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);

  // Runs even if the coroutine is destroyed mid-transfer (shutdown).
  struct Cleanup {
    Transfer* t;
    void* multi;
    ~Cleanup() {
      if (!t->done) curl_multi_remove_handle(multi, t->easy);
      curl_easy_cleanup(t->easy);
      curl_slist_free_all(t->headers);
    }
  } cleanup{t.get(), multi_};
  curl_multi_add_handle(multi_, easy);  // curl's timer callback starts the transfer from the loop
  while (!t->done) {
    boost::system::error_code ec;
    co_await t->done_signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  const std::string where = request.url;
  if (t->too_large || t->code == CURLE_FILESIZE_EXCEEDED) {
    co_return make_error(Errc::too_large,
                         where + ": larger than " + std::to_string(request.max_bytes) + " bytes");
  }
  if (t->code != CURLE_OK) {
    const std::string detail =
        t->errbuf[0] != '\0' ? std::string(t->errbuf.data()) : curl_easy_strerror(t->code);
    Errc code = Errc::network;
    if (t->code == CURLE_OPERATION_TIMEDOUT) code = Errc::timeout;
    co_return make_error(code, where + ": " + detail);
  }
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  Document doc;
  doc.status = status;
  char* effective = nullptr;
  curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &effective);
  doc.final_url = effective != nullptr ? effective : request.url;
  char* content_type = nullptr;
  curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type);
  if (content_type != nullptr) doc.content_type = content_type;
  doc.etag = header_value(easy, "ETag");
  doc.last_modified = header_value(easy, "Last-Modified");
  if (status == 304) {
    doc.not_modified = true;
    co_return doc;
  }
  if (status == 404 || status == 410)
    co_return make_error(Errc::not_found, where + ": HTTP " + std::to_string(status));
  if (status < 200 || status >= 300) {
    co_return make_error(Errc::http_status, where + ": HTTP " + std::to_string(status));
  }
  doc.body = std::move(t->body);
  co_return doc;
}

}  // namespace postwire
