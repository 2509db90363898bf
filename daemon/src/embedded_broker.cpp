#include "postwire/daemon/embedded_broker.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <array>

namespace postwire {

struct EmbeddedBroker::Handles {
  rd_kafka_t* host = nullptr;  // the mock cluster needs a client instance to live in
  rd_kafka_mock_cluster_t* cluster = nullptr;
  ~Handles() {
    if (cluster != nullptr) rd_kafka_mock_cluster_destroy(cluster);
    if (host != nullptr) rd_kafka_destroy(host);
  }
};

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::start(const Options& options) {
  std::array<char, 512> errstr{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The host client never talks to anyone; keep it quiet.
  rd_kafka_conf_set(conf, "log_level", "3", errstr.data(), errstr.size());
  std::unique_ptr<EmbeddedBroker> broker(new EmbeddedBroker());
  broker->handles_ = std::make_unique<Handles>();
  broker->handles_->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr.data(), errstr.size());
  if (broker->handles_->host == nullptr) {
    rd_kafka_conf_destroy(conf);
    return make_error(Errc::kafka, std::string("cannot create mock cluster host: ") + errstr.data());
  }
  broker->handles_->cluster = rd_kafka_mock_cluster_new(broker->handles_->host, options.brokers);
  if (broker->handles_->cluster == nullptr) {
    return make_error(Errc::kafka, "cannot start librdkafka mock cluster");
  }
  for (const auto& topic : options.topics) {
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(broker->handles_->cluster, topic.c_str(), options.partitions, 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      return make_error(Errc::kafka, "cannot create topic " + topic + ": " + rd_kafka_err2str(err));
    }
  }
  broker->bootstrap_ = rd_kafka_mock_cluster_bootstraps(broker->handles_->cluster);
  return broker;
}

EmbeddedBroker::~EmbeddedBroker() = default;

void EmbeddedBroker::set_broker_down(int broker_id, bool down) {
  if (down) {
    rd_kafka_mock_broker_set_down(handles_->cluster, broker_id);
  } else {
    rd_kafka_mock_broker_set_up(handles_->cluster, broker_id);
  }
}

}  // namespace postwire
