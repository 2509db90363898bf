#include "support/mock_broker.hpp"

#include <stdexcept>

namespace postwire::testing {

MockBroker::MockBroker() : MockBroker(Options{}) {}

MockBroker::MockBroker(const Options& options) {
  std::string topics;
  for (const auto& topic : options.topics) {
    if (!topics.empty()) topics += ',';
    topics += topic;
  }
  process_ = std::make_unique<Subprocess>(
      std::vector<std::string>{POSTWIRE_MOCK_KAFKA, "--brokers", std::to_string(options.brokers),
                               "--partitions", std::to_string(options.partitions), "--topics", topics});
  auto line = process_->read_line_stdout(std::chrono::seconds(30));
  if (!line || line->empty()) {
    process_->kill();
    throw std::runtime_error("postwire-mock-kafka printed no bootstrap line within 30s; stderr:\n" +
                             process_->stderr_text());
  }
  bootstrap_ = *line;
}

MockBroker::~MockBroker() {
  if (!process_) return;
  process_->close_stdin();
  if (!process_->wait(std::chrono::seconds(20))) process_->kill();
}

void MockBroker::command(const std::string& line) {
  if (!process_->write_stdin(line + "\n")) {
    throw std::runtime_error("postwire-mock-kafka is gone; stderr:\n" + process_->stderr_text());
  }
  auto answer = process_->read_line_stdout(std::chrono::seconds(30));
  if (!answer || *answer != "ok") {
    throw std::runtime_error("postwire-mock-kafka did not accept '" + line + "': " +
                             answer.value_or("<no answer>") + "; stderr:\n" + process_->stderr_text());
  }
}

void MockBroker::broker_down(int id) { command("down " + std::to_string(id)); }
void MockBroker::broker_up(int id) { command("up " + std::to_string(id)); }

}  // namespace postwire::testing
