#include "feed/feed_connector.hpp"
#include "postwire/connectors/connector.hpp"

namespace postwire {

void register_builtin_connectors(ConnectorRegistry& registry) {
  registry.add(feed::make_feed_connector_factory());
}

}  // namespace postwire
